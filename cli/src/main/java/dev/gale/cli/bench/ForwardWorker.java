package dev.gale.cli.bench;

import dev.gale.backends.Backends;
import dev.gale.backends.Session;
import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npz;
import dev.gale.onnx.OnnxImporter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Child process of {@code gale bench} that times forward passes of one model on one batch: Gale's backend
 * ({@code gale N}) and ONNX Runtime ({@code ort N}) on the same file and inputs, in the same process. Setup runs
 * each side once and compares their first outputs; a side that cannot run the model says why in its ready line
 * ({@code gale_error}, {@code ort_error}) and is not timed.
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
        try {
            Model model = OnnxImporter.load(modelFile);
            gale = Backends.get(backend).open(model);
            if (gale.run(new LinkedHashMap<>(feeds)).getFirst() instanceof Tensor t && t.data() instanceof float[] f)
                galeOut = f;
        } catch (GaleException | UnsupportedOperationException e) {
            info.put("gale_error", e.getMessage());
        }
        OrtSide ort = OrtSide.open(modelFile, threads, feeds, info);
        float[] ortOut = ort == null ? null : ort.firstOutput(info);
        if (info.containsKey("ort_error")) ort = null;
        if (galeOut != null && ortOut != null) info.put("max_abs_diff", maxAbsDiff(galeOut, ortOut));
        info.put("rss_kb", WorkerMain.statusKb("VmRSS"));
        WorkerMain.ready(info);

        Map<String, Object> galeFeeds = new LinkedHashMap<>(feeds);
        for (String[] cmd; (cmd = WorkerMain.next()) != null; ) {
            switch (cmd[0]) {
                case "gale", "ort" -> {
                    int n = Integer.parseInt(cmd[1]);
                    long[] t = new long[n];
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
                    return;
                }
                default -> WorkerMain.OUT.println("error\tunknown command " + cmd[0]);
            }
        }
    }

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
