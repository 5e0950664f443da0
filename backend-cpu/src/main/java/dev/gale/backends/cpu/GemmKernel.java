package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * The single-threaded GEMM of one block of C, after Goto and van de Geijn ("Anatomy of high-performance matrix
 * multiplication", 2008) as BLIS arranges it:
 *
 * <pre>
 * for jc in n step NC                      B block (KC x NC) packed in NR-wide panels, lives in L2/L3
 *   for pc in k step KC
 *     pack B[pc:pc+KC, jc:jc+NC]
 *     for ic in m step MC                  A block (MC x KC) packed in MR-tall panels, lives in L2
 *       pack A[ic:ic+MC, pc:pc+KC]
 *       for jr in NC step NR               one B panel (KC x NR) stays in L1 across the ir loop
 *         for ir in MC step MR
 *           micro-kernel: MR x NR tile += A panel x B panel (rank-1 updates, MR x NR/L accumulators in registers)
 *           store the tile into C (TileStore): scale, beta, and after the last KC block the epilogue
 * </pre>
 *
 * Packing pads partial panels with zeros, so the micro-kernel always computes a full tile and only the store knows
 * about edges. MR x NR is 8 rows x 2 vectors: 16 accumulators, 2 B vectors and 1 broadcast of the 32 vector
 * registers, and 16 FMAs per 10 loads, which keeps both FMA units of an AVX-512 core busy.
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 8;
    static final int NR = 2 * L;
    /** Depth of one packed block: a B panel of KC x NR floats (32 KiB with 16 lanes) fits the 48 KiB L1. */
    static final int KC = 256;
    /** Rows of one packed A block: MC x KC floats (192 KiB) in L2. */
    static final int MC = 192;
    /** Columns of one packed B block: KC x NC floats (2 MiB) within the 2 MiB L2 or L3. */
    static final int NC = 2048;

    private GemmKernel() {}

    /**
     * C[m x n] = alpha op(A) op(B) + beta C, then the epilogue; indices are elements, {@code ld*} row strides. The
     * epilogue's bias and residual are already positioned at this block's (0, 0).
     */
    static void gemm(Scratch s, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, long lda, MemorySegment b, long bOff, long ldb,
                     float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        if (m <= 0 || n <= 0) return;
        float[] pa = s.packA(MC * KC), pb = s.packB(KC * (Math.min(NC, roundUp(n, NR))));
        float[] tile = s.tile;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k || pc == 0; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean first = pc == 0, last = pc + kc >= k;
                GemmPacking.packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    GemmPacking.packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr), pbOff = jr * kc;
                        for (int ir = 0; ir < mc; ir += MR) {
                            micro(kc, pa, ir * kc, pb, pbOff, tile);
                            TileStore.store(tile, Math.min(MR, mc - ir), cols, alpha, first ? beta : 1f, last ? ep : null,
                                    c, cOff, ldc, ic + ir, jc + jr);
                        }
                    }
                }
            }
        }
    }

    static int roundUp(int x, int to) { return (x + to - 1) / to * to; }

    /** tile[MR x NR] = A panel (kc x MR, k-major) times B panel (kc x NR, k-major). */
    static void micro(int kc, float[] pa, int ia, float[] pb, int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int ao = ia + p * MR, bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, pa[ao]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pa[ao + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[ao + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, pa[ao + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, pa[ao + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
    }
}
