package dev.gale.backends.cpu.runtime;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Process-wide counts of the nodes the CPU runtime has planned, by op: those run by its own steps and those that
 * fell back to the interpreter's kernels, summed over every plan built since the last {@link #reset}. Lets a test
 * or a tool that only sees {@code Session}s (the conformance runner, the trainer) list what still falls back.
 */
public final class RuntimeStats {
    private static final Map<String, Long> NATIVE = new ConcurrentHashMap<>(), FALLBACK = new ConcurrentHashMap<>();

    private RuntimeStats() {}

    static void record(Map<String, Integer> nativeOps, Map<String, Integer> fallbackOps) {
        nativeOps.forEach((k, v) -> NATIVE.merge(k, (long) v, Long::sum));
        fallbackOps.forEach((k, v) -> FALLBACK.merge(k, (long) v, Long::sum));
    }

    /** Nodes run natively, by op. */
    public static Map<String, Long> nativeOps() { return new TreeMap<>(NATIVE); }

    /** Nodes run on the interpreter's kernels, by op. */
    public static Map<String, Long> fallbackOps() { return new TreeMap<>(FALLBACK); }

    public static void reset() {
        NATIVE.clear();
        FALLBACK.clear();
    }
}
