package dev.gale.cli.bench;

import dev.gale.backends.Backends;
import dev.gale.backends.Region;
import dev.gale.backends.Session;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npz;
import dev.gale.onnx.OnnxImporter;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Child process of {@code gale bench} that times forward passes of one model on one batch: Gale's backend
 * ({@code gale N}) and ONNX Runtime ({@code ort N}) on the same file and inputs, in the same process. Setup runs
 * each side once and compares their first outputs; a side that cannot run the model says why in its ready line
 * ({@code gale_error}, {@code ort_error}) and is not timed.
 *
 * <p>Both sides run on inputs already in native memory and leave their outputs there, as an application that serves
 * one model would: ONNX Runtime's side feeds {@code OnnxTensor}s made once and releases its results without reading
 * them; Gale's side binds its float32 inputs and its outputs to memory of its own ({@link Session#bind}), written once,
 * so that a run copies nothing in or out ({@code gale_io} in the ready line: {@code bound}, or {@code copied} where
 * the backend cannot bind them). Until 2026-11-28 Gale's side copied its inputs in and its outputs out on every run
 * (for the 784-256-10 MLP at batch 64, 200 KB in and a new 2.5 KB array out per run of about 0.1 ms).
 *
 * <p>Arguments: MODEL.onnx DATA.npz INPUT[,INPUT...] THREADS BACKEND
 */
public final class ForwardWorker {
    private ForwardWorker() {}

    public static void main(String[] args) {
        System.setOut(System.err); // stdout carries the protocol only
        try {
            serve(Path.of(args[0]), Path.of(args[1]), List.of(args[2].split(",")), Integer.parseInt(args[3]), args[4]);
        } catch (Throwable e) {
            WorkerMain.error(e);
            System.exit(1);
        }
        System.exit(0);
    }

    private static void serve(Path modelFile, Path data, List<String> inputNames, int threads, String backend)
            throws Exception {
        Map<String, Tensor> arrays = Npz.read(data);
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (String in : inputNames) {
            Tensor t = arrays.get(in);
            if (t == null) throw new GaleException(data + " has no array '" + in + "'");
            feeds.put(in, t);
        }
        Map<String, Object> info = new LinkedHashMap<>();
        Session gale = null;
        float[] galeOut = null;
        List<String> boundInputs = null;
        try {
            Model model = OnnxImporter.load(modelFile);
            gale = Backends.get(backend).open(model);
            List<Object> first = gale.run(new LinkedHashMap<>(feeds));
            if (first.getFirst() instanceof Tensor t && t.data() instanceof float[] f) galeOut = f;
            boundInputs = bind(gale, feeds, model.graph().outputs().stream().map(v -> v.name()).toList(), first);
        } catch (GaleException | UnsupportedOperationException e) {
            info.put("gale_error", e.getMessage());
        }
        OrtSide ort = OrtSide.open(modelFile, threads, feeds, info);
        float[] ortOut = ort == null ? null : ort.firstOutput(info);
        if (info.containsKey("ort_error")) ort = null;
        if (galeOut != null && ortOut != null) info.put("max_abs_diff", maxAbsDiff(galeOut, ortOut));
        if (gale != null) info.put("gale_io", boundInputs != null ? "bound" : "copied");
        info.put("rss_kb", WorkerMain.statusKb("VmRSS"));
        WorkerMain.ready(info);

        Map<String, Object> galeFeeds = new LinkedHashMap<>(feeds);
        if (boundInputs != null) boundInputs.forEach(galeFeeds::remove);
        for (String[] cmd; (cmd = WorkerMain.next()) != null; ) {
            switch (cmd[0]) {
                case "gale", "ort" -> {
                    int n = Integer.parseInt(cmd[1]);
                    long[] t = new long[n];
                    WorkerMain.blockStarts();
                    for (int i = 0; i < n; i++) {
                        long t0 = System.nanoTime();
                        if (cmd[0].equals("gale")) {
                            if (gale == null) throw new GaleException("Gale cannot run this model: " + info.get("gale_error"));
                            gale.run(galeFeeds);
                        } else {
                            if (ort == null) throw new GaleException("ONNX Runtime cannot run this model: " + info.get("ort_error"));
                            ort.run();
                        }
                        t[i] = System.nanoTime() - t0;
                    }
                    WorkerMain.times(t, n);
                }
                case "mem" -> WorkerMain.memory();
                case "quit" -> {
                    if (gale != null) gale.close(); // prints -Dgale.cpu.profile's report of the bound plan
                    return;
                }
                default -> WorkerMain.OUT.println("error\tunknown command " + cmd[0]);
            }
        }
    }

    /**
     * Binds the float32 inputs among {@code feeds} and every output of {@code gale} to regions of their own (the
     * shapes of {@code first}, the outputs of one run on these feeds), writes the inputs there once, and returns their
     * names; null (nothing bound) when the backend cannot bind them, and then the runs copy as before.
     */
    private static List<String> bind(Session gale, Map<String, Tensor> feeds, List<String> outputs, List<Object> first) {
        List<String> inNames = new ArrayList<>();
        List<Long> inOffsets = new ArrayList<>();
        long inSize = 0;
        for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
            if (e.getValue().dtype() != DType.FLOAT32) continue;
            inNames.add(e.getKey());
            inOffsets.add(inSize);
            inSize = align(inSize + e.getValue().numel());
        }
        long[] outOffsets = new long[outputs.size()];
        long outSize = 0;
        for (int i = 0; i < outputs.size(); i++) {
            if (!(first.get(i) instanceof Tensor t) || t.dtype() != DType.FLOAT32) return null;
            outOffsets[i] = outSize;
            outSize = align(outSize + t.numel());
        }
        List<Region> regions = new ArrayList<>();
        regions.add(new Region(outputs, outOffsets, outSize));
        if (!inNames.isEmpty())
            regions.add(new Region(inNames, inOffsets.stream().mapToLong(Long::longValue).toArray(), inSize));
        List<MemorySegment> mem;
        try {
            mem = gale.bind(new LinkedHashMap<>(feeds), regions);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return null; // the backend refuses these regions: the runs copy, as they did before binding
        }
        if (mem == null) return null;
        for (int i = 0; i < inNames.size(); i++) {
            float[] data = feeds.get(inNames.get(i)).floats();
            MemorySegment.copy(data, 0, mem.get(1), ValueLayout.JAVA_FLOAT, inOffsets.get(i) * Float.BYTES, data.length);
        }
        Map<String, Object> rest = new LinkedHashMap<>(feeds);
        inNames.forEach(rest::remove);
        gale.run(rest);
        float[] want = ((Tensor) first.getFirst()).floats(), got = new float[want.length];
        MemorySegment.copy(mem.getFirst(), ValueLayout.JAVA_FLOAT, 0, got, 0, got.length);
        // bound values may sit elsewhere in the plan's memory, and its kernels may then sum in another order
        for (int i = 0; i < want.length; i++)
            if (!(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i])))
                throw new GaleException("Gale's run on bound inputs and outputs differs from its run on copies at "
                        + "element " + i + " of the first output: " + got[i] + " against " + want[i]);
        return inNames;
    }

    /** Regions' values start on 64-byte boundaries. */
    private static long align(long floats) { return (floats + 15) / 16 * 16; }

    private static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) return Double.NaN;
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    /** ONNX Runtime behind a door: when its jar is not on the class path, only this side is missing. */
    private static final class OrtSide {
        private final Object forward; // an OrtForward; typed Object so this class links without ONNX Runtime

        private OrtSide(Object forward) { this.forward = forward; }

        static OrtSide open(Path model, int threads, Map<String, Tensor> feeds, Map<String, Object> info) {
            try {
                OrtForward f = new OrtForward(model, threads, feeds);
                info.put("ort_version", OrtForward.version());
                return new OrtSide(f);
            } catch (NoClassDefFoundError e) {
                info.put("ort_error", "ONNX Runtime is not on the class path (rebuild with ./gale, which puts it in "
                        + "cli/target/bench-lib)");
            } catch (Exception | UnsatisfiedLinkError e) {
                info.put("ort_error", e.getMessage());
            }
            return null;
        }

        float[] firstOutput(Map<String, Object> info) {
            try {
                return ((OrtForward) forward).firstOutput();
            } catch (Exception e) {
                info.put("ort_error", e.getMessage());
                return null;
            }
        }

        void run() throws Exception { ((OrtForward) forward).run(); }
    }
}
