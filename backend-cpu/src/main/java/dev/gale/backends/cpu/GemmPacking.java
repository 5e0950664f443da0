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
 * B not) a row of the panel is one or two vector copies. Otherwise the panel's MR (A) or NR (B) source rows are copied
 * whole into a per-thread buffer and gathered from there, one k at a time (for B about a third faster than scattering
 * each source row's vectors with the panel's stride, which matters when few rows of A share a packed B).
 * Subnormal values are packed as zero ({@link #flush}).
 */
final class GemmPacking {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Per thread: the source rows of a panel being gathered (MR of A, NR of transposed B), and the gather map. */
    private static final ThreadLocal<Transpose> TRANSPOSE = ThreadLocal.withInitial(Transpose::new);

    private static final class Transpose {
        final float[] rows = new float[Math.max(NR, MR) * KC];
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

    /**
     * One A panel from {@code rows} (at most MR) source rows of {@code kc} floats, row r at {@code from + r * ld}: the
     * rows are copied whole into the thread's buffer (at most KC of k at a time, so that they stay in L1), then each
     * k's MR values are gathered from there and stored as one masked vector, zeros past {@code rows}. Scattering each
     * row's vectors into the panel instead (16 scattered floats a store) took 6.2% of a 1024^3 product's profile on 2
     * threads of an Intel Xeon, against 2.7% (plus 1.1% in array-copy stubs) this way.
     */
    private static void gatherPanel(MemorySegment a, long from, long ld, int rows, int kc, float[] pa, int base) {
        Transpose t = TRANSPOSE.get();
        float[] buf = t.rows;
        for (int q0 = 0; q0 < kc; q0 += KC) {
            int qc = Math.min(KC, kc - q0);
            for (int r = 0; r < rows; r++)
                MemorySegment.copy(a, F, (from + r * ld + q0) * Float.BYTES, buf, r * qc, qc);
            int[] map = t.map(qc);
            for (int r = 0; r < MR; r += L) {
                VectorMask<Float> in = S.indexInRange(r, rows), out = S.indexInRange(r, MR);
                for (int p = 0; p < qc; p++) {
                    FloatVector v = FloatVector.fromArray(S, buf, p + r * qc, map, 0, in);
                    v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pa, base + (q0 + p) * MR + r, out);
                }
            }
        }
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
                gatherPanel(a, off + (long) (i0 + ir) * ld + p0, ld, rows, kc, pa, base);
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
