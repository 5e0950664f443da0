package dev.gale.backends.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.*;

/** The pool runs every piece once, reports failures and nested loops, and refuses work once closed. */
class KernelPoolTest {
    @Test
    void everyPieceRunsOnceWithItsThreadsScratch() {
        try (KernelPool pool = new KernelPool(3)) {
            for (int count : new int[] {1, 2, 3, 7, 1000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(count);
                pool.parallelFor(count, (i, s) -> {
                    assertNotNull(s);
                    seen.incrementAndGet(i);
                });
                for (int i = 0; i < count; i++) assertEquals(1, seen.get(i), "piece " + i + " of " + count);
            }
            pool.parallelFor(0, (i, s) -> fail("no pieces"));
        }
    }

    @Test
    void failuresReachTheCallerAndThePoolStaysUsable() {
        try (KernelPool pool = new KernelPool(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.parallelFor(8, (i, s) -> {
                if (i == 5) throw new IllegalArgumentException("piece 5");
            }));
            assertEquals("piece 5", e.getMessage());
            AtomicIntegerArray seen = new AtomicIntegerArray(4);
            pool.parallelFor(4, (i, s) -> seen.incrementAndGet(i));
            for (int i = 0; i < 4; i++) assertEquals(1, seen.get(i));
        }
    }

    @Test
    void nestedLoopsAreRejected() {
        try (KernelPool pool = new KernelPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pool.parallelFor(4, (i, s) -> pool.parallelFor(2, (j, t) -> {})));
            assertTrue(e.getMessage().contains("serial kernel entry points"), e.getMessage());
        }
    }

    /** Callers on several threads take turns; each product still equals the one computed alone. */
    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        int n = 300;
        java.util.Random rnd = new java.util.Random(7);
        float[] a = new float[n * n], b = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
            b[i] = (float) rnd.nextGaussian();
        }
        try (KernelPool pool = new KernelPool(2)) {
            float[] want = new float[n * n];
            Sgemm.gemm(pool, false, false, n, n, n, 1f, java.lang.foreign.MemorySegment.ofArray(a), 0, n,
                    java.lang.foreign.MemorySegment.ofArray(b), 0, n, 0f, java.lang.foreign.MemorySegment.ofArray(want), 0, n,
                    Epilogue.NONE);
            java.util.List<java.util.concurrent.Future<float[]>> results = new java.util.ArrayList<>();
            try (var callers = java.util.concurrent.Executors.newFixedThreadPool(3)) {
                for (int t = 0; t < 6; t++)
                    results.add(callers.submit(() -> {
                        float[] c = new float[n * n];
                        Sgemm.gemm(pool, false, false, n, n, n, 1f, java.lang.foreign.MemorySegment.ofArray(a), 0, n,
                                java.lang.foreign.MemorySegment.ofArray(b), 0, n, 0f, java.lang.foreign.MemorySegment.ofArray(c),
                                0, n, Epilogue.NONE);
                        return c;
                    }));
                for (var f : results) assertArrayEquals(want, f.get());
            }
        }
    }

    @Test
    void closedPoolRefusesWork() {
        KernelPool pool = new KernelPool(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.parallelFor(2, (i, s) -> {}));
        assertThrows(IllegalArgumentException.class, () -> new KernelPool(0));
    }

    /**
     * A flushing pool takes subnormal operands and results as zero on every participant, the caller included, and
     * gives the caller its IEEE arithmetic back after the loop; a pool made without the flush computes IEEE values.
     * (Runs where the C library's floating-point environment is known: Linux on x86-64 and AArch64.)
     */
    @Test
    void flushingPoolsFlushSubnormalsOnEveryThreadAndOnlyDuringTheLoop() {
        org.junit.jupiter.api.Assumptions.assumeTrue(DenormalFlush.KNOWN_PLATFORM, "not Linux on x86-64 or AArch64");
        assertTrue(DenormalFlush.SUPPORTED, DenormalFlush.UNSUPPORTED_REASON);
        float[] operands = {Float.MIN_NORMAL, 0.5f, 1e-39f, 30f};
        for (boolean flush : new boolean[] {true, false}) {
            try (KernelPool pool = new KernelPool(3, flush)) {
                assertEquals(flush, pool.flushesDenormals());
                int count = 64;
                float[] product = new float[count], sum = new float[count];
                String[] thread = new String[count];
                pool.parallelFor(count, (i, s) -> {
                    product[i] = operands[0] * operands[1];  // subnormal result
                    sum[i] = operands[2] * operands[3]; // subnormal operand, normal result (3e-38)
                    thread[i] = Thread.currentThread().getName();
                    for (long spin = 0; spin < 20_000; spin++) Thread.onSpinWait(); // so that every thread takes pieces
                });
                java.util.Set<String> threads = new java.util.TreeSet<>(java.util.Arrays.asList(thread));
                for (int i = 0; i < count; i++) {
                    assertEquals(flush ? 0f : Float.MIN_NORMAL / 2, product[i], "piece " + i + " on " + thread[i]);
                    assertEquals(flush ? 0f : 1e-39f * 30f, sum[i], "piece " + i + " on " + thread[i]);
                }
                assertTrue(threads.size() > 1, "the pieces ran on " + threads);
                assertFalse(DenormalFlush.active(), "the caller's arithmetic is IEEE again after the loop");
                assertEquals(Float.MIN_NORMAL / 2, operands[0] * operands[1]);
            }
        }
    }
}
