package dev.gale.torture.compile;

import dev.gale.cli.Pipelines;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.onnx.OnnxImporter;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.train.CompiledStep;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-pass CPU time of the standard training pipeline on one model, warm: builds the training step (cross-entropy,
 * symbolic dimensions of the inputs bound to BATCH), runs the pipeline WARMUP + RUNS times and prints each pass's
 * median thread CPU time over the measured runs. Not a test; run with the CLI's class path and the test classes:
 * <pre>
 * java -cp "cli/target/gale-cli.jar:cli/target/lib/*:torture-tests/target/test-classes" \
 *     dev.gale.torture.compile.PassTimer MODEL.onnx BATCH WARMUP RUNS
 * </pre>
 */
public final class PassTimer {
    private PassTimer() {}

    public static void main(String[] a) {
        Graph forward = OnnxImporter.load(Path.of(a[0])).graph();
        long batch = Long.parseLong(a[1]);
        int warmup = Integer.parseInt(a[2]), runs = Integer.parseInt(a[3]);
        TrainingProgram p = TrainingProgram.build(forward, forward.outputs().get(0).name(), LossKind.CROSS_ENTROPY,
                n -> true, Long.MIN_VALUE);
        Map<String, long[]> shapes = new HashMap<>();
        for (Value v : p.graph().runtimeInputs()) {
            var t = v.tensorType();
            if (t == null || t.shape() == null || t.shape().isStatic()) continue;
            long[] s = new long[t.shape().rank()];
            for (int k = 0; k < s.length; k++) s[k] = t.shape().dim(k).sizeOr(batch);
            shapes.put(v.name(), s);
        }
        Map<String, Long> symbols = new TreeMap<>();
        Graph step = CompiledStep.specialize(p.graph(), shapes, symbols);
        Map<String, String> options = new TreeMap<>();
        options.put("training", "true");
        symbols.forEach((s, n) -> options.put("dim." + s, Long.toString(n)));
        List<Pass> passes = Pipelines.standard(true).passes();
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        PassContext ctx = null;
        for (int r = 0; r < warmup + runs; r++) {
            Graph g = step;
            ctx = new PassContext(options);
            for (int i = 0; i < passes.size(); i++) {
                long c0 = cpu.getCurrentThreadCpuTime();
                g = passes.get(i).run(g, ctx);
                double ms = (cpu.getCurrentThreadCpuTime() - c0) / 1e6;
                if (r >= warmup) times.computeIfAbsent(i + " " + passes.get(i).name(), k -> new ArrayList<>()).add(ms);
            }
        }
        if (Boolean.getBoolean("gale.counters")) System.out.println(ctx.counters());
        double total = 0;
        for (Map.Entry<String, List<Double>> e : times.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
            total += v[v.length / 2];
            System.out.printf(Locale.ROOT, "%-20s median %8.1f ms  min %8.1f ms%n", e.getKey(), v[v.length / 2], v[0]);
        }
        System.out.printf(Locale.ROOT, "%-20s median %8.1f ms (sum of medians, thread CPU, %d nodes in)%n", "pipeline",
                total, step.nodes().size());
    }
}
