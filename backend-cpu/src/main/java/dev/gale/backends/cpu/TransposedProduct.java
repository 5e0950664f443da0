package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;

/**
 * {@code C = A B^T} for a few rows of A and a large B given as {@code n x k} (a linear layer's weights in training,
 * which change every step and so are not packed ahead) computed as its transpose: {@code T = B A^T}, whose A operand
 * is B read in place ({@link GemmInPlace#micro}) and whose B operand is the small A, then C = T^T.
 *
 * <p>Why: the direct product packs all of B^T on every call, a transposing copy of n x k floats (16M for a 4096 x 4096
 * layer) that cost about as much as the multiply itself at batch 64. The transposed product packs only A (m x k) and
 * copies C once more (m x n). Measured on 2 threads, both ways alternating in one process (probe /tmp/s1/Tt.java,
 * 2026-11-27): 64 x 4096 x 4096 8.2-8.6 ms against 11.7-12.1, 64 x 4096 x 1024 2.0-2.1 against 2.9-3.1, 48 x 4096 x
 * 1024 1.9-2.5 against 2.5-2.7. In an earlier run (separate calls, a slower phase of the machine) 32 rows, one panel of
 * T, whose in-place reads then stream B from memory at about 5 GB/s, took 12.7 ms against 11.8-12.1 the direct way,
 * and 128 rows 23.0-25.1 against 21.7-22.1: hence the bounds, more than one panel of rows and at most two.
 */
final class TransposedProduct {
    /** Fewest floats of B (16 MiB) for which packing B^T costs enough to take this way. */
    static final long MIN_B_FLOATS = 1L << 22;

    private TransposedProduct() {}

    /**
     * Whether {@code C = alpha A B^T} (A m x k not transposed, B n x k, C written, not read) with this epilogue takes
     * the transposed product on this pool.
     */
    static boolean suits(KernelPool pool, boolean transA, boolean transB, int m, int n, int k, float beta,
                         MemorySegment b, Epilogue ep) {
        return !transA && transB && beta == 0f && m > NR && m <= 2 * NR && (long) n * k >= MIN_B_FLOATS
                && ep.residual() == null && (ep.bias() == null || !ep.biasPerRow()) && pool.flushesDenormals()
                && GemmInPlace.MAX_PANELS >= 2 && GemmInPlace.readable(false, b);
    }

    /** C[m x n] = ep(alpha A B^T) through T = B A^T in the pool's result buffer; arguments checked by the caller. */
    static void run(KernelPool pool, int m, int n, int k, float alpha, MemorySegment a, long aOff, long lda,
                    MemorySegment b, long bOff, long ldb, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        // The column bias of C is the row bias of T; the activation applies elementwise either way.
        Epilogue te = (ep.bias() == null ? Epilogue.NONE : Epilogue.NONE.withRowBias(ep.bias(), ep.biasOffset()))
                .withActivation(ep.activation());
        pool.exclusive(() -> {
            float[] t = pool.sharedResult(Math.multiplyExact(n, m));
            Sgemm.gemm(pool, false, true, n, m, k, alpha, b, bOff, ldb, a, aOff, lda, 0f, MemorySegment.ofArray(t), 0,
                    m, te);
            int parts = Math.min(Math.max(1, n / (4 * L)), 4 * pool.threads());
            pool.parallelFor(parts, (q, s) -> {
                int j0 = (int) ((long) q * n / parts), j1 = (int) ((long) (q + 1) * n / parts);
                int[] map = GemmPacking.strideMap(m);
                for (int i = 0; i < m; i++) transposeRowLoop(t, m, i, j0, j1, c, cOff + (long) i * ldc, map);
            });
        });
    }

    /**
     * {@code c[at + j] = t[j * m + i]} for j in {@code [j0, j1)} (row i of C from column i of T), {@code map} lane l
     * at {@code l * m}: a gather and a store per 16 floats.
     */
    static void transposeRowLoop(float[] t, int m, int i, int j0, int j1, MemorySegment c, long at, int[] map) {
        int j = j0;
        for (; j <= j1 - L; j += L)
            FloatVector.fromArray(S, t, j * m + i, map, 0).intoMemorySegment(c, (at + j) * Float.BYTES,
                    GemmPacking.NATIVE);
        for (; j < j1; j++) c.setAtIndex(GemmPacking.F, at + j, t[j * m + i]);
    }
}
