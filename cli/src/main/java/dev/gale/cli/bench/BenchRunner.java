package dev.gale.cli.bench;

import dev.gale.ir.GaleException;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the comparisons of {@code gale bench}, one model and batch at a time, each side in a fresh process:
 * <ul>
 *   <li>forward: Gale's backend against ONNX Runtime in one {@link ForwardWorker};</li>
 *   <li>train and memory: a {@link TrainWorker} against scripts/bench_pytorch.py, then each one's peak RSS.</li>
 * </ul>
 * Each side warms up for at least {@code warmupSeconds} and {@code warmup} blocks and until its steps stop getting
 * faster (Gale's JIT compiles its hot loops then; the peers get the same rule), which also calibrates a block: as many steps back to back as last about
 * {@code runMillis}. A timed run is one such block, and its value is the block's median step, so a sub-millisecond
 * step is not measured alone, cold, after a pause. The timed runs alternate between the sides one block at a time
 * (the order flipping every run), with a pause at each switch long enough for the other side's spinning thread pool
 * (OpenBLAS spins about 0.1 s after a call) to go to sleep. Run {@code i} of both sides thus sees nearly the same
 * machine, and the ratio of the pair is what is summarized: absolute times drift on a shared machine, ratios taken
 * this way much less.
 */
final class BenchRunner {
    record Settings(List<String> models, int threads, int runs, int warmup, String backend, Path modelsDir,
                    double warmupSeconds, double runMillis) {}

    private static final long SETTLE_MS = 250;
    /** The most steps in one block, whatever the calibration says. */
    private static final int MAX_BLOCK = 100_000;
    /** The longest warmup per side, in seconds, when the steps keep getting faster. */
    private static final double MAX_WARMUP_S = 40;
    /**
     * The most JIT compilation time (ms, all compiler threads) a block may cause and still end the warmup: a C2
     * compile of a kernel loop takes tens to hundreds of ms, the odd small method a few.
     */
    static final long JIT_QUIET_MS = 25;

    /** A step this long (seconds) or longer waits in its warmup for its allocation too (see {@link #warm}). */
    static final double SLOW_STEP_S = 0.01;

    private final Settings settings;
    private final BenchEnvironment env;
    private final PrintWriter out;
    private final PrintWriter err;
    private final Map<String, Object> peers = new LinkedHashMap<>();
    private final Map<String, List<Double>> roundTrips = new LinkedHashMap<>();

    BenchRunner(Settings settings, BenchEnvironment env, PrintWriter out, PrintWriter err) {
        this.settings = settings;
        this.env = env;
        this.out = out;
        this.err = err;
    }

    /** What the peers reported about their setup (versions, threads, BLAS, allocator). */
    Map<String, Object> peers() { return peers; }

    List<BenchResult> run() {
        env.export(settings.modelsDir(), settings.models(), err);
        List<BenchResult> results = new ArrayList<>();
        for (String name : settings.models()) {
            BenchModel model = BenchModel.load(settings.modelsDir().resolve(name));
            double before = settings.threads() > 1 ? CoreRoundTrip.nanos() : Double.NaN;
            for (int batch : model.batches()) {
                results.add(report(forward(model, batch)));
                if (model.trains()) for (BenchResult r : train(model, batch)) results.add(report(r));
            }
            if (!Double.isNaN(before)) {
                double after = CoreRoundTrip.nanos();
                roundTrips.put(name, List.of(before, after));
                out.printf("cores   %-12s two threads' cache-line round trip %.0f ns before, %.0f ns after (about 30: "
                        + "one core's two hardware threads, which share its units; about 70: two cores sharing a cache; "
                        + "300 or more: no shared cache, e.g. vCPUs on different dies; the last and first slow every "
                        + "parallel side)%n", name, before, after);
                out.flush();
            }
        }
        return results;
    }

    /** Per model, two threads' cache-line round trip in ns before and after its runs ({@link CoreRoundTrip}). */
    Map<String, List<Double>> roundTrips() { return roundTrips; }

    private BenchResult report(BenchResult r) {
        out.println(r.line());
        out.flush();
        return r;
    }

    private BenchResult forward(BenchModel model, int batch) {
        List<String> args = List.of(model.inferModel().toString(), model.data(batch).toString(),
                String.join(",", model.inputs()), Integer.toString(settings.threads()), settings.backend());
        try (WorkerProcess w = env.javaWorker("forward", ForwardWorker.class, args)) {
            Map<String, String> info = w.info();
            if (info.containsKey("ort_version") && !peers.containsKey("onnxruntime")) {
                Map<String, Object> setup = new LinkedHashMap<>();
                setup.put("version", info.get("ort_version"));
                setup.put("intra_op_threads", settings.threads());
                setup.put("execution", "sequential");
                setup.put("graph_optimization", "all");
                peers.put("onnxruntime", setup);
            }
            if (info.containsKey("gale_error"))
                return BenchResult.failed("forward", model.name(), batch, "onnxruntime", "Gale cannot run "
                        + model.inferModel().getFileName() + " (" + model.description() + "): " + info.get("gale_error"));
            if (info.containsKey("ort_error"))
                return BenchResult.failed("forward", model.name(), batch, "onnxruntime", info.get("ort_error"));
            Paired t = paired(w, "gale", w, "ort");
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("description", model.description());
            details.put("max_abs_diff", Double.parseDouble(info.getOrDefault("max_abs_diff", "NaN")));
            details.put("gale_io", info.getOrDefault("gale_io", "copied"));
            if (t.allocA() >= 0) details.put(BenchResult.GALE_ALLOC, t.allocA());
            return new BenchResult("forward", model.name(), batch, "onnxruntime", Stats.of(t.a()), Stats.of(t.b()),
                    Stats.ratios(t.a(), t.b()), details, null);
        } catch (GaleException e) {
            return BenchResult.failed("forward", model.name(), batch, "onnxruntime", e.getMessage());
        }
    }

    private List<BenchResult> train(BenchModel model, int batch) {
        List<String> args = List.of(model.trainModel().toString(), model.data(batch).toString(),
                String.join(",", model.inputs()), model.loss(), Integer.toString(batch), settings.backend());
        try (WorkerProcess gale = env.javaWorker("gale-train", TrainWorker.class, args);
             WorkerProcess torch = env.pytorchWorker(model.folder(), batch)) {
            Map<String, String> ti = torch.info();
            if (!peers.containsKey("pytorch")) {
                Map<String, String> setup = new LinkedHashMap<>(ti);
                setup.remove("rss_kb");
                peers.put("pytorch", setup);
            }
            if (ti.containsKey("warning") && !peers.containsKey("pytorch_warned")) {
                peers.put("pytorch_warned", true);
                err.println("gale bench: warning: " + ti.get("warning"));
                err.flush();
            }
            Paired t = paired(gale, "step", torch, "step");
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("description", model.description());
            details.put("optimizer", "adam lr 1e-3");
            details.put("loss", model.loss());
            if (t.allocA() >= 0) details.put(BenchResult.GALE_ALLOC, t.allocA());
            // a peer without its best setup (reference BLAS: 20x slower) makes every ratio against it a flattery
            if (ti.containsKey("warning")) details.put(BenchResult.PEER_WARNING, ti.get("warning"));
            BenchResult time = new BenchResult("train", model.name(), batch, "pytorch", Stats.of(t.a()),
                    Stats.of(t.b()), Stats.ratios(t.a(), t.b()), details, null);
            long[] gm = gale.memory();
            long[] tm = torch.memory();
            Map<String, Object> mem = new LinkedHashMap<>();
            if (ti.containsKey("warning")) mem.put(BenchResult.PEER_WARNING, ti.get("warning"));
            mem.put("measure", "VmHWM of the training process after " + (settings.warmup() + settings.runs()) + " steps");
            mem.put("gale_max_heap_mib", Long.parseLong(gale.info().getOrDefault("max_heap_mib", "-1")));
            mem.put("gale_rss_at_start_mib", mib(Long.parseLong(gale.info().getOrDefault("rss_kb", "-1"))));
            mem.put("peer_rss_at_start_mib", mib(Long.parseLong(ti.getOrDefault("rss_kb", "-1"))));
            double g = mib(gm[0]), p = mib(tm[0]);
            BenchResult memory = new BenchResult("memory", model.name(), batch, "pytorch", Stats.of(new double[] {g}),
                    Stats.of(new double[] {p}), Stats.of(new double[] {g / p}), mem, null);
            return List.of(time, memory);
        } catch (GaleException e) {
            return List.of(BenchResult.failed("train", model.name(), batch, "pytorch", e.getMessage()));
        }
    }

    private static double mib(long kb) { return kb < 0 ? Double.NaN : kb / 1024.0; }

    /**
     * The timed blocks of two sides: the median step of each, and the most heap bytes per step the first side's worker
     * allocated in one of them (-1 where it does not say; the peers do not).
     */
    record Paired(double[] a, double[] b, long allocA) {}

    /** Warmup on each side, then blocks alternating between the sides. */
    private Paired paired(WorkerProcess a, String cmdA, WorkerProcess b, String cmdB) {
        int runs = settings.runs();
        int blockA = warm(a, cmdA);
        settle();
        int blockB = warm(b, cmdB);
        settle();
        double[] ta = new double[runs], tb = new double[runs];
        long allocA = -1;
        for (int i = 0; i < runs; i++) {
            if (i % 2 == 0) {
                ta[i] = block(a, cmdA, blockA);
                allocA = Math.max(allocA, a.allocatedPerRun());
                settle();
                tb[i] = block(b, cmdB, blockB);
            } else {
                tb[i] = block(b, cmdB, blockB);
                settle();
                ta[i] = block(a, cmdA, blockA);
                allocA = Math.max(allocA, a.allocatedPerRun());
            }
            settle();
        }
        return new Paired(ta, tb, allocA);
    }

    /**
     * Untimed blocks until {@code warmup} blocks and {@code warmupSeconds} of steps have run, the steps have
     * stopped getting faster (the best of the last three blocks is within 3% of the best before them) and, for a JVM
     * worker, the last block made its JIT compile for at most {@link #JIT_QUIET_MS}; or until {@link #MAX_WARMUP_S}
     * has passed. The block doubles while it is shorter than a timed run should be. Returns the steps per timed
     * block. Steady times alone can end the warmup of a worker whose kernels are still being compiled one after the
     * other, each block a little faster than the last (MiniLM's forward worker did, with a class per layer). So can
     * a quiet JIT where a step takes {@link #SLOW_STEP_S} or more: the kernels such a step calls a few times reach
     * C2's invocation threshold only after hundreds of steps and meanwhile run in C1, where every vector operation
     * allocates; there the last block must also have allocated at most {@link BenchResult#BOXED_BYTES} a run
     * (ResNet-18's training worker ended its warmup at 850 KB a step; driven directly it fell to 105 KB over 1,200
     * steps). Not for fast steps, whose kernels reach C2 within seconds: the condition made the smoke test's warmups,
     * blocks of a few 1 ms steps, last the whole cap.
     */
    private int warm(WorkerProcess w, String cmd) {
        double spent = 0, perStep = 0;
        List<Double> history = new ArrayList<>();
        int n = 1;
        long jitBefore = -1;
        for (int blocks = 0; ; blocks++) {
            double[] t = w.times(cmd, n);
            double total = 0;
            for (double x : t) total += x;
            spent += total;
            perStep = total / n;
            history.add(perStep);
            long jit = w.jitMillis();
            boolean jitQuiet = jitQuiet(jitBefore, jit);
            jitBefore = jit;
            boolean compiled = compiled(perStep, w.allocatedPerRun());
            boolean settled = blocks + 1 >= settings.warmup() && spent >= settings.warmupSeconds()
                    && (steady(history) && jitQuiet && compiled
                        || spent >= Math.max(MAX_WARMUP_S, settings.warmupSeconds()));
            if (settled) break;
            if (total < settings.runMillis() / 1e3 && n < MAX_BLOCK) n = Math.min(MAX_BLOCK, n * 2);
        }
        return (int) Math.max(1, Math.min(MAX_BLOCK, Math.round(settings.runMillis() / 1e3 / Math.max(perStep, 1e-9))));
    }

    /**
     * Whether a block's vector code looks compiled for the warmup's purpose: its step is fast (under
     * {@link #SLOW_STEP_S}), or it allocated at most {@link BenchResult#BOXED_BYTES} a run (-1: not said).
     */
    static boolean compiled(double perStep, long allocatedPerRun) {
        return perStep < SLOW_STEP_S || allocatedPerRun <= BenchResult.BOXED_BYTES;
    }

    /**
     * Whether a block compiled little: its worker's JIT time grew by at most {@link #JIT_QUIET_MS} over it (true for a
     * worker that does not report its JIT, and for the first block, which has nothing to compare with).
     */
    static boolean jitQuiet(long before, long after) { return before < 0 || after < 0 || after - before <= JIT_QUIET_MS; }

    /** The best of the last three blocks is no more than 3% faster than the best before them. */
    static boolean steady(List<Double> perStep) {
        int k = perStep.size();
        if (k < 4) return false;
        double recent = Double.MAX_VALUE, before = Double.MAX_VALUE;
        for (int i = 0; i < k; i++) {
            if (i >= k - 3) recent = Math.min(recent, perStep.get(i));
            else before = Math.min(before, perStep.get(i));
        }
        return recent >= 0.97 * before;
    }

    /**
     * One timed block of {@code n} steps: its median step. The median rather than the mean leaves out a side's
     * occasional stalls (PyTorch here shows single steps of ~100 ms among ~1 ms ones, from its allocator or thread
     * pool), which favours whichever side has them; the warmup's calibration uses the mean.
     */
    private static double block(WorkerProcess w, String cmd, int n) {
        double[] t = w.times(cmd, n);
        java.util.Arrays.sort(t);
        return t.length % 2 == 1 ? t[t.length / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    }

    private static void settle() {
        try {
            Thread.sleep(SETTLE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GaleException("interrupted");
        }
    }
}
