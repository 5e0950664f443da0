package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.GemmKernel.KC;
import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.MR;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;
import static dev.gale.backends.cpu.GemmKernel.roundUp;

/**
 * {@code C = act(alpha op(A) B + beta C + bias + residual)} for a short A (a batch of about {@link #MAX_ROWS} rows)
 * and a constant B packed in column panels ({@link PackedB#pack(boolean, MemorySegment, long, long, int, int, long)}),
 * computed as {@code C^T = B^T op(A)^T}: the micro-kernel's roles swap, so that the weights are the broadcast operand,
 * each loaded once, and op(A)^T (k x m, m padded to NR) is the vector operand, packed once per call and read from L1.
 *
 * <p>Why: in the ordinary orientation a batch of 32 rows is three passes over each B panel (12 + 12 + 8 rows). The
 * first pass waits on memory, since this JVM code cannot prefetch, and the third fills two thirds of the kernel. Here
 * 32 rows are one 12 x 2-vector tile per 12 columns of B. Measured on the 2-core AVX-512 machine, 32 x 4096 x 1024
 * with bias and ReLU, B in cache: 100 GFLOP/s in the ordinary orientation against 136 in this one on one thread, 206
 * against 264 on two; 32 x 4096 x 4096 (B streamed from memory), two threads: 7.7 ms against 5.6-6.9.
 *
 * <p>The loops, per piece of B's column panels (about two pieces per thread), per group of panels whose part of C^T
 * (12 columns x m each) stays in L2: for each KC block of k, for each NR rows of A, for each panel, one micro-kernel
 * call accumulates a 12 x NR tile of C^T. After the last block the group is transposed into C's tiles, which
 * {@link TileStore} writes with the scale, beta, bias, residual and activation. Any A works: more rows are more NR-row chunks,
 * each reading the group's weights again from L2, and an A taller than {@link #SLAB_ROWS} rows is cut into slabs, each
 * its own pass over B, so that buffers stay bounded.
 */
final class ShortAGemm {
    /**
     * The most rows of A for which {@link PackedB} chooses column panels. At 64 rows (two chunks) it gained nothing
     * over GEMM panels (64 x 4096 x 1024 in cache on 2 threads: 267 GFLOP/s against 276; the 1024-4096-4096-1024 MLP's
     * forward at batch 64 within run-to-run noise), so the column path is kept to one chunk.
     */
    static final int MAX_ROWS = 32;
    /** The fewest floats of B for which it does (4 MiB): below that B stays in cache and GEMM panels do as well. */
    static final long MIN_B_FLOATS = 1L << 20;
    /** Rows of A per pass over B when a column-packed B meets a taller A. */
    static final int SLAB_ROWS = 256;
    /** Floats of C^T a group of panels accumulates (256 KiB, held in L2 while k runs). */
    private static final int GROUP_FLOATS = 1 << 16;
    /** Panels a group and a piece are multiples of: 8 x MR = 96 columns, three whole NR-wide output tiles. */
    private static final int ALIGN = 8;
    /** Floats of weights per KC block a group reads again for each further NR rows of A (1 MiB, from L2). */
    private static final int REREAD_FLOATS = 1 << 18;

    private ShortAGemm() {}

    /**
     * Whether B (k x n) is better packed in column panels for an A of {@code rows} rows: a short A that fills its
     * NR-row chunk to at least 7/8 (its rows are the vector lanes, so 16 rows would leave half of each FMA idle), with
     * a B large enough to stream from memory. Measured on 2 threads, 4096 x 1024 B: 32 rows 1.04 ms here against 1.31
     * in GEMM panels, 28 rows 0.99 against 0.98, 16 rows 0.94 against 0.71.
     */
    static boolean suits(long rows, int n, int k) {
        long padded = (rows + NR - 1) / NR * NR;
        return rows > 0 && rows <= MAX_ROWS && (padded - rows) * 8 <= padded && (long) n * k >= MIN_B_FLOATS;
    }

    /** Sizes and operands were checked by {@link Sgemm}; {@code m > 0}. */
    static void gemm(KernelPool pool, boolean transA, int m, float alpha, MemorySegment a, long aOff, long lda,
                     PackedB b, float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        for (int i0 = 0; i0 < m; i0 += SLAB_ROWS) {
            int rows = Math.min(SLAB_ROWS, m - i0);
            slab(pool, transA, rows, alpha, a, aOff + (transA ? i0 : i0 * lda), lda, b, beta, c, cOff + i0 * ldc, ldc,
                    ep.shifted(ep.biasPerRow() ? i0 : 0, i0 * ep.ldr()));
        }
    }

    private static void slab(KernelPool pool, boolean transA, int m, float alpha, MemorySegment a, long aOff, long lda,
                             PackedB b, float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        int n = b.n, k = b.k, mpad = roundUp(m, NR), kBlocks = b.columnBlocks();
        int panels = (n + MR - 1) / MR;
        long xtFloats = (long) kBlocks * KC * mpad;
        if (xtFloats > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("GEMM too deep for a packed A: k " + k + " with " + m + " rows");
        boolean serial = pool.threads() == 1 || 2.0 * m * n * Math.max(k, 1) < Sgemm.SERIAL_FLOPS;
        if (serial) {
            pool.serial((t, s) -> {
                float[] xt = s.packB((int) xtFloats);
                for (int kb = 0; kb < kBlocks; kb++) packAt(transA, a, aOff, lda, m, k, mpad, kb, xt);
                multiply(s, xt, m, mpad, b, 0, panels, alpha, beta, c, cOff, ldc, ep);
            });
            return;
        }
        // Pieces start at multiples of ALIGN panels, so that their output tiles are whole NR columns wide.
        int units = (panels + ALIGN - 1) / ALIGN, pieces = Math.min(units, 2 * pool.threads());
        pool.exclusive(() -> {
            float[] xt = pool.sharedFloats((int) xtFloats);
            pool.parallelFor(kBlocks, (kb, s) -> packAt(transA, a, aOff, lda, m, k, mpad, kb, xt));
            pool.parallelFor(pieces, (t, s) -> multiply(s, xt, m, mpad, b,
                    Math.min(panels, (int) ((long) t * units / pieces) * ALIGN),
                    Math.min(panels, (int) ((long) (t + 1) * units / pieces) * ALIGN), alpha, beta, c, cOff, ldc, ep));
        });
    }

    /**
     * KC block {@code kb} of op(A)^T into {@code xt[kb * KC * mpad ..)}: NR-wide panels of A's rows, k-major (B's
     * panel layout, zeros past row m), one after another.
     */
    private static void packAt(boolean transA, MemorySegment a, long aOff, long lda, int m, int k, int mpad, int kb,
                               float[] xt) {
        int p0 = kb * KC, kc = Math.min(KC, k - p0);
        GemmPacking.packB(!transA, a, aOff, lda, p0, Math.max(kc, 0), 0, m, 0, mpad, xt, kb * KC * mpad);
    }

    /** Column panels {@code [q0, q1)} of C: accumulate C^T group by group, then store it into C tile by tile. */
    private static void multiply(Scratch s, float[] xt, int m, int mpad, PackedB b, int q0, int q1, float alpha,
                                 float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        int n = b.n, k = b.k, kBlocks = b.columnBlocks(), chunks = mpad / NR;
        int group = GROUP_FLOATS / (MR * mpad);
        if (chunks > 1) group = Math.min(group, REREAD_FLOATS / (MR * KC));
        group = Math.max(1, group / ALIGN) * ALIGN;
        float[] acc = s.work((long) group * MR * mpad), tile = s.tile;
        int ahead = ReadAhead.panels(MR * KC);
        for (int g0 = q0; g0 < q1; g0 += group) {
            int g1 = Math.min(q1, g0 + group);
            for (int kb = 0; kb < kBlocks; kb++) {
                int kc = Math.max(0, Math.min(KC, k - kb * KC)), xtBase = kb * KC * mpad;
                float[] w = b.columnBlock(kb);
                // Chunks of A's rows outermost: each chunk's op(A)^T block (KC x NR, 32 KiB) stays in L1 across the
                // panels; the group's weights for this block come from memory once (read ahead into L2 a block of
                // panels at a time, ReadAhead) and from L2 after that.
                for (int ch = 0; ch < chunks; ch++)
                    for (int q = g0; q < g1; q++) {
                        if (b.readAhead && ch == 0 && (q - g0) % ahead == 0)
                            ReadAhead.block(s, w, q * MR * kc, Math.min(ahead, g1 - q) * MR * kc);
                        GemmKernel.micro12(kc, w, q * MR * kc, xt, xtBase + ch * NR * kc, tile);
                        accumulate(tile, acc, (q - g0) * MR * mpad + ch * NR, mpad, kb == 0);
                    }
            }
            store(acc, mpad, m, g0 * MR, Math.min(n, g1 * MR), tile, alpha, beta, ep, c, cOff, ldc);
        }
    }

    /**
     * acc[at + jj * mpad + v] (+)= tile[jj * NR + v]: a 12 x NR tile of C^T into the group's accumulator. The first
     * K block copies; no vector is live across the branch (the vectors of a form that kept them across it were
     * boxed in some JVMs, 23 KB a call in KernelAllocationTest).
     */
    private static void accumulate(float[] tile, float[] acc, int at, int mpad, boolean first) {
        if (first) {
            for (int jj = 0; jj < MR; jj++) System.arraycopy(tile, jj * NR, acc, at + jj * mpad, NR);
            return;
        }
        for (int jj = 0; jj < MR; jj++) {
            int to = at + jj * mpad, from = jj * NR;
            FloatVector.fromArray(S, tile, from).add(FloatVector.fromArray(S, acc, to)).intoArray(acc, to);
            FloatVector.fromArray(S, tile, from + L).add(FloatVector.fromArray(S, acc, to + L)).intoArray(acc, to + L);
        }
    }

    /**
     * Columns {@code [j0, j1)} of C from the group's C^T ({@code acc[(j - j0) * mpad + i]}): each MR x NR tile of C is
     * gathered into {@code tile} and written by {@link TileStore#store}, which applies alpha, beta and the epilogue as
     * the GEMM-panel path does.
     */
    private static void store(float[] acc, int mpad, int m, int j0, int j1, float[] tile, float alpha, float beta,
                              Epilogue ep, MemorySegment c, long cOff, long ldc) {
        for (int i0 = 0; i0 < m; i0 += MR) {
            int rows = Math.min(MR, m - i0);
            for (int jt = j0; jt < j1; jt += NR) {
                int cols = Math.min(NR, j1 - jt);
                for (int j = 0; j < cols; j++) {
                    int from = (jt - j0 + j) * mpad + i0;
                    for (int r = 0; r < rows; r++) tile[r * NR + j] = acc[from + r];
                }
                TileStore.store(tile, rows, cols, alpha, beta, ep, c, cOff, ldc, i0, jt);
            }
        }
    }
}
