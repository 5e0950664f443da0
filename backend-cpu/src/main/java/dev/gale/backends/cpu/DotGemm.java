package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.MR;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;
import static dev.gale.backends.cpu.GemmPacking.NATIVE;

/**
 * {@code C = act(alpha A B^T + beta C + bias + residual)} for a row-major A [m x k] and a B given as [n x k] with few
 * rows (a classifier head: {@code Gemm transB = 1} with 10 outputs), as dot products of contiguous rows read in place:
 * nothing is packed. A register block is 2 rows of A times 4 rows of B (8 accumulators; 6 loads per 8 multiply-adds),
 * summed across lanes at the end of each row pair; the sums of up to MR rows go to a tile that {@link TileStore} writes
 * with the epilogue, as the GEMM's micro-kernel tiles are.
 *
 * <p>Why: the blocked GEMM packs A into MR-row panels (a scatter per 16 values for a row-major A) and fills a 2L-wide
 * micro-tile with n = 10 columns, so that 32 x 10 x 784 took 18-19 us on one thread (26 GFLOP/s), packing A as long
 * as multiplying. Only for n up to NR (one tile wide) and k of at least {@link #MIN_K} (shorter rows spend more on the
 * lane sums than on the products). Sums run in a fixed order, so results do not depend on the thread count.
 */
final class DotGemm {
    private DotGemm() {}

    /** Fewest columns of A (the dot products' length) for which the dot products pay. */
    static final int MIN_K = Math.max(64, 4 * L);

    static boolean suits(boolean transA, boolean transB, int n, int k) {
        return !transA && transB && n >= 1 && n <= NR && k >= MIN_K;
    }

    /**
     * Rows {@code [i0, i1)} of C, in tiles of MR rows. Element offsets; lda, ldb, ldc are row strides; {@code ep} is
     * positioned at C's origin.
     */
    static void rows(Scratch s, int i0, int i1, int n, int k, float alpha, MemorySegment a, long aOff, long lda,
                     MemorySegment b, long bOff, long ldb, float beta, MemorySegment c, long cOff, long ldc,
                     Epilogue ep) {
        float[] tile = s.tile;
        int kv = k - k % L;
        VectorMask<Float> tail = kv < k ? S.indexInRange(kv, k) : null;
        for (int t0 = i0; t0 < i1; t0 += MR) {
            int rows = Math.min(MR, i1 - t0);
            for (int r = 0; r < rows; r += 2) {
                boolean pair = r + 1 < rows;
                long a0 = (aOff + (t0 + r) * lda) * Float.BYTES, a1 = pair ? a0 + lda * Float.BYTES : a0;
                int j = 0;
                for (; j + 4 <= n; j += 4)
                    four(a, a0, a1, b, (bOff + j * ldb) * Float.BYTES, ldb * Float.BYTES, kv, k, tail, tile, r * NR + j);
                for (; j < n; j++)
                    one(a, a0, a1, b, (bOff + j * ldb) * Float.BYTES, 0, k, tail, tile, r * NR + j, false);
            }
            TileStore.store(tile, rows, n, alpha, beta, ep, c, cOff, ldc, t0, 0);
        }
    }

    /**
     * Rows a0 and a1 of A (byte offsets) times four rows of B from b0, {@code ldb} bytes apart, into the tile: the
     * whole vectors here, a partial last one by {@link #one}.
     */
    private static void four(MemorySegment a, long a0, long a1, MemorySegment b, long b0, long ldb, int kv, int k,
                             VectorMask<Float> tail, float[] tile, int at) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        long b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        for (int p = 0; p < kv; p += L) {
            long o = (long) p * Float.BYTES;
            FloatVector x0 = FloatVector.fromMemorySegment(S, a, a0 + o, NATIVE);
            FloatVector x1 = FloatVector.fromMemorySegment(S, a, a1 + o, NATIVE);
            FloatVector w = FloatVector.fromMemorySegment(S, b, b0 + o, NATIVE);
            c00 = x0.fma(w, c00);
            c10 = x1.fma(w, c10);
            w = FloatVector.fromMemorySegment(S, b, b1 + o, NATIVE);
            c01 = x0.fma(w, c01);
            c11 = x1.fma(w, c11);
            w = FloatVector.fromMemorySegment(S, b, b2 + o, NATIVE);
            c02 = x0.fma(w, c02);
            c12 = x1.fma(w, c12);
            w = FloatVector.fromMemorySegment(S, b, b3 + o, NATIVE);
            c03 = x0.fma(w, c03);
            c13 = x1.fma(w, c13);
        }
        tile[at] = c00.reduceLanes(VectorOperators.ADD);
        tile[at + 1] = c01.reduceLanes(VectorOperators.ADD);
        tile[at + 2] = c02.reduceLanes(VectorOperators.ADD);
        tile[at + 3] = c03.reduceLanes(VectorOperators.ADD);
        tile[at + NR] = c10.reduceLanes(VectorOperators.ADD);
        tile[at + NR + 1] = c11.reduceLanes(VectorOperators.ADD);
        tile[at + NR + 2] = c12.reduceLanes(VectorOperators.ADD);
        tile[at + NR + 3] = c13.reduceLanes(VectorOperators.ADD);
        if (kv < k) for (int j = 0; j < 4; j++) one(a, a0, a1, b, b0 + j * ldb, kv, k, tail, tile, at + j, true);
    }

    /**
     * Rows a0 and a1 of A times one row of B from column {@code from} (a multiple of L) to k, the last vector masked:
     * set into the tile, or added to it ({@code add}: the tail of {@link #four}'s rows, kept out of its loop so that
     * its method stays small enough for C1 to compile before C2 does; it boxed every vector when it was not).
     */
    private static void one(MemorySegment a, long a0, long a1, MemorySegment b, long b0, int from, int k,
                            VectorMask<Float> tail, float[] tile, int at, boolean add) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        int kv = k - k % L;
        for (int p = from; p < kv; p += L) {
            long o = (long) p * Float.BYTES;
            FloatVector w = FloatVector.fromMemorySegment(S, b, b0 + o, NATIVE);
            c0 = FloatVector.fromMemorySegment(S, a, a0 + o, NATIVE).fma(w, c0);
            c1 = FloatVector.fromMemorySegment(S, a, a1 + o, NATIVE).fma(w, c1);
        }
        if (kv < k) {
            long o = (long) kv * Float.BYTES;
            FloatVector w = FloatVector.fromMemorySegment(S, b, b0 + o, NATIVE, tail);
            c0 = FloatVector.fromMemorySegment(S, a, a0 + o, NATIVE, tail).fma(w, c0);
            c1 = FloatVector.fromMemorySegment(S, a, a1 + o, NATIVE, tail).fma(w, c1);
        }
        float s0 = c0.reduceLanes(VectorOperators.ADD), s1 = c1.reduceLanes(VectorOperators.ADD);
        tile[at] = add ? tile[at] + s0 : s0;
        tile[at + NR] = add ? tile[at + NR] + s1 : s1;
    }
}
