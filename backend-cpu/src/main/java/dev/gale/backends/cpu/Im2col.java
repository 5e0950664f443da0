package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.S;
import static dev.gale.backends.cpu.GemmPacking.F;
import static dev.gale.backends.cpu.GemmPacking.NATIVE;

/**
 * Unfolds input windows into a column matrix and folds it back. Row {@code r = (c - c0) * kh * kw + ki * kw + kj}
 * of the column matrix holds, for output pixels {@code p in [p0, p1)} ({@code p = oy * ow + ox}), the input element
 * that kernel position (ki, kj) of channel c meets, or 0 in the padding. A convolution is then
 * {@code W[M x C kh kw] x col}; its input gradient folds {@code W^T x dY} back with {@link #col2imAdd}.
 *
 * <p>Each (row, output row) pair is one run: a zero prefix, a copy of input columns (a bulk copy at unit stride) and
 * a zero suffix, so no element needs its own bounds test.
 */
final class Im2col {
    private Im2col() {}

    /** Fills {@code col[r * ldc + p - p0]} from channels {@code [c0, c1)} of the image whose channel 0 is at {@code xOff}. */
    static void im2col(Window2d g, MemorySegment x, long xOff, int c0, int c1, int p0, int p1, float[] col, int ldc) {
        int hw = g.inSize();
        for (int c = c0; c < c1; c++) {
            long plane = xOff + (long) c * hw;
            for (int ki = 0; ki < g.kh(); ki++) {
                for (int kj = 0; kj < g.kw(); kj++) {
                    int row = ((c - c0) * g.kh() + ki) * g.kw() + kj, lo = g.firstValidCol(kj), hi = g.endValidCol(kj);
                    int colShift = kj * g.dilationW() - g.padLeft();
                    for (int p = p0; p < p1; ) {
                        int oy = p / g.ow(), ox0 = p - oy * g.ow(), ox1 = Math.min(g.ow(), ox0 + p1 - p);
                        int dst = row * ldc + p - p0 - ox0;
                        int iy = oy * g.strideH() - g.padTop() + ki * g.dilationH();
                        if (iy < 0 || iy >= g.h() || lo >= hi) {
                            Arrays.fill(col, dst + ox0, dst + ox1, 0f);
                        } else {
                            int a = Math.clamp(lo, ox0, ox1), b = Math.clamp(hi, a, ox1);
                            Arrays.fill(col, dst + ox0, dst + a, 0f);
                            long src = plane + (long) iy * g.w() + colShift;
                            if (g.strideW() == 1) {
                                if (b > a) MemorySegment.copy(x, F, (src + a) * Float.BYTES, col, dst + a, b - a);
                            } else {
                                for (int ox = a; ox < b; ox++) col[dst + ox] = x.getAtIndex(F, src + (long) ox * g.strideW());
                            }
                            Arrays.fill(col, dst + b, dst + ox1, 0f);
                        }
                        p += ox1 - ox0;
                    }
                }
            }
        }
    }

    /** Adds {@code col[r * ldc + p - p0]} into channels {@code [c0, c1)} of the image whose channel 0 is at {@code xOff}. */
    static void col2imAdd(Window2d g, float[] col, int ldc, int c0, int c1, int p0, int p1, MemorySegment dx, long xOff) {
        int hw = g.inSize();
        for (int c = c0; c < c1; c++) {
            long plane = xOff + (long) c * hw;
            for (int ki = 0; ki < g.kh(); ki++) {
                for (int kj = 0; kj < g.kw(); kj++) {
                    int row = ((c - c0) * g.kh() + ki) * g.kw() + kj, lo = g.firstValidCol(kj), hi = g.endValidCol(kj);
                    int colShift = kj * g.dilationW() - g.padLeft();
                    for (int p = p0; p < p1; ) {
                        int oy = p / g.ow(), ox0 = p - oy * g.ow(), ox1 = Math.min(g.ow(), ox0 + p1 - p);
                        int iy = oy * g.strideH() - g.padTop() + ki * g.dilationH();
                        if (iy >= 0 && iy < g.h() && lo < hi) {
                            int a = Math.clamp(lo, ox0, ox1), b = Math.clamp(hi, a, ox1);
                            int src = row * ldc + p - p0 - ox0;
                            long dst = plane + (long) iy * g.w() + colShift;
                            if (g.strideW() == 1) addRun(col, src + a, dx, dst + a, b - a);
                            else for (int ox = a; ox < b; ox++) {
                                long at = dst + (long) ox * g.strideW();
                                dx.setAtIndex(F, at, dx.getAtIndex(F, at) + col[src + ox]);
                            }
                        }
                        p += ox1 - ox0;
                    }
                }
            }
        }
    }

    /** dx[at, at + n) += col[from, from + n). */
    private static void addRun(float[] col, int from, MemorySegment dx, long at, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            long byteAt = (at + i) * Float.BYTES;
            FloatVector.fromMemorySegment(S, dx, byteAt, NATIVE).add(FloatVector.fromArray(S, col, from + i))
                    .intoMemorySegment(dx, byteAt, NATIVE);
        }
        for (; i < n; i++) dx.setAtIndex(F, at + i, dx.getAtIndex(F, at + i) + col[from + i]);
    }
}
