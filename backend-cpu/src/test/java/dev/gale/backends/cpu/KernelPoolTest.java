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

    /** Shares of every size, several participants with none (fewer pieces than threads) and pieces stolen. */
    @Test
    void everyPieceRunsOnceWhateverTheSharesAre() {
        try (KernelPool pool = new KernelPool(4)) {
            for (int count = 1; count <= 40; count++) {
                AtomicIntegerArray seen = new AtomicIntegerArray(count);
                int n = count;
                pool.parallelFor(count, (i, s) -> {
                    if (i % 3 == 0) java.util.concurrent.locks.LockSupport.parkNanos(20_000); // uneven pieces
                    seen.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "piece " + i + " of " + n);
            }
        }
    }

    /**
     * Each participant starts at the front of its own share (the caller at piece 0, the worker of two at piece
     * count / 2), and one that runs out takes the other's pieces from the back. Made deterministic with latches: the
     * caller's first piece waits until the worker has started one (so that must be the worker's own first piece), and
     * the worker's first piece waits until piece 5, the last the caller can steal, has run. With pieces handed out
     * from one counter the worker started at piece 1.
     */
    @Test
    void participantsOwnContiguousSharesAndStealFromTheBack() throws Exception {
        try (KernelPool pool = new KernelPool(2)) {
            for (int round = 0; round < 20; round++) {
                java.util.concurrent.CountDownLatch workerStarted = new java.util.concurrent.CountDownLatch(1),
                        fiveDone = new java.util.concurrent.CountDownLatch(1);
                Thread caller = Thread.currentThread();
                java.util.List<Integer> byCaller = new java.util.concurrent.CopyOnWriteArrayList<>(),
                        byWorker = new java.util.concurrent.CopyOnWriteArrayList<>();
                pool.parallelFor(8, (i, s) -> {
                    boolean onCaller = Thread.currentThread() == caller;
                    (onCaller ? byCaller : byWorker).add(i);
                    try {
                        if (!onCaller) workerStarted.countDown();
                        if (i == 0) assertTrue(workerStarted.await(10, java.util.concurrent.TimeUnit.SECONDS));
                        if (i == 4 && !onCaller) assertTrue(fiveDone.await(10, java.util.concurrent.TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    if (i == 5) fiveDone.countDown();
                });
                assertEquals(java.util.List.of(0, 1, 2, 3, 7, 6, 5), byCaller, "round " + round);
                assertEquals(java.util.List.of(4), byWorker, "round " + round);
            }
        }
    }

    /**
     * With {@code callerOnly} every piece runs on the calling thread (with participant 0's scratch), a GEMM cut for
     * both threads gives the same bits as on both, and switching back puts the workers to use again.
     */
    @Test
    void callerOnlyRunsEveryPieceOnTheCaller() {
        try (KernelPool pool = new KernelPool(2)) {
            int m = 70, n = 300, k = 90;
            float[] a = new float[m * k], b = new float[k * n], both = new float[m * n], alone = new float[m * n];
            java.util.Random rnd = new java.util.Random(3);
            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
            java.lang.foreign.MemorySegment sa = java.lang.foreign.MemorySegment.ofArray(a),
                    sb = java.lang.foreign.MemorySegment.ofArray(b);
            Sgemm.gemm(pool, false, false, m, n, k, 1f, sa, 0, k, sb, 0, n, 0f,
                    java.lang.foreign.MemorySegment.ofArray(both), 0, n, Epilogue.NONE);
            pool.callerOnly(true);
            assertTrue(pool.isCallerOnly());
            Thread caller = Thread.currentThread();
            java.util.Set<Thread> ran = java.util.concurrent.ConcurrentHashMap.newKeySet();
            pool.parallelFor(64, (i, s) -> ran.add(Thread.currentThread()));
            assertEquals(java.util.Set.of(caller), ran, "pieces ran on " + ran);
            Sgemm.gemm(pool, false, false, m, n, k, 1f, sa, 0, k, sb, 0, n, 0f,
                    java.lang.foreign.MemorySegment.ofArray(alone), 0, n, Epilogue.NONE);
            assertArrayEquals(both, alone, "the caller alone computed other values than both threads");
            pool.callerOnly(false);
            ran.clear();
            java.util.concurrent.CountDownLatch two = new java.util.concurrent.CountDownLatch(2);
            pool.parallelFor(2, (i, s) -> { // each piece waits for the other: only two threads get through
                ran.add(Thread.currentThread());
                two.countDown();
                try {
                    assertTrue(two.await(10, java.util.concurrent.TimeUnit.SECONDS), "the worker never took a piece");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(2, ran.size());
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
