package dev.gale.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/** The worker side of the {@link WorkerProcess} protocol, shared by the Gale workers. */
final class WorkerMain {
    private WorkerMain() {}

    static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
            StandardCharsets.UTF_8);
    static final BufferedReader IN = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    static void ready(Map<String, ?> info) {
        OUT.println("ready\t" + info.entrySet().stream().map(e -> e.getKey() + "=" + clean(String.valueOf(e.getValue())))
                .collect(Collectors.joining("\t")));
    }

    private static long allocatedAtStart = -1;

    /** Marks the start of a timed block, for the heap allocation {@link #times} reports. */
    static void blockStarts() { allocatedAtStart = allocatedBytes(); }

    /**
     * Answers a timed command: the times in seconds, then (after a tab) {@code jit_ms=}, the JIT's total compilation
     * time so far, which tells the runner whether the block made the JIT compile (see BenchRunner's warmup), and
     * {@code alloc_b=}, the bytes the process's threads allocated on the heap per run since {@link #blockStarts}: a
     * step whose vector code runs compiled allocates a few KB (about 100 for ResNet-18's training step), one with
     * vector code still in C1 or left boxed by C2 hundreds of KB or more, and runs several times slower (see
     * BenchResult.BOXED_BYTES).
     */
    static void times(long[] nanos, int count) {
        long allocated = allocatedBytes();
        long perRun = allocatedAtStart < 0 || allocated < 0 || count == 0 ? -1 : (allocated - allocatedAtStart) / count;
        quiesce();
        StringBuilder sb = new StringBuilder("times\t");
        for (int i = 0; i < count; i++) sb.append(i > 0 ? " " : "").append(nanos[i] / 1e9);
        if (perRun >= 0) sb.append("\talloc_b=").append(perRun);
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit != null && jit.isCompilationTimeMonitoringSupported()) sb.append("\tjit_ms=").append(jit.getTotalCompilationTime());
        OUT.println(sb);
    }

    /**
     * Before answering, waits (at most 5 s) until the JIT has finished no compilation for 200 ms: its threads would
     * otherwise run on into the peer's timed steps, and a peer whose thread pool synchronizes (OpenMP, OpenBLAS)
     * loses several times over when one of its cores is taken. The wait is in no timing.
     */
    static void quiesce() {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
        long deadline = System.nanoTime() + 5_000_000_000L, last = jit.getTotalCompilationTime();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            if (now == last) return;
            last = now;
        }
    }

    /** Heap bytes all live threads have allocated so far, or -1 where the JVM does not count them. */
    static long allocatedBytes() {
        try {
            if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemoryEnabled())
                return t.getTotalThreadAllocatedBytes();
        } catch (UnsupportedOperationException ignored) {
            // not counted here
        }
        return -1;
    }

    static void memory() {
        OUT.println("mem\t" + statusKb("VmHWM") + "\t" + statusKb("VmRSS"));
    }

    static void error(Throwable e) {
        String m = e instanceof dev.gale.ir.GaleException ? e.getMessage() : e.toString();
        OUT.println("error\t" + clean(m));
        e.printStackTrace();
    }

    /** A field of /proc/self/status in kB, or -1 where there is none (not Linux). */
    static long statusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException ignored) {
            // reported as unknown
        }
        return -1;
    }

    /** The next command, or null at end of input. */
    static String[] next() throws IOException {
        String line;
        do {
            line = IN.readLine();
            if (line == null) return null;
        } while (line.isBlank());
        return line.trim().split("\\s+");
    }

    private static String clean(String s) { return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' '); }
}
