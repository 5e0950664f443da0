package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.MR;
import static dev.gale.backends.cpu.GemmKernel.NR;
import static dev.gale.backends.cpu.GemmKernel.S;

/**
 * Copies blocks of op(A) and op(B) into the micro-kernel's panel layouts, padding partial panels with zeros.
 * A panel holds MR rows k-major: {@code pa[(panel * kc + p) * MR + r]}; a B panel holds NR columns k-major:
 * {@code pb[(panel * kc + p) * NR + j]}. When the source is contiguous along the panel's width (A transposed,
 * B not) a row of the panel is one or two vector copies; otherwise each source row is read contiguously and written
 * with the panel's stride.
 */
final class GemmPacking {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private GemmPacking() {}

    /** Packs op(A)[i0:i0+mc, p0:p0+kc]; A[i, p] is at {@code off + i * ld + p}, or {@code off + p * ld + i} transposed. */
    static void packA(boolean trans, MemorySegment a, long off, long ld, int i0, int mc, int p0, int kc, float[] pa) {
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir), base = ir * kc;
            if (trans) {
                long src = off + (long) p0 * ld + i0 + ir;
                for (int p = 0; p < kc; p++, src += ld) {
                    int dst = base + p * MR;
                    for (int r = 0; r < rows; r++) pa[dst + r] = a.getAtIndex(F, src + r);
                    for (int r = rows; r < MR; r++) pa[dst + r] = 0f;
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    long src = off + (long) (i0 + ir + r) * ld + p0;
                    int dst = base + r;
                    for (int p = 0; p < kc; p++) pa[dst + p * MR] = a.getAtIndex(F, src + p);
                }
                for (int r = rows; r < MR; r++)
                    for (int p = 0; p < kc; p++) pa[base + r + p * MR] = 0f;
            }
        }
    }

    /** Packs op(B)[p0:p0+kc, j0:j0+nc]; B[p, j] is at {@code off + p * ld + j}, or {@code off + j * ld + p} transposed. */
    static void packB(boolean trans, MemorySegment b, long off, long ld, int p0, int kc, int j0, int nc, float[] pb) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr), base = jr * kc;
            if (trans) {
                for (int j = 0; j < cols; j++) {
                    long src = off + (long) (j0 + jr + j) * ld + p0;
                    int dst = base + j;
                    for (int p = 0; p < kc; p++) pb[dst + p * NR] = b.getAtIndex(F, src + p);
                }
                for (int j = cols; j < NR; j++)
                    for (int p = 0; p < kc; p++) pb[base + j + p * NR] = 0f;
            } else if (cols == NR) {
                long src = (off + (long) p0 * ld + j0 + jr) * Float.BYTES, step = ld * Float.BYTES;
                for (int p = 0; p < kc; p++, src += step) {
                    int dst = base + p * NR;
                    FloatVector.fromMemorySegment(S, b, src, NATIVE).intoArray(pb, dst);
                    FloatVector.fromMemorySegment(S, b, src + (long) L * Float.BYTES, NATIVE).intoArray(pb, dst + L);
                }
            } else {
                VectorMask<Float> m0 = S.indexInRange(0, cols), m1 = S.indexInRange(L, cols);
                long src = (off + (long) p0 * ld + j0 + jr) * Float.BYTES, step = ld * Float.BYTES;
                for (int p = 0; p < kc; p++, src += step) {
                    int dst = base + p * NR;
                    FloatVector.fromMemorySegment(S, b, src, NATIVE, m0).intoArray(pb, dst);
                    FloatVector.fromMemorySegment(S, b, src + (long) L * Float.BYTES, NATIVE, m1).intoArray(pb, dst + L);
                }
            }
        }
    }
}
