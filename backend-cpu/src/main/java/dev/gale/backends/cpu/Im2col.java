package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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

    /** Lanes 0, 2, 4, ...: a stride-2 run's elements within a vector of consecutive inputs. */
    private static final VectorMask<Float> EVEN = VectorMask.fromLong(S, 0x5555_5555_5555_5555L);

    /**
     * Fills {@code col[at + (r - r0) * ldc + p - p0]} for column-matrix rows {@code [r0, r1)} and output pixels
     * {@code [p0, p1)} of the image (or group) whose channel 0 is at {@code xOff}.
     */
    static void unfold(Window2d g, MemorySegment x, long xOff, int r0, int r1, int p0, int p1, float[] col, int at, int ldc) {
        int hw = g.inSize(), khw = g.kernelSize(), kw = g.kw(), ow = g.ow(), oyFirst = p0 / ow, oxFirst = p0 - oyFirst * ow;
        // No division in the loops: the kernel tap and the output row advance by counting (with 8 x 8 outputs the
        // divisions per run of 8 floats were a third of a weight gradient's time).
        int c = r0 / khw, ki = r0 % khw / kw, kj = r0 % kw;
        for (int row = r0; row < r1; row++) {
            long plane = xOff + (long) c * hw;
            int lo = g.firstValidCol(kj), hi = g.endValidCol(kj), colShift = kj * g.dilationW() - g.padLeft();
            int iy = oyFirst * g.strideH() - g.padTop() + ki * g.dilationH();
            for (int p = p0, ox0 = oxFirst; p < p1; ox0 = 0, iy += g.strideH()) {
                int ox1 = Math.min(ow, ox0 + p1 - p);
                int dst = at + (row - r0) * ldc + p - p0 - ox0;
                if (iy < 0 || iy >= g.h() || lo >= hi) {
                    Arrays.fill(col, dst + ox0, dst + ox1, 0f);
                } else if (g.strideW() == 1 && ox1 - ox0 <= L) {
                    // A run of at most one vector (outputs 16 wide or less): one masked load, zeros where the
                    // window meets the padding, and one masked store, instead of a copy call between two fills.
                    int a = Math.clamp(lo, ox0, ox1), b = Math.clamp(hi, a, ox1);
                    long src = plane + (long) iy * g.w() + colShift + ox0;
                    VectorMask<Float> valid = S.indexInRange(ox0 - a, b - a);
                    FloatVector.fromMemorySegment(S, x, src * Float.BYTES, NATIVE, valid)
                            .intoArray(col, dst + ox0, S.indexInRange(0, ox1 - ox0));
                } else {
                    int a = Math.clamp(lo, ox0, ox1), b = Math.clamp(hi, a, ox1);
                    Arrays.fill(col, dst + ox0, dst + a, 0f);
                    long src = plane + (long) iy * g.w() + colShift;
                    if (g.strideW() == 1) {
                        if (b > a) MemorySegment.copy(x, F, (src + a) * Float.BYTES, col, dst + a, b - a);
                    } else if (g.strideW() == 2) {
                        // ResNet's 7 x 7 / 2 stem: element by element, the unfold was 37% of its weight gradient
                        if (b > a) copyStride2Loop(x, src + 2L * a, col, dst + a, b - a);
                    } else {
                        for (int ox = a; ox < b; ox++) col[dst + ox] = x.getAtIndex(F, src + (long) ox * g.strideW());
                    }
                    Arrays.fill(col, dst + b, dst + ox1, 0f);
                }
                p += ox1 - ox0;
            }
            if (++kj == kw) {
                kj = 0;
                if (++ki == g.kh()) {
                    ki = 0;
                    c++;
                }
            }
        }
    }

    /**
     * Unfolds column-matrix rows {@code [r0, r0 + kc)} for output pixels {@code [q0, q1)} straight into GEMM B-panel
     * layout: pixel q goes to panel {@code (q - q0) / NR}, lane {@code (q - q0) % NR}, i.e.
     * {@code pb[at + ((q - q0) / NR * kc + r - r0) * NR + (q - q0) % NR]}; lanes past q1 in the last panel are zeroed.
     * Each (row, output row) pair is one run, cut only where it crosses a panel; unit-stride runs are vector copies.
     */
    static void unfoldPanels(Window2d g, MemorySegment x, long xOff, int r0, int kc, int q0, int q1, float[] pb, int at) {
        int hw = g.inSize(), khw = g.kernelSize(), nr = GemmKernel.NR, ow = g.ow();
        for (int row = r0; row < r0 + kc; row++) {
            int c = row / khw, ki = row % khw / g.kw(), kj = row % g.kw();
            long plane = xOff + (long) c * hw;
            int lo = g.firstValidCol(kj), hi = g.endValidCol(kj), colShift = kj * g.dilationW() - g.padLeft();
            int rowBase = at + (row - r0) * nr;
            for (int q = q0; q < q1; ) {
                int oy = q / ow, ox0 = q - oy * ow, ox1 = Math.min(ow, ox0 + q1 - q);
                int iy = oy * g.strideH() - g.padTop() + ki * g.dilationH();
                boolean rowValid = iy >= 0 && iy < g.h() && lo < hi;
                int a = rowValid ? Math.clamp(lo, ox0, ox1) : ox1, b = rowValid ? Math.clamp(hi, a, ox1) : ox1;
                long src = plane + (long) iy * g.w() + colShift;
                // [ox0, a) and [b, ox1) are padding; [a, b) reads input columns ox * strideW + colShift.
                for (int ox = ox0; ox < ox1; ) {
                    int rel = q - q0 + ox - ox0, lane = rel % nr, dst = rowBase + rel / nr * kc * nr + lane;
                    int end = Math.min(ox1, ox + nr - lane);
                    if (ox < a) end = Math.min(end, a);
                    else if (ox < b) end = Math.min(end, b);
                    int n = end - ox;
                    if (ox < a || ox >= b) {
                        for (int i = 0; i < n; i++) pb[dst + i] = 0f;
                    } else if (g.strideW() == 1) {
                        copyRun(x, src + ox, pb, dst, n);
                    } else if (g.strideW() == 2) {
                        copyStride2Loop(x, src + 2L * ox, pb, dst, n);
                    } else {
                        for (int i = 0; i < n; i++) pb[dst + i] = GemmPacking.flush(x.getAtIndex(F, src + (long) (ox + i) * g.strideW()));
                    }
                    ox = end;
                }
                q += ox1 - ox0;
            }
        }
        int used = q1 - q0, tail = used % nr;
        if (tail != 0) {
            int panel = at + used / nr * kc * nr;
            for (int r = 0; r < kc; r++) Arrays.fill(pb, panel + r * nr + tail, panel + (r + 1) * nr, 0f);
        }
    }

    /** pb[dst, dst + n) = x[from, from + n), n at most NR: one or two (masked) vector copies, subnormals flushed. */
    private static void copyRun(MemorySegment x, long from, float[] pb, int dst, int n) {
        long byteAt = from * Float.BYTES;
        for (int i = 0; i < n; i += L, byteAt += (long) L * Float.BYTES) {
            if (n - i >= L) {
                FloatVector v = FloatVector.fromMemorySegment(S, x, byteAt, NATIVE);
                v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst + i);
            } else {
                var m = S.indexInRange(i, n);
                FloatVector v = FloatVector.fromMemorySegment(S, x, byteAt, NATIVE, m);
                v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(pb, dst + i, m);
            }
        }
    }

    /**
     * pb[dst, dst + n) = x[from], x[from + 2], ..., subnormals flushed: each vector of 2L input floats' even lanes
     * compressed into L / 2 and stored with a mask, the loads masked at the run's end so that they stay within the
     * input. A stride-2 layer (ResNet's 7 x 7 / 2 stem) unfolded element by element spent about half its time there.
     */
    private static void copyStride2Loop(MemorySegment x, long from, float[] pb, int dst, int n) {
        int half = L / 2;
        long byteAt = from * Float.BYTES;
        for (int i = 0; i < n; i += half, byteAt += (long) L * Float.BYTES) {
            int cnt = Math.min(half, n - i);
            FloatVector v = FloatVector.fromMemorySegment(S, x, byteAt, NATIVE, S.indexInRange(0, 2 * cnt - 1));
            v.blend(0f, v.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).compress(EVEN)
                    .intoArray(pb, dst + i, S.indexInRange(0, cnt));
        }
    }

    /** {@link #unfold} of whole channels {@code [c0, c1)} into {@code col[(r - c0 kh kw) * ldc + p - p0]}. */
    static void im2col(Window2d g, MemorySegment x, long xOff, int c0, int c1, int p0, int p1, float[] col, int ldc) {
        int khw = g.kernelSize();
        unfold(g, x, xOff, c0 * khw, c1 * khw, p0, p1, col, 0, ldc);
    }

    /**
     * Adds {@code col[r * ldc + p - p0]} into channels {@code [c0, c1)}, held in a heap array: channel c's plane at
     * {@code acc[(c - c0) * h * w]}. Into a heap array, not the arena: element by element (a stride above 1) an array
     * add costs a fraction of a segment read and write (a stride-2 ConvTranspose, 64 to 32 channels, 16x16 to 32x32,
     * batch 16, spent 40% of its time folding into the arena, 2.1 million adds a run).
     */
    static void col2imAdd(Window2d g, float[] col, int ldc, int c0, int c1, int p0, int p1, float[] acc) {
        if (g.strideW() == 2 && g.dilationW() == 1 && INTERLEAVES) {
            col2imAddStride2(g, col, ldc, c0, c1, p0, p1, acc);
            return;
        }
        int hw = g.inSize(), sw = g.strideW();
        for (int c = c0; c < c1; c++) {
            int plane = (c - c0) * hw;
            for (int ki = 0; ki < g.kh(); ki++) {
                for (int kj = 0; kj < g.kw(); kj++) {
                    int row = ((c - c0) * g.kh() + ki) * g.kw() + kj, lo = g.firstValidCol(kj), hi = g.endValidCol(kj);
                    int colShift = kj * g.dilationW() - g.padLeft();
                    for (int p = p0; p < p1; ) {
                        int oy = p / g.ow(), ox0 = p - oy * g.ow(), ox1 = Math.min(g.ow(), ox0 + p1 - p);
                        int iy = oy * g.strideH() - g.padTop() + ki * g.dilationH();
                        if (iy >= 0 && iy < g.h() && lo < hi) {
                            int a = Math.clamp(lo, ox0, ox1), b = Math.clamp(hi, a, ox1);
                            int src = row * ldc + p - p0 - ox0, dst = plane + iy * g.w() + colShift;
                            if (sw == 1) {
                                int i = a;
                                for (; i <= b - L; i += L)
                                    FloatVector.fromArray(S, acc, dst + i).add(FloatVector.fromArray(S, col, src + i))
                                            .intoArray(acc, dst + i);
                                for (; i < b; i++) acc[dst + i] += col[src + i];
                            } else {
                                for (int ox = a; ox < b; ox++) acc[dst + ox * sw] += col[src + ox];
                            }
                        }
                        p += ox1 - ox0;
                    }
                }
            }
        }
    }

    /** Whether {@link #col2imAddStride2} runs (16 lanes: its selection is written for them). */
    static final boolean INTERLEAVES = L == 16 && !Boolean.getBoolean("gale.conv.scalarFold");
    /** Lane j takes lane j / 2 of a (j even) or of b (j odd): lanes 0-7 of a and b interleaved. */
    private static final FloatVector INTERLEAVE = INTERLEAVES ? interleave() : null;

    private static FloatVector interleave() {
        float[] index = new float[L];
        for (int j = 0; j < L; j++) index[j] = j / 2 + (j % 2 == 0 ? 0 : L);
        return FloatVector.fromArray(S, index, 0);
    }

    /**
     * The array {@link #col2imAdd} for a horizontal stride of 2 (dilation 1), the fold of a stride-2 convolution's
     * input gradient and of a stride-2 ConvTranspose: kernel columns kj and kj + 1 land on the even and odd columns of
     * one run, so 8 output columns of their two column-matrix rows interleave in registers (one two-vector selection)
     * into 16 consecutive floats of the plane, added with one load and store; one at a time, each float cost an add
     * and the run's bookkeeping was paid per kernel column. An odd last kernel column pairs with zeros (the odd
     * columns it adds 0 to stay inside its row); the ends of a run where only one of the two columns is valid, and
     * the last few columns, go one by one.
     */
    private static void col2imAddStride2(Window2d g, float[] col, int ldc, int c0, int c1, int p0, int p1, float[] acc) {
        int hw = g.inSize(), kw = g.kw(), half = L / 2, w = g.w();
        for (int c = c0; c < c1; c++) {
            int plane = (c - c0) * hw;
            for (int ki = 0; ki < g.kh(); ki++) {
                for (int kj = 0; kj < kw; kj += 2) {
                    boolean pair = kj + 1 < kw;
                    int rowA = ((c - c0) * g.kh() + ki) * kw + kj;
                    int loA = g.firstValidCol(kj), hiA = g.endValidCol(kj);
                    int loB = pair ? g.firstValidCol(kj + 1) : loA, hiB = pair ? g.endValidCol(kj + 1) : hiA;
                    int shift = kj - g.padLeft(); // kernel column kj adds output column ox at input column shift + 2 ox
                    for (int p = p0; p < p1; ) {
                        int oy = p / g.ow(), ox0 = p - oy * g.ow(), ox1 = Math.min(g.ow(), ox0 + p1 - p);
                        int iy = oy * g.strideH() - g.padTop() + ki * g.dilationH();
                        int srcA = rowA * ldc + p - p0 - ox0, srcB = srcA + ldc;
                        p += ox1 - ox0;
                        if (iy < 0 || iy >= g.h()) continue;
                        int rowStart = plane + iy * w, dst = rowStart + shift;
                        int aA = Math.clamp(loA, ox0, ox1), bA = Math.clamp(hiA, aA, ox1);
                        int aB = Math.clamp(loB, ox0, ox1), bB = Math.clamp(hiB, aB, ox1);
                        int a = Math.max(aA, aB), b = Math.max(a, Math.min(bA, bB));
                        // Alone, A's vectors add 0 at the odd column after each of its own: keep that in the row.
                        if (!pair) b = Math.max(a, Math.min(b, (w - 1 - shift) / 2));
                        int last = col.length - L - (pair ? srcB : srcA); // vector reads stay in the array
                        int ox = a;
                        for (; ox + half <= b && ox <= last; ox += half) {
                            FloatVector va = FloatVector.fromArray(S, col, srcA + ox);
                            FloatVector vb = pair ? FloatVector.fromArray(S, col, srcB + ox) : FloatVector.zero(S);
                            int at = dst + 2 * ox;
                            FloatVector.fromArray(S, acc, at).add(INTERLEAVE.selectFrom(va, vb)).intoArray(acc, at);
                        }
                        for (int x = aA; x < bA; x++) if (x < a || x >= ox) acc[dst + 2 * x] += col[srcA + x];
                        if (pair) for (int x = aB; x < bB; x++) if (x < a || x >= ox) acc[dst + 2 * x + 1] += col[srcB + x];
                    }
                }
            }
        }
    }
}
