package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
 * B not) a row of the panel is one or two vector copies. A transposed B is transposed in registers, 8 x 8 at a time
 * ({@link #transposeRowsLoop}, with 512-bit vectors; elsewhere it is gathered like A). Otherwise the panel's MR source
 * rows of A are copied whole into a per-thread buffer and gathered from there, one k at a time (for B this was about a
 * third faster than scattering each source row's vectors with the panel's stride).
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
        if (trans && TRANSPOSE_IN_REGISTERS) {
            for (int jr = jr0; jr < jr1; jr += NR) {
                int cols = Math.min(NR, nc - jr), base = at + jr * kc;
                for (int h = 0; h < NR; h += HL)
                    transposeRowsLoop(b, off + (long) (j0 + jr + h) * ld + p0, ld, Math.clamp(cols - h, 0, HL), kc, pb,
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

    /**
     * Whether a transposed B is transposed in registers ({@link #transposeRowsLoop}): on AVX-512 machines (16 lanes),
     * where a two-vector {@code selectFrom} is one vpermi2ps; elsewhere it is gathered as before.
     */
    private static final boolean TRANSPOSE_IN_REGISTERS = L == 16;
    /** The transpose works on 8 x 8 tiles of 256-bit vectors. */
    private static final VectorSpecies<Float> H = FloatVector.SPECIES_256;
    private static final int HL = 8;

    /**
     * The index vectors of the 8 x 8 transpose's three stages, for {@code selectFrom(v1, v2)} (indices 0-7 pick
     * lanes of v1, 8-15 lanes of v2): stage d (4, 2, 1) pairs vectors d apart and swaps that bit of the vector's
     * number with the same bit of the lane's, LO keeping the lanes where the bit is 0 and HI those where it is 1.
     */
    private static final float[] TRANSPOSE_INDEX = transposeIndex();

    private static float[] transposeIndex() {
        float[] ix = new float[6 * HL];
        for (int s = 0; s < 3; s++) {
            int d = HL >> (s + 1);
            for (int l = 0; l < HL; l++) {
                ix[2 * s * HL + l] = (l & d) == 0 ? l : HL + l - d;
                ix[(2 * s + 1) * HL + l] = (l & d) == 0 ? l + d : HL + l;
            }
        }
        return ix;
    }

    /**
     * {@code pb[at + p * NR + j] = flush(src[from + j * ld + p])} for j below {@code rows} (at most 8; zeros up to 8)
     * and p in [0, kc): 8 source rows become 8 columns of a k-major B panel. Each 8 x 8 tile (8 rows, 8 values of k)
     * is 8 loads of 256 bits, three stages of 8 two-vector permutes ({@code selectFrom}, one vpermi2ps each) and 8
     * stores; the last kc % 8 values of each row, and fewer than 8 rows, go one by one ({@link #transposeFewRowsLoop}).
     *
     * <p>Why: the gather it replaces (rows copied into a buffer, then 16 floats gathered per k) took 54% of a
     * 32 x 256 x 784 product with B transposed (a linear layer's forward in training) on one core of an AMD EPYC
     * (Zen 4), where a gather costs about as much as the multiply-adds it feeds. Why 8 x 8 tiles in one flat loop: a
     * 16 x 16 tile of 512-bit vectors (four stages, 24 vectors live) ran about 6% faster, but C2's on-stack-replacement
     * compilation of it took 18 s and 478-805 MB of compiler memory in about half of the ResNet-18 training workers
     * (their peak RSS 1.17-1.25 GB instead of 0.44-0.47), and of 8 x 8 tiles in a loop nested in another, 248 MB in
     * two of five. Named {@code *Loop} so that the launcher keeps it out of its callers.
     */
    static void transposeRowsLoop(MemorySegment src, long from, long ld, int rows, int kc, float[] pb, int at) {
        if (rows < HL) {
            transposeFewRowsLoop(src, from, ld, rows, kc, pb, at);
            return;
        }
        long step = ld * Float.BYTES;
        int p = 0;
        for (; p <= kc - HL; p += HL) {
            // The index vectors are loaded in the loop (C2 hoists them): held in locals across the loop's back edge,
            // they entered C2's on-stack-replacement compilation as boxed vectors, which took it 248 MB every time.
            FloatVector lo4 = FloatVector.fromArray(H, TRANSPOSE_INDEX, 0), hi4 = FloatVector.fromArray(H, TRANSPOSE_INDEX, 8);
            FloatVector lo2 = FloatVector.fromArray(H, TRANSPOSE_INDEX, 16), hi2 = FloatVector.fromArray(H, TRANSPOSE_INDEX, 24);
            FloatVector lo1 = FloatVector.fromArray(H, TRANSPOSE_INDEX, 32), hi1 = FloatVector.fromArray(H, TRANSPOSE_INDEX, 40);
            long a = (from + p) * Float.BYTES;
            FloatVector r0 = FloatVector.fromMemorySegment(H, src, a, NATIVE);
            FloatVector r1 = FloatVector.fromMemorySegment(H, src, a + 1 * step, NATIVE);
            FloatVector r2 = FloatVector.fromMemorySegment(H, src, a + 2 * step, NATIVE);
            FloatVector r3 = FloatVector.fromMemorySegment(H, src, a + 3 * step, NATIVE);
            FloatVector r4 = FloatVector.fromMemorySegment(H, src, a + 4 * step, NATIVE);
            FloatVector r5 = FloatVector.fromMemorySegment(H, src, a + 5 * step, NATIVE);
            FloatVector r6 = FloatVector.fromMemorySegment(H, src, a + 6 * step, NATIVE);
            FloatVector r7 = FloatVector.fromMemorySegment(H, src, a + 7 * step, NATIVE);
            FloatVector s0 = lo4.selectFrom(r0, r4), s4 = hi4.selectFrom(r0, r4); FloatVector s1 = lo4.selectFrom(r1, r5), s5 = hi4.selectFrom(r1, r5);
            FloatVector s2 = lo4.selectFrom(r2, r6), s6 = hi4.selectFrom(r2, r6); FloatVector s3 = lo4.selectFrom(r3, r7), s7 = hi4.selectFrom(r3, r7);
            FloatVector t0 = lo2.selectFrom(s0, s2), t2 = hi2.selectFrom(s0, s2); FloatVector t1 = lo2.selectFrom(s1, s3), t3 = hi2.selectFrom(s1, s3);
            FloatVector t4 = lo2.selectFrom(s4, s6), t6 = hi2.selectFrom(s4, s6); FloatVector t5 = lo2.selectFrom(s5, s7), t7 = hi2.selectFrom(s5, s7);
            FloatVector u0 = lo1.selectFrom(t0, t1), u1 = hi1.selectFrom(t0, t1); FloatVector u2 = lo1.selectFrom(t2, t3), u3 = hi1.selectFrom(t2, t3);
            FloatVector u4 = lo1.selectFrom(t4, t5), u5 = hi1.selectFrom(t4, t5); FloatVector u6 = lo1.selectFrom(t6, t7), u7 = hi1.selectFrom(t6, t7);
            int d = at + p * NR;
            u0.blend(0f, u0.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d);
            u1.blend(0f, u1.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 1 * NR);
            u2.blend(0f, u2.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 2 * NR);
            u3.blend(0f, u3.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 3 * NR);
            u4.blend(0f, u4.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 4 * NR);
            u5.blend(0f, u5.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 5 * NR);
            u6.blend(0f, u6.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 6 * NR);
            u7.blend(0f, u7.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, d + 7 * NR);
        }
        transposeFewRowsLoop(src, from + p, ld, HL, kc - p, pb, at + p * NR);
    }

    /**
     * {@link #transposeRowsLoop}'s definition one value at a time, for fewer than 8 rows (zeros up to 8) and the last
     * kc % 8 values; kept out of the vector loop, whose compilation it would only enlarge.
     */
    private static void transposeFewRowsLoop(MemorySegment src, long from, long ld, int rows, int kc, float[] pb, int at) {
        for (int p = 0; p < kc; p++)
            for (int j = 0; j < HL; j++)
                pb[at + p * NR + j] = j < rows ? flush(src.getAtIndex(F, from + j * ld + p)) : 0f;
    }
}
