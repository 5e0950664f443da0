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
        if (trans && L == TILE) {
            for (int jr = jr0; jr < jr1; jr += NR) {
                int cols = Math.min(NR, nc - jr), base = at + jr * kc;
                for (int h = 0; h < NR; h += L)
                    transposeRowsLoop(b, off + (long) (j0 + jr + h) * ld + p0, ld, Math.clamp(cols - h, 0, L), kc, pb,
                            base + h);
            }
            return;
        }
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

    /** The lanes of a vector for which the register transpose ({@link #transposeRowsLoop}) is written. */
    private static final int TILE = 16;

    /**
     * The index vectors of the 16 x 16 transpose's four stages, for {@code selectFrom(v1, v2)} (indices 0-15 pick
     * lanes of v1, 16-31 lanes of v2): stage d (8, 4, 2, 1) pairs vectors d apart and swaps that bit of the vector's
     * number with the same bit of the lane's, LO keeping the lanes where the bit is 0 and HI those where it is 1.
     */
    private static final float[] TRANSPOSE_INDEX = transposeIndex();

    private static float[] transposeIndex() {
        float[] ix = new float[8 * TILE];
        for (int s = 0; s < 4; s++) {
            int d = TILE >> (s + 1);
            for (int l = 0; l < TILE; l++) {
                ix[2 * s * TILE + l] = (l & d) == 0 ? l : TILE + l - d;
                ix[(2 * s + 1) * TILE + l] = (l & d) == 0 ? l + d : TILE + l;
            }
        }
        return ix;
    }

    /**
     * {@code pb[at + p * NR + j] = flush(src[from + j * ld + p])} for j below {@code rows} (at most 16; zeros up to
     * 16) and p in [0, kc): 16 source rows become the k-major half of a B panel. Each 16 x 16 tile is 16 row loads,
     * four stages of 16 two-vector permutes ({@code selectFrom}, one vpermi2ps each) and 16 stores; the last kc % 16
     * values of each row go one by one.
     *
     * <p>Why: the gather it replaces (rows copied into a buffer, then 16 floats gathered per k) took 54% of a
     * 32 x 256 x 784 product with B transposed (a linear layer's forward in training) on one core of an AMD EPYC
     * (Zen 4), where a gather costs about as much as the multiply-adds it feeds. Named {@code *Loop} so that the
     * launcher keeps it out of its callers, with its 24 vectors in registers.
     */
    static void transposeRowsLoop(MemorySegment src, long from, long ld, int rows, int kc, float[] pb, int at) {
        FloatVector z = FloatVector.zero(S);
        FloatVector lo8 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 0), hi8 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 16);
        FloatVector lo4 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 32), hi4 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 48);
        FloatVector lo2 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 64), hi2 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 80);
        FloatVector lo1 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 96), hi1 = FloatVector.fromArray(S, TRANSPOSE_INDEX, 112);
        long step = ld * Float.BYTES;
        int p = 0;
        for (; p <= kc - TILE; p += TILE) {
            long a = (from + p) * Float.BYTES;
            FloatVector r0 = rows > 0 ? FloatVector.fromMemorySegment(S, src, a, NATIVE) : z;
            FloatVector r1 = 1 < rows ? FloatVector.fromMemorySegment(S, src, a + 1 * step, NATIVE) : z;
            FloatVector r2 = 2 < rows ? FloatVector.fromMemorySegment(S, src, a + 2 * step, NATIVE) : z;
            FloatVector r3 = 3 < rows ? FloatVector.fromMemorySegment(S, src, a + 3 * step, NATIVE) : z;
            FloatVector r4 = 4 < rows ? FloatVector.fromMemorySegment(S, src, a + 4 * step, NATIVE) : z;
            FloatVector r5 = 5 < rows ? FloatVector.fromMemorySegment(S, src, a + 5 * step, NATIVE) : z;
            FloatVector r6 = 6 < rows ? FloatVector.fromMemorySegment(S, src, a + 6 * step, NATIVE) : z;
            FloatVector r7 = 7 < rows ? FloatVector.fromMemorySegment(S, src, a + 7 * step, NATIVE) : z;
            FloatVector r8 = 8 < rows ? FloatVector.fromMemorySegment(S, src, a + 8 * step, NATIVE) : z;
            FloatVector r9 = 9 < rows ? FloatVector.fromMemorySegment(S, src, a + 9 * step, NATIVE) : z;
            FloatVector r10 = 10 < rows ? FloatVector.fromMemorySegment(S, src, a + 10 * step, NATIVE) : z;
            FloatVector r11 = 11 < rows ? FloatVector.fromMemorySegment(S, src, a + 11 * step, NATIVE) : z;
            FloatVector r12 = 12 < rows ? FloatVector.fromMemorySegment(S, src, a + 12 * step, NATIVE) : z;
            FloatVector r13 = 13 < rows ? FloatVector.fromMemorySegment(S, src, a + 13 * step, NATIVE) : z;
            FloatVector r14 = 14 < rows ? FloatVector.fromMemorySegment(S, src, a + 14 * step, NATIVE) : z;
            FloatVector r15 = 15 < rows ? FloatVector.fromMemorySegment(S, src, a + 15 * step, NATIVE) : z;
            FloatVector s0 = lo8.selectFrom(r0, r8), s8 = hi8.selectFrom(r0, r8); FloatVector s1 = lo8.selectFrom(r1, r9), s9 = hi8.selectFrom(r1, r9);
            FloatVector s2 = lo8.selectFrom(r2, r10), s10 = hi8.selectFrom(r2, r10); FloatVector s3 = lo8.selectFrom(r3, r11), s11 = hi8.selectFrom(r3, r11);
            FloatVector s4 = lo8.selectFrom(r4, r12), s12 = hi8.selectFrom(r4, r12); FloatVector s5 = lo8.selectFrom(r5, r13), s13 = hi8.selectFrom(r5, r13);
            FloatVector s6 = lo8.selectFrom(r6, r14), s14 = hi8.selectFrom(r6, r14); FloatVector s7 = lo8.selectFrom(r7, r15), s15 = hi8.selectFrom(r7, r15);
            FloatVector t0 = lo4.selectFrom(s0, s4), t4 = hi4.selectFrom(s0, s4); FloatVector t1 = lo4.selectFrom(s1, s5), t5 = hi4.selectFrom(s1, s5);
            FloatVector t2 = lo4.selectFrom(s2, s6), t6 = hi4.selectFrom(s2, s6); FloatVector t3 = lo4.selectFrom(s3, s7), t7 = hi4.selectFrom(s3, s7);
            FloatVector t8 = lo4.selectFrom(s8, s12), t12 = hi4.selectFrom(s8, s12); FloatVector t9 = lo4.selectFrom(s9, s13), t13 = hi4.selectFrom(s9, s13);
            FloatVector t10 = lo4.selectFrom(s10, s14), t14 = hi4.selectFrom(s10, s14); FloatVector t11 = lo4.selectFrom(s11, s15), t15 = hi4.selectFrom(s11, s15);
            FloatVector u0 = lo2.selectFrom(t0, t2), u2 = hi2.selectFrom(t0, t2); FloatVector u1 = lo2.selectFrom(t1, t3), u3 = hi2.selectFrom(t1, t3);
            FloatVector u4 = lo2.selectFrom(t4, t6), u6 = hi2.selectFrom(t4, t6); FloatVector u5 = lo2.selectFrom(t5, t7), u7 = hi2.selectFrom(t5, t7);
            FloatVector u8 = lo2.selectFrom(t8, t10), u10 = hi2.selectFrom(t8, t10); FloatVector u9 = lo2.selectFrom(t9, t11), u11 = hi2.selectFrom(t9, t11);
            FloatVector u12 = lo2.selectFrom(t12, t14), u14 = hi2.selectFrom(t12, t14); FloatVector u13 = lo2.selectFrom(t13, t15), u15 = hi2.selectFrom(t13, t15);
            FloatVector w0 = lo1.selectFrom(u0, u1), w1 = hi1.selectFrom(u0, u1); FloatVector w2 = lo1.selectFrom(u2, u3), w3 = hi1.selectFrom(u2, u3);
            FloatVector w4 = lo1.selectFrom(u4, u5), w5 = hi1.selectFrom(u4, u5); FloatVector w6 = lo1.selectFrom(u6, u7), w7 = hi1.selectFrom(u6, u7);
            FloatVector w8 = lo1.selectFrom(u8, u9), w9 = hi1.selectFrom(u8, u9); FloatVector w10 = lo1.selectFrom(u10, u11), w11 = hi1.selectFrom(u10, u11);
            FloatVector w12 = lo1.selectFrom(u12, u13), w13 = hi1.selectFrom(u12, u13); FloatVector w14 = lo1.selectFrom(u14, u15), w15 = hi1.selectFrom(u14, u15);
            int d = at + p * NR;
            w0.blend(0f, w0.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d);
            w1.blend(0f, w1.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 1 * NR);
            w2.blend(0f, w2.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 2 * NR);
            w3.blend(0f, w3.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 3 * NR);
            w4.blend(0f, w4.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 4 * NR);
            w5.blend(0f, w5.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 5 * NR);
            w6.blend(0f, w6.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 6 * NR);
            w7.blend(0f, w7.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 7 * NR);
            w8.blend(0f, w8.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 8 * NR);
            w9.blend(0f, w9.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 9 * NR);
            w10.blend(0f, w10.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 10 * NR);
            w11.blend(0f, w11.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 11 * NR);
            w12.blend(0f, w12.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 12 * NR);
            w13.blend(0f, w13.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 13 * NR);
            w14.blend(0f, w14.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 14 * NR);
            w15.blend(0f, w15.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 15 * NR);
        }
        for (; p < kc; p++)
            for (int j = 0; j < TILE; j++)
                pb[at + p * NR + j] = j < rows ? flush(src.getAtIndex(F, from + j * ld + p)) : 0f;
    }
}
