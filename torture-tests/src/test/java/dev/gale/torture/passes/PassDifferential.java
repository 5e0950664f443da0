package dev.gale.torture.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.cli.conformance.Allclose;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.LowerGradientOps;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.torture.ConformanceModels;
import dev.gale.torture.PyTorchModelsTest;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential testing of passes (PASSES_BRIEF: every pass must preserve semantics): runs a model through the
 * reference interpreter before and after a pipeline and compares the outputs, {@code rtol 1e-5, atol 1e-6} for
 * floats and exactly for integers, booleans and strings.
 *
 * <p>The corpus: every ONNX {@code node} conformance model (fed its {@code test_data_set_0} inputs), the PyTorch MLP,
 * CNN and transformer of {@code torture-tests/src/test/resources/models}, their training graphs
 * ({@link TrainingProgram}, cross-entropy, labels {@code i mod 10}), and seeded random graphs ({@link RandomGraphs}). A model the interpreter cannot run before the
 * pipeline (unsupported op, its own bug) or one using random ops is skipped, not compared; a pipeline that throws on
 * a model the interpreter runs, or whose result the interpreter cannot run, is a mismatch.
 *
 * <p>Typical use in a pass's test:
 * <pre>{@code
 * PassDifferential.check(PassRegistry.parse("fold,dce")).assertNoMismatches();
 * }</pre>
 * {@code -Dgale.diff.filter=REGEX} restricts the corpus to models whose name matches (to debug one).
 */
public final class PassDifferential {
    public static final double RTOL = 1e-5, ATOL = 1e-6;
    /** Ops whose outputs are not a function of the inputs: two runs need not agree. */
    static final Set<String> RANDOM_OPS = Set.of("RandomUniform", "RandomNormal", "RandomUniformLike",
            "RandomNormalLike", "Bernoulli", "Multinomial", "Dropout");
    private static final long TIMEOUT_SECONDS = 120;

    private PassDifferential() {}

    /** One model of the corpus: a name, the model (Gradient nodes lowered) and the inputs to feed. */
    public record Subject(String name, Model model, Map<String, Object> feeds) {}

    public record Mismatch(String subject, String message) {
        @Override
        public String toString() { return subject + ": " + message; }
    }

    /** What a run over the corpus found. {@code skipped} maps subject to why it was not compared. */
    public record Report(String pipeline, int compared, Map<String, String> skipped, List<Mismatch> mismatches) {
        public String summary() {
            return "[" + pipeline + "] " + compared + " compared, " + mismatches.size() + " mismatches, "
                    + skipped.size() + " skipped";
        }

        /** Fails listing the first mismatches (all are printed; skipped ones too with -Dgale.diff.verbose=true). */
        public void assertNoMismatches() {
            System.out.println("pass differential " + summary());
            if (Boolean.getBoolean("gale.diff.verbose")) skipped.forEach((k, v) -> System.out.println("  skipped " + k + ": " + v));
            if (mismatches.isEmpty()) return;
            mismatches.forEach(m -> System.out.println("  MISMATCH " + m));
            StringBuilder sb = new StringBuilder(summary()).append(':');
            mismatches.stream().limit(10).forEach(m -> sb.append("\n  ").append(m));
            if (mismatches.size() > 10) sb.append("\n  ... (").append(mismatches.size() - 10).append(" more)");
            fail(sb.toString());
        }
    }

    /** Where one subject of the corpus comes from; loading it may fail (an import error: the subject is skipped). */
    public record Source(String name, Callable<Subject> load) {}

    public static Report check(Pass pass) { return check(new Pipeline(List.of(pass))); }

    public static Report check(Pipeline pipeline) { return check(pipeline, Map.of()); }

    /** Runs the pipeline (with verification, and the given pass options) over the whole corpus. */
    public static Report check(Pipeline pipeline, Map<String, String> options) {
        return check(pipeline, options, corpus());
    }

    /**
     * The whole corpus: the node conformance models, the PyTorch models and their training graphs, and
     * {@value #RANDOM_GRAPHS} random graphs ({@link RandomGraphs}).
     */
    public static List<Source> corpus() {
        List<Path> dirs = new ArrayList<>(conformanceModels());
        dirs.addAll(pytorchModels());
        List<Source> all = new ArrayList<>(testFolders(dirs, true));
        all.addAll(randomGraphs(RANDOM_GRAPHS, 1));
        return all;
    }

    static final int RANDOM_GRAPHS = 300;

    /**
     * Test folders (model.onnx + test_data_set_0), each twice: inputs fed at run time, and inputs baked in as
     * initializers (so folding can evaluate the whole model at compile time); with {@code training}, the PyTorch
     * models' training steps too.
     */
    public static List<Source> testFolders(List<Path> dirs, boolean training) {
        List<Source> r = new ArrayList<>();
        for (Path dir : dirs) {
            r.add(new Source(nameOf(dir), () -> subject(dir)));
            r.add(new Source(nameOf(dir) + "/baked", () -> baked(subject(dir))));
            if (training && isPyTorchModel(dir)) r.add(new Source(nameOf(dir) + "/train", () -> trainingSubject(dir)));
        }
        return r;
    }

    public static List<Source> randomGraphs(int count, long seed) {
        List<Source> r = new ArrayList<>();
        for (long s = seed; s < seed + count; s++) {
            long fs = s;
            r.add(new Source("random/" + s, () -> RandomGraphs.subject(fs)));
        }
        return r;
    }

    /** Runs the pipeline over the given test folders, and the training graphs of PyTorch models if asked. */
    public static Report check(Pipeline pipeline, Map<String, String> options, List<Path> dirs, boolean training) {
        return check(pipeline, options, testFolders(dirs, training));
    }

    /** Runs the pipeline over the given subjects, each with a time limit. */
    public static Report check(Pipeline pipeline, Map<String, String> options, List<Source> sources) {
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Mismatch> mismatches = new ArrayList<>();
        int compared = 0;
        ExecutorService pool = newPool();
        try {
            for (Source src : sources) {
                if (!matchesFilter(src.name())) continue;
                Future<Outcome> f = pool.submit(() -> {
                    Subject s;
                    try {
                        s = src.load().call();
                    } catch (RuntimeException e) { // import error, missing gradient rule, ...
                        return new Outcome(null, "cannot be loaded: " + e.getMessage());
                    }
                    return compare(s, pipeline, options);
                });
                Outcome o;
                try {
                    o = f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    pool.shutdownNow();
                    pool = newPool();
                    o = new Outcome(null, "timed out after " + TIMEOUT_SECONDS + " s");
                } catch (ExecutionException e) {
                    o = new Outcome("crashed: " + e.getCause(), null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                if (o.skipped() != null) skipped.put(src.name(), o.skipped());
                else if (o.mismatch() != null) mismatches.add(new Mismatch(src.name(), o.mismatch()));
                else compared++;
            }
        } finally {
            pool.shutdownNow();
        }
        return new Report(pipeline.toString(), compared, skipped, mismatches);
    }

    /** Either {@code mismatch} (a bug), {@code skipped} (not comparable) or neither (the outputs agree). */
    public record Outcome(String mismatch, String skipped) {
        static final Outcome SAME = new Outcome(null, null);
    }

    /** Runs one subject before and after the pipeline. */
    public static Outcome compare(Subject s, Pipeline pipeline, Map<String, String> options) {
        Model before = s.model();
        if (usesRandomOps(before.graph())) return new Outcome(null, "uses random ops");
        List<Object> expected;
        try {
            expected = Interpreter.run(before, s.feeds());
        } catch (RuntimeException | StackOverflowError e) {
            return new Outcome(null, "the interpreter cannot run it before the pipeline: " + e.getMessage());
        }
        Model after;
        try {
            after = before.withGraph(pipeline.run(before.graph(), new PassContext(withDims(options, s)), true, null)
                    .graph());
        } catch (RuntimeException | StackOverflowError e) {
            return new Outcome("the pipeline failed: " + e, null);
        }
        return compareRuns(before.graph(), expected, after, s.feeds());
    }

    /**
     * The options plus {@code dim.NAME = size} for every symbolic input dimension, read off the fed tensors, so
     * passes that need sizes (memory planning) see the sizes this run has. Options given explicitly win.
     */
    static Map<String, String> withDims(Map<String, String> options, Subject s) {
        Map<String, String> o = new HashMap<>(options);
        for (Value v : s.model().graph().runtimeInputs()) {
            if (!(v.type() instanceof Type.TensorType t) || t.shape() == null) continue;
            if (!(s.feeds().get(v.name()) instanceof Tensor fed) || fed.rank() != t.shape().rank()) continue;
            for (int k = 0; k < fed.rank(); k++)
                if (t.shape().dim(k) instanceof dev.gale.ir.Dim.Sym sym)
                    o.putIfAbsent("dim." + sym.name(), Long.toString(fed.dim(k)));
        }
        return o;
    }

    /** Compares {@code expected} (outputs of {@code before}) with a run of {@code after} on the same feeds. */
    static Outcome compareRuns(Graph before, List<Object> expected, Model after, Map<String, Object> feeds) {
        List<Object> actual;
        try {
            actual = Interpreter.run(after, feeds);
        } catch (RuntimeException | StackOverflowError e) {
            return new Outcome("the interpreter cannot run the result: " + e, null);
        }
        if (actual.size() != expected.size())
            return new Outcome(actual.size() + " outputs after the pipeline, " + expected.size() + " before", null);
        for (int k = 0; k < expected.size(); k++) {
            String m = expected.get(k) == null ? (actual.get(k) == null ? null : "an output that was absent")
                    : Allclose.compare(expected.get(k), actual.get(k), RTOL, ATOL);
            if (m != null) return new Outcome("output " + k + " ('" + before.outputs().get(k).name() + "'): " + m, null);
        }
        return Outcome.SAME;
    }

    /**
     * Compares two graphs on seeded random inputs (for golden cases and random graphs): null when they agree or the
     * comparison does not apply (a non-tensor or non-static input, random ops, or {@code before} does not run),
     * else what differs.
     */
    public static String compareOnRandomInputs(Model before, Model after, long seed) {
        if (usesRandomOps(before.graph())) return null;
        Map<String, Object> feeds = randomFeeds(before.graph(), seed);
        if (feeds == null) return null;
        List<Object> expected;
        try {
            expected = Interpreter.run(before, feeds);
        } catch (RuntimeException | StackOverflowError e) {
            return null;
        }
        return compareRuns(before.graph(), expected, after, feeds).mismatch();
    }

    /**
     * Random inputs for every runtime input of static shape: floats uniform in [-2, 2), integers in [0, 3),
     * booleans fair coins. Null when some input is not a statically shaped tensor.
     */
    public static Map<String, Object> randomFeeds(Graph g, long seed) {
        Random rnd = new Random(seed);
        Map<String, Object> feeds = new HashMap<>();
        for (Value v : g.runtimeInputs()) {
            if (!(v.type() instanceof Type.TensorType t) || t.shape() == null || !t.shape().isStatic()) return null;
            Tensor x = Tensor.zeros(t.dtype(), t.shape().sizes());
            for (int i = 0; i < x.numel(); i++) {
                if (t.dtype().isFloat()) x.setDouble(i, rnd.nextDouble() * 4 - 2);
                else if (t.dtype() == DType.BOOL) x.setLong(i, rnd.nextBoolean() ? 1 : 0);
                else if (t.dtype().isInteger()) x.setLong(i, rnd.nextInt(3));
                else return null;
            }
            feeds.put(v.name(), x);
        }
        return feeds;
    }

    static boolean usesRandomOps(Graph g) {
        for (Node n : g.nodes()) {
            if (RANDOM_OPS.contains(n.op())) return true;
            for (var a : n.attrs().values()) {
                if (a instanceof dev.gale.ir.Attr.GraphAttr ga && usesRandomOps(ga.value())) return true;
                if (a instanceof dev.gale.ir.Attr.GraphsAttr gs && gs.values().stream().anyMatch(PassDifferential::usesRandomOps))
                    return true;
            }
        }
        return false;
    }

    /** The node conformance test folders, sorted. Empty when the suite is not installed. */
    public static List<Path> conformanceModels() {
        Path node = ConformanceModels.NODE;
        return Files.isDirectory(node) ? ConformanceModels.tests(node) : List.of();
    }

    public static List<Path> pytorchModels() {
        return Stream.of("mlp", "cnn", "transformer").map(PyTorchModelsTest::model).toList();
    }

    /**
     * A test folder as a subject: the imported model (Gradient lowered) and its test_data_set_0 inputs. Throws a
     * {@link GaleException} when the model does not import.
     */
    public static Subject subject(Path dir) {
        Model m = LowerGradientOps.apply(ConformanceModels.load(dir));
        return new Subject(nameOf(dir), m, ConformanceModels.firstInputs(m.graph(), dir));
    }

    /** The subject with its fed tensor inputs turned into initializers: compile-time constants. */
    public static Subject baked(Subject s) {
        Graph g = s.model().graph();
        List<Value> inputs = new ArrayList<>();
        Map<String, Tensor> init = new LinkedHashMap<>(g.initializers());
        Map<String, Object> rest = new HashMap<>(s.feeds());
        for (Value v : g.inputs()) {
            if (s.feeds().get(v.name()) instanceof Tensor t && !g.initializers().containsKey(v.name())) {
                init.put(v.name(), t);
                rest.remove(v.name());
            } else {
                inputs.add(v);
            }
        }
        Graph b = ShapeInference.run(new Graph(g.name(), inputs, g.outputs(), g.nodes(), init));
        return new Subject(s.name() + "/baked", s.model().withGraph(b), rest);
    }

    /**
     * The training step of a PyTorch model: cross-entropy on its logits, labels {@code i mod classes}. Throws a
     * {@link GaleException} when it cannot be built (a missing gradient rule, say).
     */
    public static Subject trainingSubject(Path dir) {
        Subject fwd = subject(dir);
        Graph forward = fwd.model().graph();
        TrainingProgram p = TrainingProgram.build(forward, forward.outputs().get(0).name(), LossKind.CROSS_ENTROPY,
                n -> true, Long.MIN_VALUE);
        Map<String, Object> feeds = new HashMap<>(fwd.feeds());
        for (Value v : p.graph().runtimeInputs()) // parameters and model state are inputs of the step
            if (!feeds.containsKey(v.name()) && forward.initializers().containsKey(v.name()))
                feeds.put(v.name(), forward.initializers().get(v.name()));
        Tensor logits = (Tensor) Interpreter.run(fwd.model(), fwd.feeds()).get(0);
        long batch = logits.dim(0), classes = logits.dim(1);
        long[] labels = new long[(int) batch];
        for (int i = 0; i < batch; i++) labels[i] = i % classes;
        feeds.put(TrainingProgram.LABELS, Tensor.ofLongs(new long[] {batch}, labels));
        return new Subject(fwd.name() + "/train", fwd.model().withGraph(p.graph()), feeds);
    }

    private static boolean isPyTorchModel(Path dir) {
        return pytorchModels().stream().anyMatch(p -> p.equals(dir));
    }

    private static String nameOf(Path dir) {
        String n = dir.getFileName().toString();
        return isPyTorchModel(dir) ? "models/" + n : n;
    }

    private static boolean matchesFilter(String name) {
        String f = System.getProperty("gale.diff.filter");
        return f == null || f.isBlank() || Pattern.compile(f).matcher(name).find();
    }

    private static ExecutorService newPool() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(null, r, "pass-differential", 1L << 28);
            t.setDaemon(true);
            return t;
        });
    }
}
