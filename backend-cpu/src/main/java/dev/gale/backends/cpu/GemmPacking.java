package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.gale.backends.cpu.GemmKernel.KC;
import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.MR;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;

/**
 * Copies blocks of op(A) and op(B) into the micro-kernel's panel layouts, padding partial panels with zeros.
 * A panel holds MR rows k-major: {@code pa[(panel * kc + p) * MR + r]}; a B panel holds NR columns k-major:
 * {@code pb[(panel * kc + p) * NR + j]}. When the source is contiguous along the panel's width (A transposed,
 * B not) a row of the panel is one or two vector copies. Otherwise A's source rows are read contiguously and scattered
 * with the panel's stride, and B's NR source rows are copied whole into a per-thread buffer and gathered from there,
 * one k at a time (about a third faster than scattering, which matters when few rows of A share a packed B).
 * Subnormal values are packed as zero ({@link #flush}).
 */
final class GemmPacking {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Scatter index maps: lane i goes i panel rows further on. */
    private static final int[] STRIDE_MR = strides(MR);

    /** Per thread: NR source rows of a transposed B panel, and the gather map for its depth. */
    private static final ThreadLocal<Transpose> TRANSPOSE = ThreadLocal.withInitial(Transpose::new);

    private static final class Transpose {
        final float[] rows = new float[NR * KC];
        private final int[] map = new int[L];
        private int mapDepth = -1;

        /** Lane i reads i rows of {@code depth} floats further on. */
        int[] map(int depth) {
            if (depth != mapDepth) {
                for (int i = 0; i < L; i++) map[i] = i * depth;
                mapDepth = depth;
            }
            return map;
        }
    }

    private GemmPacking() {}

    /**
     * The calling thread's gather map for rows {@code stride} floats apart (lane i reads {@code i * stride} further
     * on), the one the transposed packing of B uses; valid until the thread asks for another stride.
     */
    static int[] strideMap(int stride) { return TRANSPOSE.get().map(stride); }

    /**
     * x, or 0 when x is subnormal. Packing flushes subnormal operands to zero (as the x86 DAZ flag would, which Java
     * cannot set): a multiply-add with a subnormal input takes a microcode assist about a hundred times slower than
     * the normal path, and a converged model's gradients are full of them (a 32 x 4096 x 4096 product with subnormal
     * dY took 645 ms instead of 11). The change to any product is below float32's smallest normal times K.
     */
    static float flush(float x) { return Math.abs(x) < Float.MIN_NORMAL ? 0f : x; }

    private static int[] strides(int stride) {
        int[] map = new int[L];
        for (int i = 0; i < L; i++) map[i] = i * stride;
        return map;
    }

    /**
     * {@code dst[at + p] = flush(src[from + p])} for p in [0, n) ({@code from} in floats); named {@code *Loop} so that
     * the launcher keeps it out of its callers, compiled alone with its vectors in registers.
     */
    static void copyFlushedLoop(MemorySegment src, long from, float[] dst, int at, int n) {
        int p = 0;
        for (; p <= n - L; p += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, src, (from + p) * Float.BYTES, NATIVE);
            v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(dst, at + p);
        }
        for (; p < n; p++) dst[at + p] = flush(src.getAtIndex(F, from + p));
    }

    /** {@code dst[at + p * stride] = src[from + p]} for p in [0, n): a contiguous run transposed into a panel. */
    private static void scatterRun(MemorySegment src, long from, float[] dst, int at, int stride, int[] map, int n) {
        int p = 0;
        for (; p <= n - L; p += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, src, (from + p) * Float.BYTES, NATIVE);
            v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(dst, at + p * stride, map, 0);
        }
        for (; p < n; p++) dst[at + p * stride] = flush(src.getAtIndex(F, from + p));
    }

    /** Packs op(A)[i0:i0+mc, p0:p0+kc]; A[i, p] is at {@code off + i * ld + p}, or {@code off + p * ld + i} transposed. */
    static void packA(boolean trans, MemorySegment a, long off, long ld, int i0, int mc, int p0, int kc, float[] pa) {
        packA(trans, a, off, ld, i0, mc, p0, kc, pa, 0);
    }

    /** {@link #packA} into {@code pa[at ..)}. */
    static void packA(boolean trans, MemorySegment a, long off, long ld, int i0, int mc, int p0, int kc, float[] pa, int at) {
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir), base = at + ir * kc;
            if (trans) {
                // Each k gives MR contiguous values: masked vector copies (one when MR <= L), zeros past the rows.
                for (int r = 0; r < MR; r += L) {
                    VectorMask<Float> in = S.indexInRange(r, rows), out = S.indexInRange(r, MR);
                    long src = (off + (long) p0 * ld + i0 + ir + r) * Float.BYTES, step = ld * Float.BYTES;
                    for (int p = 0; p < kc; p++, src += step) {
                        FloatVector v = FloatVector.fromMemorySegment(S, a, src, NATIVE, in);
                        v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pa, base + p * MR + r, out);
                    }
                }
            } else {
                for (int r = 0; r < rows; r++)
                    scatterRun(a, off + (long) (i0 + ir + r) * ld + p0, pa, base + r, MR, STRIDE_MR, kc);
                for (int r = rows; r < MR; r++)
                    for (int p = 0; p < kc; p++) pa[base + r + p * MR] = 0f;
            }
        }
    }

    /**
     * Packs the panels of op(B)[p0:p0+kc, j0:j0+nc] that start at block columns {@code [jr0, jr1)} (multiples of NR);
     * B[p, j] is at {@code off + p * ld + j}, or {@code off + j * ld + p} transposed; block column jr starts at
     * {@code pb[at + jr * kc]}.
     */
    static void packB(boolean trans, MemorySegment b, long off, long ld, int p0, int kc, int j0, int nc, int jr0, int jr1,
                      float[] pb, int at) {
        if (trans) {
            Transpose t = TRANSPOSE.get();
            float[] rows = t.rows;
            for (int jr = jr0; jr < jr1; jr += NR) {
                // The panel's columns are rows of the source: copy them whole, then gather each k's NR values; at
                // most KC of k at a time, so that the copied rows stay in L1 for a deep block too.
                int cols = Math.min(NR, nc - jr), base = at + jr * kc;
                for (int q0 = 0; q0 < kc; q0 += KC) {
                    int qc = Math.min(KC, kc - q0);
                    int[] map = t.map(qc);
                    for (int j = 0; j < cols; j++)
                        MemorySegment.copy(b, F, (off + (long) (j0 + jr + j) * ld + p0 + q0) * Float.BYTES, rows, j * qc, qc);
                    if (cols < NR) Arrays.fill(rows, cols * qc, NR * qc, 0f);
                    for (int p = 0; p < qc; p++) {
                        int dst = base + (q0 + p) * NR;
                        FloatVector v = FloatVector.fromArray(S, rows, p, map, 0), w = FloatVector.fromArray(S, rows, p + L * qc, map, 0);
                        v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst);
                        w.blend(0f, w.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst + L);
                    }
                }
            }
            return;
        }
        // Row by row: each source row is read once from start to end, a stream the prefetchers follow, and the full
        // panels are written at NR floats a row. Panel by panel instead, every panel walks kc rows a row stride apart
        // (16 KiB for 4096 columns: the lines fall into few cache sets and miss again on the next panel).
        int full = Math.min(jr1, jr0 + (nc - jr0) / NR * NR);
        long src = (off + (long) p0 * ld + j0) * Float.BYTES, step = ld * Float.BYTES;
        for (int p = 0; p < kc; p++, src += step) {
            for (int jr = jr0; jr < full; jr += NR) {
                int dst = at + jr * kc + p * NR;
                long from = src + (long) jr * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(S, b, from, NATIVE);
                FloatVector w = FloatVector.fromMemorySegment(S, b, from + (long) L * Float.BYTES, NATIVE);
                v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst);
                w.blend(0f, w.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst + L);
            }
        }
        if (full >= jr1) return;
        // The last panel, narrower than NR: masked loads, zeros past column nc.
        int cols = nc - full, base = at + full * kc;
        VectorMask<Float> m0 = S.indexInRange(0, cols), m1 = S.indexInRange(L, cols);
        src = (off + (long) p0 * ld + j0 + full) * Float.BYTES;
        for (int p = 0; p < kc; p++, src += step) {
            int dst = base + p * NR;
            FloatVector v = FloatVector.fromMemorySegment(S, b, src, NATIVE, m0);
            FloatVector w = FloatVector.fromMemorySegment(S, b, src + (long) L * Float.BYTES, NATIVE, m1);
            v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst);
            w.blend(0f, w.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst + L);
        }
    }
}
