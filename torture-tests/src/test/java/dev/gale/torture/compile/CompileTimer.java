package dev.gale.torture.compile;

import dev.gale.cli.Gale;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Warm compile time: runs {@code gale compile ARGS...} WARMUP times to warm the JVM, then RUNS times, and prints
 * each measured run's time as {@code gale compile} reports it (load, training step, pipeline, writing) and the
 * pipeline's share (the sum of the pass times) and the CPU time of the compiling thread (steadier than wall time on
 * a busy machine), then the minimum and median of each. Not a test; run it with the CLI's
 * class path and the test classes:
 * <pre>
 * java -cp "cli/target/gale-cli.jar:cli/target/lib/*:torture-tests/target/test-classes" \
 *     dev.gale.torture.compile.CompileTimer 5 5 compile MODEL.onnx --train --loss cross-entropy --batch-size 8 -o DIR
 * </pre>
 */
public final class CompileTimer {
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final Pattern TOTAL = Pattern.compile("in (\\d+) ms");
    private static final Pattern PASS = Pattern.compile("^\\s+(\\S+)\\s+(\\d+\\.\\d)\\s+\\d+ -> \\d+$", Pattern.MULTILINE);

    private CompileTimer() {}

    public static void main(String[] a) {
        int warmup = Integer.parseInt(a[0]), runs = Integer.parseInt(a[1]);
        String[] args = Arrays.copyOfRange(a, 2, a.length);
        for (int i = 0; i < warmup; i++) run(args);
        List<double[]> times = new ArrayList<>();
        String last = "";
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime(), c0 = CPU.getCurrentThreadCpuTime();
            String out = run(args);
            double wall = (System.nanoTime() - t0) / 1e6, cpu = (CPU.getCurrentThreadCpuTime() - c0) / 1e6;
            Matcher m = TOTAL.matcher(out);
            double total = m.find() ? Double.parseDouble(m.group(1)) : wall;
            double passes = 0;
            for (Matcher p = PASS.matcher(out); p.find(); ) passes += Double.parseDouble(p.group(2));
            times.add(new double[] {total, passes, cpu});
            System.out.printf(Locale.ROOT, "run %d: compile %.0f ms (passes %.1f ms), thread CPU %.0f ms%n", i + 1,
                    total, passes, cpu);
            last = out;
        }
        System.out.print(last);
        for (int k = 0; k < 3; k++) {
            int kk = k;
            double[] v = times.stream().mapToDouble(t -> t[kk]).sorted().toArray();
            System.out.printf(Locale.ROOT, "%s: min %.1f ms, median %.1f ms over %d runs after %d warm-up runs%n",
                    new String[] {"gale compile", "pipeline", "thread CPU"}[k], v[0], v[v.length / 2], v.length, warmup);
        }
    }

    private static String run(String[] args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Gale.execute(args, new PrintWriter(out), new PrintWriter(err));
        if (code != 0) throw new IllegalStateException("gale compile failed: " + err);
        return out.toString();
    }
}
