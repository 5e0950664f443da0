package dev.gale.backends.cpu;

import dev.gale.backends.NativeSegments;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;

/**
 * The GEMM micro-kernels that read op(A) where it lies, for blocks of A that serve too few B panels to repay packing
 * them ({@link GemmKernel#multiplyPacked} with {@code aInPlace}), and when a product may take them. Packing A costs
 * about as much as the multiply loses when the block serves one or two panels: on 2 threads the MLP's 784-256 layer
 * at batch 64 (four pieces of two panels) took 127-129 us with A packed once for all pieces, 40 us of it the packing,
 * and 89-91 us with A read in place. One pattern unrolled for 12, 8 and 4 rows, with strides in bytes for either
 * transpose.
 */
final class GemmInPlace {
    /**
     * A product whose A block serves at most this many B panels (NR columns each) reads A in place ({@link #micro})
     * instead of packing it, where its thread flushes subnormals: packing costs about as much as 20 panels lose to the
     * slower kernel. Overridden by {@code gale.gemm.inPlacePanels} (0 turns it off).
     */
    static final int MAX_PANELS = Integer.getInteger("gale.gemm.inPlacePanels", 16);
    /**
     * The same for a transposed A, whose tile rows are adjacent floats and whose k steps a row stride apart: the loads
     * hop from line to line (and page to page), so it repays packing sooner. Measured on a convolution's input
     * gradient W^T dY (in-process A/B, 2 threads, batch 8): 512 channels on 2 x 2 pixels (1 panel) 1.62 ms against
     * 2.21 packed, 256 to 512 on 2 x 2 0.54 against 0.77; on 4 x 4 (4 panels) 256 channels 1.50 against 1.44, 128 to
     * 256 0.52 against 0.56 ({@code gale.gemm.inPlacePanelsTransposed}).
     */
    static final int MAX_PANELS_TRANSPOSED = Integer.getInteger("gale.gemm.inPlacePanelsTransposed", 2);

    private GemmInPlace() {}

    /**
     * Bytes between addresses that share an L1 set (the way size: 48 KiB in 12 ways, as on Zen 5 and recent Intel
     * cores).
     */
    static final int L1_WAY_BYTES = 4096;

    /**
     * Whether a block of A (row stride {@code lda} floats) that serves {@code panels} B panels is read in place rather
     * than packed.
     */
    static boolean suits(Scratch s, boolean transA, MemorySegment a, long lda, GemmKernel.PackedA preA, int panels) {
        return preA == null && suits(s.flushes, transA, a, lda, panels);
    }

    /** The same for a thread that flushes subnormals ({@code flushes}) or not. */
    static boolean suits(boolean flushes, boolean transA, MemorySegment a, long lda, int panels) {
        return flushes && panels <= maxPanels(transA) && readable(transA, a)
                && !(panels > ALIASED_MAX_PANELS && rowsAlias(transA, lda));
    }

    /**
     * The most B panels a block of A whose rows alias in L1 ({@link #rowsAlias}) serves and still is read in place:
     * each panel reads the block again, missing L1 every time, but once or twice costs less than packing a large A
     * (64 x 4096 x 4096 computed as its transpose, its 4096-float rows of B read in place for two panels, took
     * 8.2-8.6 ms on an Intel Xeon, and 13.7-14.1 with B packed).
     */
    static final int ALIASED_MAX_PANELS = 2;

    /**
     * True when the rows of a tile of A (not transposed) all fall in one L1 set: a row stride that is a multiple of
     * the way size puts the 12 rows' lines and the B panel's in one set of 12 ways, and they evict one another. On 2
     * threads 64 x 1024 x 4096 (rows 16 KiB apart) took 2.28-2.36 ms in place against 2.00-2.05 packed, and 64 x 1024
     * x 2048 0.95 against 0.89; with rows over two sets (4608 or 1536 floats) or more (2304) in place measured alike or
     * faster.
     */
    static boolean rowsAlias(boolean transA, long lda) {
        return !transA && lda * Float.BYTES % L1_WAY_BYTES == 0;
    }

    /** The most B panels a block of A serves and still is read in place. */
    private static int maxPanels(boolean transA) {
        return transA ? MAX_PANELS_TRANSPOSED : MAX_PANELS;
    }

    /**
     * {@link GemmKernel#micro} with op(A) read where it lies instead of from a packed panel: element (r, p) of the
     * tile's A panel is the float at byte offset {@code at + r * rowStep + p * depthStep} of {@code a} (A not
     * transposed: 4 bytes along k, a row stride from row to row; transposed, the reverse, so each k's rows are
     * adjacent). Rows past {@code rows} repeat the last one, so that no read leaves A; the store keeps only
     * {@code rows}. A packed panel flushes subnormal values to zero; here the caller's thread must flush them instead
     * (a {@link KernelPool} that {@link KernelPool#flushesDenormals}), so the products are the same. Alone on
     * L1-resident data it runs about 6% below the packed kernel (195 against 207 GFLOP/s on one core), which is less
     * than packing costs when A serves few B panels. Only for a native segment ({@link #readable}): each kernel's
     * loads are to be compiled for one kind of segment (a training step that passed heap and native segments to the
     * same loads made them 3-4 times slower); an A on the heap is packed instead.
     */
    static void micro(int rows, int kc, MemorySegment a, long at, long rowStep, long depthStep, float[] pb, int ib,
                      float[] tile) {
        if (rows > 8) micro12(rows, kc, a, at, rowStep, depthStep, pb, ib, tile);
        else if (rows > 4) micro8(rows, kc, a, at, rowStep, depthStep, pb, ib, tile);
        else micro4(rows, kc, a, at, rowStep, depthStep, pb, ib, tile);
    }

    /**
     * The class of the segments {@link #readable} admits (a native, unmapped segment), which every load of A casts to,
     * so that C2 compiles the loads for it whatever other code has read before ({@link NativeSegments} says why).
     */
    static final Class<? extends MemorySegment> NATIVE = NativeSegments.CLASS;

    /**
     * Whether {@link #micro} may read op(A) from {@code a}: a native segment that is not a mapped file, so that its
     * loads see one segment class (A on the heap is packed).
     */
    static boolean readable(boolean transA, MemorySegment a) {
        return NativeSegments.isPlainNative(a);
    }

    /** The 12-row kernel of {@link #micro}. */
    static void micro12(int rows, int kc, MemorySegment sa, long at, long rowStep, long depthStep, float[] pb,
                                int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
        FloatVector c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
        FloatVector c8a = z, c8b = z, c9a = z, c9b = z, c10a = z, c10b = z, c11a = z, c11b = z;
        long r0 = at;
        long r1 = at + Math.min(1, rows - 1) * rowStep;
        long r2 = at + Math.min(2, rows - 1) * rowStep;
        long r3 = at + Math.min(3, rows - 1) * rowStep;
        long r4 = at + Math.min(4, rows - 1) * rowStep;
        long r5 = at + Math.min(5, rows - 1) * rowStep;
        long r6 = at + Math.min(6, rows - 1) * rowStep;
        long r7 = at + Math.min(7, rows - 1) * rowStep;
        long r8 = at + Math.min(8, rows - 1) * rowStep;
        long r9 = at + Math.min(9, rows - 1) * rowStep;
        long r10 = at + Math.min(10, rows - 1) * rowStep;
        long r11 = at + Math.min(11, rows - 1) * rowStep;
        for (int p = 0; p < kc; p++) {
            long q = p * depthStep;
            int bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r0 + q));
            c0a = a.fma(b0, c0a);
            c0b = a.fma(b1, c0b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r1 + q));
            c1a = a.fma(b0, c1a);
            c1b = a.fma(b1, c1b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r2 + q));
            c2a = a.fma(b0, c2a);
            c2b = a.fma(b1, c2b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r3 + q));
            c3a = a.fma(b0, c3a);
            c3b = a.fma(b1, c3b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r4 + q));
            c4a = a.fma(b0, c4a);
            c4b = a.fma(b1, c4b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r5 + q));
            c5a = a.fma(b0, c5a);
            c5b = a.fma(b1, c5b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r6 + q));
            c6a = a.fma(b0, c6a);
            c6b = a.fma(b1, c6b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r7 + q));
            c7a = a.fma(b0, c7a);
            c7b = a.fma(b1, c7b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r8 + q));
            c8a = a.fma(b0, c8a);
            c8b = a.fma(b1, c8b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r9 + q));
            c9a = a.fma(b0, c9a);
            c9b = a.fma(b1, c9b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r10 + q));
            c10a = a.fma(b0, c10a);
            c10b = a.fma(b1, c10b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r11 + q));
            c11a = a.fma(b0, c11a);
            c11b = a.fma(b1, c11b);
        }
        c0a.intoArray(tile, 0);
        c0b.intoArray(tile, L);
        c1a.intoArray(tile, NR);
        c1b.intoArray(tile, NR + L);
        c2a.intoArray(tile, 2 * NR);
        c2b.intoArray(tile, 2 * NR + L);
        c3a.intoArray(tile, 3 * NR);
        c3b.intoArray(tile, 3 * NR + L);
        c4a.intoArray(tile, 4 * NR);
        c4b.intoArray(tile, 4 * NR + L);
        c5a.intoArray(tile, 5 * NR);
        c5b.intoArray(tile, 5 * NR + L);
        c6a.intoArray(tile, 6 * NR);
        c6b.intoArray(tile, 6 * NR + L);
        c7a.intoArray(tile, 7 * NR);
        c7b.intoArray(tile, 7 * NR + L);
        c8a.intoArray(tile, 8 * NR);
        c8b.intoArray(tile, 8 * NR + L);
        c9a.intoArray(tile, 9 * NR);
        c9b.intoArray(tile, 9 * NR + L);
        c10a.intoArray(tile, 10 * NR);
        c10b.intoArray(tile, 10 * NR + L);
        c11a.intoArray(tile, 11 * NR);
        c11b.intoArray(tile, 11 * NR + L);
    }

    /** Rows 0..7 of {@link #micro}. */
    static void micro8(int rows, int kc, MemorySegment sa, long at, long rowStep, long depthStep, float[] pb,
                                int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
        FloatVector c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
        long r0 = at;
        long r1 = at + Math.min(1, rows - 1) * rowStep;
        long r2 = at + Math.min(2, rows - 1) * rowStep;
        long r3 = at + Math.min(3, rows - 1) * rowStep;
        long r4 = at + Math.min(4, rows - 1) * rowStep;
        long r5 = at + Math.min(5, rows - 1) * rowStep;
        long r6 = at + Math.min(6, rows - 1) * rowStep;
        long r7 = at + Math.min(7, rows - 1) * rowStep;
        for (int p = 0; p < kc; p++) {
            long q = p * depthStep;
            int bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r0 + q));
            c0a = a.fma(b0, c0a);
            c0b = a.fma(b1, c0b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r1 + q));
            c1a = a.fma(b0, c1a);
            c1b = a.fma(b1, c1b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r2 + q));
            c2a = a.fma(b0, c2a);
            c2b = a.fma(b1, c2b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r3 + q));
            c3a = a.fma(b0, c3a);
            c3b = a.fma(b1, c3b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r4 + q));
            c4a = a.fma(b0, c4a);
            c4b = a.fma(b1, c4b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r5 + q));
            c5a = a.fma(b0, c5a);
            c5b = a.fma(b1, c5b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r6 + q));
            c6a = a.fma(b0, c6a);
            c6b = a.fma(b1, c6b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r7 + q));
            c7a = a.fma(b0, c7a);
            c7b = a.fma(b1, c7b);
        }
        c0a.intoArray(tile, 0);
        c0b.intoArray(tile, L);
        c1a.intoArray(tile, NR);
        c1b.intoArray(tile, NR + L);
        c2a.intoArray(tile, 2 * NR);
        c2b.intoArray(tile, 2 * NR + L);
        c3a.intoArray(tile, 3 * NR);
        c3b.intoArray(tile, 3 * NR + L);
        c4a.intoArray(tile, 4 * NR);
        c4b.intoArray(tile, 4 * NR + L);
        c5a.intoArray(tile, 5 * NR);
        c5b.intoArray(tile, 5 * NR + L);
        c6a.intoArray(tile, 6 * NR);
        c6b.intoArray(tile, 6 * NR + L);
        c7a.intoArray(tile, 7 * NR);
        c7b.intoArray(tile, 7 * NR + L);
    }

    /** Rows 0..3 of {@link #micro}. */
    static void micro4(int rows, int kc, MemorySegment sa, long at, long rowStep, long depthStep, float[] pb,
                                int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
        long r0 = at;
        long r1 = at + Math.min(1, rows - 1) * rowStep;
        long r2 = at + Math.min(2, rows - 1) * rowStep;
        long r3 = at + Math.min(3, rows - 1) * rowStep;
        for (int p = 0; p < kc; p++) {
            long q = p * depthStep;
            int bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r0 + q));
            c0a = a.fma(b0, c0a);
            c0b = a.fma(b1, c0b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r1 + q));
            c1a = a.fma(b0, c1a);
            c1b = a.fma(b1, c1b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r2 + q));
            c2a = a.fma(b0, c2a);
            c2b = a.fma(b1, c2b);
            a = FloatVector.broadcast(S, NATIVE.cast(sa).get(GemmPacking.F, r3 + q));
            c3a = a.fma(b0, c3a);
            c3b = a.fma(b1, c3b);
        }
        c0a.intoArray(tile, 0);
        c0b.intoArray(tile, L);
        c1a.intoArray(tile, NR);
        c1b.intoArray(tile, NR + L);
        c2a.intoArray(tile, 2 * NR);
        c2b.intoArray(tile, 2 * NR + L);
        c3a.intoArray(tile, 3 * NR);
        c3b.intoArray(tile, 3 * NR + L);
    }
}
