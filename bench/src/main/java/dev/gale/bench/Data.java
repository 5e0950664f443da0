package dev.gale.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

/** Benchmark inputs and the process CPU clock. */
final class Data {
    private Data() {}

    /** {@code bytes} of uniform floats in [-1, 1), 64-byte aligned. */
    static MemorySegment random(Arena arena, long bytes, long seed) {
        MemorySegment s = arena.allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < bytes / Float.BYTES; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
