package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.gale.backends.cpu.GemmPacking.F;

/**
 * Max and average pooling over NCHW planes, forward and backward, with the semantics of Gale's reference
 * interpreter (ONNX MaxPool/AveragePool and the {@code gale} gradient ops):
 * <ul>
 *   <li>padding never contributes a value; a window with no input element gives -inf (max) or 0 (average);</li>
 *   <li>max: a NaN in the window wins; the gradient goes to the window's first maximum, or to its last NaN
 *       (PyTorch's scan: take a position that is larger or NaN);</li>
 *   <li>average: the divisor counts the window's input elements, plus, with {@code countIncludePad}, its positions
 *       in the explicit padding (not those past it, which only {@code ceil_mode} windows reach).</li>
 * </ul>
 * Each window's valid kernel rows and columns are computed once, so the inner loops test no bounds. Planes
 * ({@code n * c} of them) are split across the pool. The commonest window, 2 x 2 with stride 2 and no padding, runs
 * vectorized: two input rows at a time, neighbouring lanes combined through a 64-bit rotate of each pair and the
 * even lanes compressed into the low half. (These loops avoid float shuffles, which C2 left as boxed calls inside
 * them.)
 *
 * <p>Whether C2 keeps these vectors in registers depends on what the JVM ran before, so two rules keep it from
 * depending on that. Every vector has the preferred shape (see {@link #maxRowLoop}). And the vectorized row kernels
 * are named {@code *Loop}: the launcher's and the build's
 * {@code -XX:CompileCommand=dontinline,dev.gale.backends.cpu.*::*Loop} keeps each one out of its caller, so C2 compiles
 * it alone with the Vector API inlined into it, away from the budgets of the plane loop and the pool's task. An
 * average pool allocated 53 KB a call in one CI run, where it allocates nothing.
 */
public final class Pool2d {
    private Pool2d() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorMask<Float> EVEN = VectorMask.fromLong(S, 0x5555_5555_5555_5555L);
    private static final VectorMask<Float> ODD = EVEN.not();
    /** The lanes a row kernel's compressed result fills: one per window of the {@code L} input lanes. */
    private static final VectorMask<Float> LOW_HALF = S.indexInRange(0, L / 2);
    /** A window's positions ranked in scan order: 0, 1 in its upper row, 2, 3 in its lower row; 4 ranks nothing. */
    private static final FloatVector RANK_TOP = FloatVector.fromArray(S, ranks(0), 0);
    private static final FloatVector RANK_BOTTOM = FloatVector.fromArray(S, ranks(2), 0);
    private static final FloatVector NO_RANK = FloatVector.broadcast(S, 4f);
    private static final FloatVector ZERO = FloatVector.zero(S);
    /** Lanes 2i and 2i + 1 swapped, for {@link #maxChunk}. */
    private static final VectorShuffle<Float> SWAP = VectorShuffle.fromOp(S, i -> i ^ 1);

    private static float[] ranks(int first) {
        float[] r = new float[L];
        for (int i = 0; i < L; i++) r[i] = first + (i & 1);
        return r;
    }

    /** A 2 x 2 window with stride 2, no padding, no dilation, wholly inside the input. */
    static boolean isHalving(Window2d g) {
        return g.kh() == 2 && g.kw() == 2 && g.strideH() == 2 && g.strideW() == 2 && g.dilationH() == 1
                && g.dilationW() == 1 && g.padTop() == 0 && g.padLeft() == 0 && g.padBottom() == 0
                && g.padRight() == 0 && 2L * g.oh() <= g.h() && 2L * g.ow() <= g.w() && L >= 4;
    }

    /**
     * One plane of {@link #maxForward} (element offsets, no checks): the 2 x 2 / 2 row kernel (a NaN wins), or the
     * general window loop. The convolution with a fused max pooling calls it on each block it has just computed.
     */
    static void maxPlane(Window2d g, MemorySegment x, long xp, MemorySegment y, long yp) {
        if (isHalving(g)) {
            for (int oy = 0; oy < g.oh(); oy++) {
                long r0 = (xp + 2L * oy * g.w()) << 2, r1 = r0 + ((long) g.w() << 2), yr = (yp + (long) oy * g.ow()) << 2;
                maxRowLoop(g.ow(), x, r0, r1, y, yr);
            }
            return;
        }
        for (int oy = 0; oy < g.oh(); oy++) {
            int iy0 = oy * g.strideH() - g.padTop();
            int kiLo = kLo(iy0, g.dilationH()), kiHi = kHi(iy0, g.dilationH(), g.kh(), g.h());
            for (int ox = 0; ox < g.ow(); ox++) {
                int ix0 = ox * g.strideW() - g.padLeft();
                int kjLo = kLo(ix0, g.dilationW()), kjHi = kHi(ix0, g.dilationW(), g.kw(), g.w());
                float best = Float.NEGATIVE_INFINITY;
                for (int ki = kiLo; ki < kiHi; ki++) {
                    long row = xp + (long) (iy0 + ki * g.dilationH()) * g.w() + ix0;
                    for (int kj = kjLo; kj < kjHi; kj++) {
                        float v = x.getAtIndex(F, row + (long) kj * g.dilationW());
                        if (v > best || v != v) best = v;
                    }
                }
                y.setAtIndex(F, yp + (long) oy * g.ow() + ox, best);
            }
        }
    }

    /**
     * One row of 2 x 2 windows (byte offsets): the two input rows combined lane by lane, each pair combined with its
     * swapped self, and the even lanes compressed into the low half of the vector, which a masked store writes.
     *
     * <p>Every vector here has the preferred shape. The narrowing used to go through half-width vectors: their stores
     * put a second vector class in the type profile of the Vector API's shared store methods, C2's class speculation
     * there then failed in the max pool backward (all full-width), which after a few recompiles C2 compiled with a
     * non-constant vector class, so its stores went through the boxed fallback (18 KB a call, in most fresh JVMs that
     * ran the forward first).
     */
    private static void maxRowLoop(int ow, MemorySegment x, long r0, long r1, MemorySegment y, long yr) {
        int half = L / 2, ox = 0;
        for (; ox + half <= ow; ox += half) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, r0 + 8L * ox, ORDER)
                    .max(FloatVector.fromMemorySegment(S, x, r1 + 8L * ox, ORDER));
            v.max(VMath.swapPairs(v)).compress(EVEN).intoMemorySegment(y, yr + 4L * ox, ORDER, LOW_HALF);
        }
        if (ox < ow) {
            int cnt = ow - ox;
            VectorMask<Float> in = S.indexInRange(0, 2 * cnt);
            FloatVector v = FloatVector.fromMemorySegment(S, x, r0 + 8L * ox, ORDER, in)
                    .max(FloatVector.fromMemorySegment(S, x, r1 + 8L * ox, ORDER, in));
            v.max(VMath.swapPairs(v)).compress(EVEN).intoMemorySegment(y, yr + 4L * ox, ORDER, S.indexInRange(0, cnt));
        }
    }

    /** {@link #maxRowLoop} for the mean of each window. */
    private static void averageRowLoop(int ow, MemorySegment x, long r0, long r1, MemorySegment y, long yr) {
        int half = L / 2, ox = 0;
        for (; ox + half <= ow; ox += half) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, r0 + 8L * ox, ORDER)
                    .add(FloatVector.fromMemorySegment(S, x, r1 + 8L * ox, ORDER));
            v.add(VMath.swapPairs(v)).mul(0.25f).compress(EVEN).intoMemorySegment(y, yr + 4L * ox, ORDER, LOW_HALF);
        }
        if (ox < ow) {
            int cnt = ow - ox;
            VectorMask<Float> in = S.indexInRange(0, 2 * cnt);
            FloatVector v = FloatVector.fromMemorySegment(S, x, r0 + 8L * ox, ORDER, in)
                    .add(FloatVector.fromMemorySegment(S, x, r1 + 8L * ox, ORDER, in));
            v.add(VMath.swapPairs(v)).mul(0.25f).compress(EVEN)
                    .intoMemorySegment(y, yr + 4L * ox, ORDER, S.indexInRange(0, cnt));
        }
    }

    /**
     * dX for the 2 x 2 / 2 window: the windows do not overlap, so each input element is written once (rows and columns
     * past the last window, when h or w is odd, get zero): max routes dY to the window's first maximum (or last NaN),
     * average spreads dY / 4. Vectorized over {@code L / 2} windows at a time: each lane of the two input rows gets a
     * rank (0, 1 in the upper row, 2, 3 in the lower), the lowest rank equal to the window's maximum wins, and dY,
     * spread over the window's lanes, is kept where the rank wins. A chunk with a NaN takes the scalar path.
     */
    private static void halvingBackward(KernelPool pool, int planes, Window2d g, boolean max, MemorySegment dy,
                                        long dyOff, MemorySegment x, long xOff, MemorySegment dx, long dxOff) {
        int w = g.w(), h = g.h(), ow = g.ow(), oh = g.oh();
        forEachPlane(pool, planes, g, (pl) -> {
            long xp = xOff + (long) pl * g.inSize(), dxp = dxOff + (long) pl * g.inSize(), yp = dyOff + (long) pl * g.outSize();
            if (2 * oh < h || 2 * ow < w) dx.asSlice(dxp * Float.BYTES, (long) g.inSize() * Float.BYTES).fill((byte) 0);
            for (int oy = 0; oy < oh; oy++) {
                if (max) maxRowBackwardLoop(ow, dy, yp + (long) oy * ow, x, xp, dx, dxp, 2L * oy * w, w);
                else averageRowBackwardLoop(ow, dy, yp + (long) oy * ow, dx, dxp + 2L * oy * w, w);
            }
        });
    }

    /** One row of 2 x 2 windows: dY at {@code yr}, the window's upper input row at {@code r0} (of planes xp, dxp). */
    private static void maxRowBackwardLoop(int ow, MemorySegment dy, long yr, MemorySegment x, long xp, MemorySegment dx,
                                       long dxp, long r0, int w) {
        int half = L / 2;
        long r1 = r0 + w;
        for (int ox = 0; ox < ow; ox += half) {
            int cnt = Math.min(half, ow - ox);
            long a0 = (xp + r0 + 2L * ox) << 2, a1 = (xp + r1 + 2L * ox) << 2, d0 = (dxp + r0 + 2L * ox) << 2;
            boolean done = maxChunk(cnt, dy, (yr + ox) << 2, x, a0, a1, dx, d0, d0 + ((long) w << 2));
            if (!done)
                for (int o = ox; o < ox + cnt; o++)
                    maxWindowBackward(dy.getAtIndex(F, yr + o), x, xp, dx, dxp, r0 + 2L * o, r1 + 2L * o);
        }
    }

    /**
     * Up to {@code L / 2} windows ({@code cnt}): the upper input row at byte a0, the lower at a1, dY at yAt, dX rows
     * at d0 and d1 (bytes). Returns false, writing nothing, when a NaN is among the inputs (the caller takes the
     * scalar path).
     *
     * <p>One masked method serves whole and partial chunks. With a second, unmasked copy for whole chunks, both
     * inlined into the row loop, C2 sometimes (depending on what it had compiled before) stopped inlining the Vector
     * API's force-inlined internals partway and boxed a vector per row: {@code KernelAllocationTest} saw 9 and 18 KiB
     * per call in about half of fresh JVMs. The pair swaps are {@code rearrange} with a constant shuffle (one
     * {@code vpermps}), not the 64-bit rotate of {@link VMath#swapPairs}, whose {@code Vector<Long>} call sites C2 could not
     * always bind statically here.
     */
    private static boolean maxChunk(int cnt, MemorySegment dy, long yAt, MemorySegment x, long a0, long a1,
                                    MemorySegment dx, long d0, long d1) {
        VectorMask<Float> in = S.indexInRange(0, 2 * cnt);
        FloatVector a = FloatVector.fromMemorySegment(S, x, a0, ORDER, in), b = FloatVector.fromMemorySegment(S, x, a1, ORDER, in);
        FloatVector v = a.max(b);
        if (v.compare(VectorOperators.NE, v).anyTrue()) return false;
        FloatVector top = v.max(v.rearrange(SWAP));
        FloatVector rank = RANK_TOP.blend(NO_RANK, a.compare(VectorOperators.NE, top))
                .min(RANK_BOTTOM.blend(NO_RANK, b.compare(VectorOperators.NE, top)));
        // dY spread over each window's two lanes: expanded into the even lanes, then copied into the odd ones
        FloatVector e = FloatVector.fromMemorySegment(S, dy, yAt, ORDER, S.indexInRange(0, cnt)).expand(EVEN);
        FloatVector win = rank.min(rank.rearrange(SWAP)), d = e.blend(e.rearrange(SWAP), ODD);
        ZERO.blend(d, RANK_TOP.eq(win)).intoMemorySegment(dx, d0, ORDER, in);
        ZERO.blend(d, RANK_BOTTOM.eq(win)).intoMemorySegment(dx, d1, ORDER, in);
        return true;
    }

    /** One row of 2 x 2 windows: dY / 4 at {@code yr} spread over the two input rows from {@code dxAt}. */
    private static void averageRowBackwardLoop(int ow, MemorySegment dy, long yr, MemorySegment dx, long dxAt, int w) {
        int half = L / 2;
        for (int ox = 0; ox < ow; ox += half) {
            int cnt = Math.min(half, ow - ox);
            VectorMask<Float> in = S.indexInRange(0, 2 * cnt);
            FloatVector e = FloatVector.fromMemorySegment(S, dy, (yr + ox) << 2, ORDER, S.indexInRange(0, cnt)).expand(EVEN);
            FloatVector q = e.blend(VMath.swapPairs(e), ODD).mul(0.25f);
            q.intoMemorySegment(dx, (dxAt + 2L * ox) << 2, ORDER, in);
            q.intoMemorySegment(dx, (dxAt + w + 2L * ox) << 2, ORDER, in);
        }
    }

    /** One 2 x 2 window's max gradient, scalar: the first maximum, or the last NaN, takes d. */
    private static void maxWindowBackward(float d, MemorySegment x, long xp, MemorySegment dx, long dxp, long p0, long p2) {
        long p1 = p0 + 1, p3 = p2 + 1;
        float v0 = x.getAtIndex(F, xp + p0), v1 = x.getAtIndex(F, xp + p1);
        float v2 = x.getAtIndex(F, xp + p2), v3 = x.getAtIndex(F, xp + p3);
        float best = v0;
        int arg = 0;
        if (v1 > best || v1 != v1) { best = v1; arg = 1; }
        if (v2 > best || v2 != v2) { best = v2; arg = 2; }
        if (v3 > best || v3 != v3) arg = 3;
        dx.setAtIndex(F, dxp + p0, arg == 0 ? d : 0f);
        dx.setAtIndex(F, dxp + p1, arg == 1 ? d : 0f);
        dx.setAtIndex(F, dxp + p2, arg == 2 ? d : 0f);
        dx.setAtIndex(F, dxp + p3, arg == 3 ? d : 0f);
    }

    /** Y[planes, oh, ow] = max over each window of X[planes, h, w]. */
    public static void maxForward(KernelPool pool, int planes, Window2d g, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check(pool, planes, g, x, xOff, y, yOff);
        if (isHalving(g) || g.dilationH() != 1 || g.dilationW() != 1) {
            forEachPlane(pool, planes, g, (pl) -> maxPlane(g, x, xOff + (long) pl * g.inSize(), y, yOff + (long) pl * g.outSize()));
            return;
        }
        int buffer = rowSpan(g) + g.outSize();
        forEachPlane(pool, planes, g, (pl, s) -> maxPlaneRows(g, x, xOff + (long) pl * g.inSize(), y,
                yOff + (long) pl * g.outSize(), s.work(buffer)));
    }

    /**
     * Floats of the row buffer of {@link #maxPlaneRows}: input columns from -padLeft on, and room for the vector loads
     * of {@link #maxAlongLoop} past them (lanes whose outputs are not stored).
     */
    private static int rowSpan(Window2d g) {
        return Math.max((g.ow() - 1) * g.strideW() + g.kw(), g.padLeft() + g.w()) + L + g.kw();
    }

    /**
     * One plane of {@link #maxForward} for any window without dilation (ResNet's 3 x 3 / 2 stem pool, padded): for
     * each output row, its input rows are maxed lane by lane into a row buffer whose padding columns hold -inf
     * ({@link #maxRowsLoop}), each window is then the max of {@code kw} neighbours in that buffer, and the plane's
     * result, gathered after the row buffer in {@code buf}, is copied out whole. The general window loop read every
     * element through its own bounds-checked segment access: the 8 x 64 x 32 x 32 stem pool of a ResNet-18 at batch 8
     * took 2.9 ms on 2 threads.
     */
    private static void maxPlaneRows(Window2d g, MemorySegment x, long xp, MemorySegment y, long yp, float[] buf) {
        int pl = g.padLeft(), w = g.w(), span = rowSpan(g), sw = g.strideW(), kw = g.kw(), ow = g.ow();
        java.util.Arrays.fill(buf, 0, pl, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(buf, pl + w, span, Float.NEGATIVE_INFINITY);
        for (int oy = 0; oy < g.oh(); oy++) {
            int iy0 = oy * g.strideH() - g.padTop();
            int kiLo = kLo(iy0, 1), kiHi = kHi(iy0, 1, g.kh(), g.h()), out = span + oy * ow;
            if (kiLo >= kiHi) {
                java.util.Arrays.fill(buf, out, out + ow, Float.NEGATIVE_INFINITY);
                continue;
            }
            maxRowsLoop(x, (xp + (long) (iy0 + kiLo) * w) << 2, (long) w << 2, kiHi - kiLo, buf, pl, w);
            if (sw <= 2) {
                maxAlongLoop(buf, kw, sw, out, ow);
                continue;
            }
            for (int ox = 0; ox < ow; ox++) {
                int j = ox * sw;
                float best = buf[j];
                for (int kj = 1; kj < kw; kj++) best = Math.max(best, buf[j + kj]);
                buf[out + ox] = best;
            }
        }
        MemorySegment.copy(buf, span, y, F, yp << 2, g.outSize());
    }

    /**
     * {@code buf[out + o] = max(buf[o * sw, o * sw + kw))} for o in [0, ow), stride 1 or 2: the window maxima along
     * the row buffer in vectors (a scalar max per element, NaN-aware, mispredicted its branches on most elements and
     * took about 40 cycles an output). With stride 2 the maxima of all positions are taken and the even ones
     * compressed into place, as {@link #maxRowLoop} does.
     */
    private static void maxAlongLoop(float[] buf, int kw, int sw, int out, int ow) {
        int step = sw == 1 ? L : L / 2;
        for (int o = 0; o < ow; o += step) {
            int i = o * sw;
            FloatVector v = FloatVector.fromArray(S, buf, i);
            for (int kj = 1; kj < kw; kj++) v = v.max(FloatVector.fromArray(S, buf, i + kj));
            VectorMask<Float> keep = S.indexInRange(0, Math.min(step, ow - o));
            if (sw == 1) v.intoArray(buf, out + o, keep);
            else v.compress(EVEN).intoArray(buf, out + o, keep);
        }
    }

    /**
     * {@code buf[at, at + n)} = the lane-by-lane max (a NaN wins) of {@code rows} input rows of {@code n} floats, the
     * first at byte {@code row}, the next {@code stride} bytes on.
     */
    private static void maxRowsLoop(MemorySegment x, long row, long stride, int rows, float[] buf, int at, int n) {
        int i = 0;
        for (int end = n - n % L; i < end; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, row + 4L * i, ORDER);
            for (int r = 1; r < rows; r++) v = v.max(FloatVector.fromMemorySegment(S, x, row + r * stride + 4L * i, ORDER));
            v.intoArray(buf, at + i);
        }
        for (; i < n; i++) {
            float b = x.get(F, row + 4L * i);
            for (int r = 1; r < rows; r++) b = Math.max(b, x.get(F, row + r * stride + 4L * i));
            buf[at + i] = b;
        }
    }

    /** dX = dY routed to each window's maximum of X (see the class comment for ties and NaN); dX is overwritten. */
    public static void maxBackward(KernelPool pool, int planes, Window2d g, MemorySegment dy, long dyOff, MemorySegment x,
                                   long xOff, MemorySegment dx, long dxOff) {
        check(pool, planes, g, x, xOff, dy, dyOff);
        Segments.checkRange("dX", dx, dxOff, (long) planes * g.inSize());
        pool.checkAccess("dX", dx);
        if (isHalving(g)) {
            halvingBackward(pool, planes, g, true, dy, dyOff, x, xOff, dx, dxOff);
            return;
        }
        // Output columns whose windows lie inside the row (no padding), and the lane offsets of each window column.
        int sw = g.strideW(), dw = g.dilationW();
        int oxA = Math.min(g.ow(), (g.padLeft() + sw - 1) / sw);
        int oxB = Math.max(oxA, Math.min(g.ow(), Math.floorDiv(g.w() - 1 - (g.kw() - 1) * dw + g.padLeft(), sw) + 1));
        int[] lanes = LANES.get().of(sw, dw, g.kw());
        forEachPlane(pool, planes, g, (pl, scratch) -> {
            long xp = xOff + (long) pl * g.inSize(), dxp = dxOff + (long) pl * g.inSize(), yp = dyOff + (long) pl * g.outSize();
            dx.asSlice(dxp * Float.BYTES, (long) g.inSize() * Float.BYTES).fill((byte) 0);
            // the rows, and room for the gathers of lanes past the last window of a row (loaded, not used)
            float[] rows = oxB - oxA >= MIN_VECTOR_WINDOWS ? scratch.work((long) g.kh() * g.w() + (long) L * sw) : null;
            int[] args = rows == null ? null : ARGS.get();
            for (int oy = 0; oy < g.oh(); oy++) {
                int iy0 = oy * g.strideH() - g.padTop();
                int kiLo = kLo(iy0, g.dilationH()), kiHi = kHi(iy0, g.dilationH(), g.kh(), g.h());
                // Windows inside the row (oxA to oxB), L at a time: argmax lane by lane over the window's rows
                // copied to the heap (gathers at the stride), then each lane's dY added at its argmax; the windows
                // before and after one by one. dX gets its additions in the order of ox either way.
                boolean vector = rows != null && kiLo < kiHi;
                if (vector)
                    for (int ki = kiLo; ki < kiHi; ki++)
                        MemorySegment.copy(x, F, (xp + (long) (iy0 + ki * g.dilationH()) * g.w()) * Float.BYTES, rows,
                                ki * g.w(), g.w());
                long yRow = yp + (long) oy * g.ow();
                for (int ox = 0; ox < g.ow(); ox++) {
                    if (vector && ox == oxA) {
                        for (; ox < oxB; ox += L) {
                            int count = Math.min(L, oxB - ox);
                            windowArgMaxLoop(rows, g.w(), iy0, g.dilationH(), kiLo, kiHi, g.kw(), lanes,
                                    ox * sw - g.padLeft(), args);
                            for (int l = 0; l < count; l++) {
                                float d = dy.getAtIndex(F, yRow + ox + l);
                                dx.setAtIndex(F, dxp + args[l], dx.getAtIndex(F, dxp + args[l]) + d);
                            }
                        }
                        ox = oxB;
                        if (ox >= g.ow()) break;
                    }
                    int ix0 = ox * g.strideW() - g.padLeft();
                    int kjLo = kLo(ix0, g.dilationW()), kjHi = kHi(ix0, g.dilationW(), g.kw(), g.w());
                    if (kiLo >= kiHi || kjLo >= kjHi) continue;
                    long arg = windowArgMax(g, x, xp, iy0, ix0, kiLo, kiHi, kjLo, kjHi);
                    float d = dy.getAtIndex(F, yRow + ox);
                    dx.setAtIndex(F, dxp + arg, dx.getAtIndex(F, dxp + arg) + d);
                }
            }
        });
    }

    /**
     * Windows inside a row from which {@link #maxBackward} takes them a vector at a time: ResNet's stem pool at 64 x 64
     * has 15 a row (of 16).
     */
    private static final int MIN_VECTOR_WINDOWS = 4;

    /**
     * Per calling thread: the lane offsets of {@link #maxBackward}'s last window shape, {@code l * sw + kj * dw} at
     * {@code kj * L + l}, made again only when the shape changes (no allocation on a plan's runs).
     */
    private static final ThreadLocal<Lanes> LANES = ThreadLocal.withInitial(Lanes::new);

    private static final class Lanes {
        private int sw = -1, dw = -1, kw = -1;
        private int[] map;

        int[] of(int sw, int dw, int kw) {
            if (sw != this.sw || dw != this.dw || kw != this.kw) {
                map = new int[kw * L];
                for (int kj = 0; kj < kw; kj++) for (int l = 0; l < L; l++) map[kj * L + l] = l * sw + kj * dw;
                this.sw = sw;
                this.dw = dw;
                this.kw = kw;
            }
            return map;
        }
    }

    /** Per thread: the argmax offsets of a vector of windows ({@link #windowArgMaxLoop}). */
    private static final ThreadLocal<int[]> ARGS = ThreadLocal.withInitial(() -> new int[L]);

    /**
     * {@link #windowArgMax} for the L windows of one output row that start at input column {@code ix0} and every
     * stride after, those the caller uses inside the row: {@code rows[ki * w ..)} holds input row
     * {@code iy0 + ki * dh}; {@code lanes} the column offset of lane l at window column kj ({@code kj * L + l}). The
     * same choice lane by lane: the first maximum, or the last NaN. Offsets within the plane into {@code arg}; lanes
     * past the row's last window read the room after the rows and are not used.
     */
    private static void windowArgMaxLoop(float[] rows, int w, int iy0, int dh, int kiLo, int kiHi, int kw, int[] lanes,
                                         int ix0, int[] arg) {
        FloatVector best = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        IntVector at = IntVector.zero(I);
        for (int ki = kiLo; ki < kiHi; ki++) {
            int row = (iy0 + ki * dh) * w + ix0;
            for (int kj = 0; kj < kw; kj++) {
                FloatVector v = FloatVector.fromArray(S, rows, ki * w + ix0, lanes, kj * L);
                VectorMask<Float> take = v.compare(VectorOperators.GT, best).or(v.compare(VectorOperators.NE, v));
                if (ki == kiLo && kj == 0) take = S.maskAll(true);
                best = best.blend(v, take);
                at = at.blend(IntVector.fromArray(I, lanes, kj * L).add(row), take.cast(I));
            }
        }
        at.intoArray(arg, 0);
    }

    /**
     * The offset (within the plane at {@code xp}) of a window's first maximum, or of its last NaN: the first element
     * to start, then each later one that is larger or NaN. The choice is made without a branch (a data-dependent
     * branch here mispredicted on most elements: ResNet's 3 x 3 / 2 stem pool backward took 3.0 ms at batch 8).
     */
    private static long windowArgMax(Window2d g, MemorySegment x, long xp, int iy0, int ix0, int kiLo, int kiHi, int kjLo,
                                     int kjHi) {
        long arg = (long) (iy0 + kiLo * g.dilationH()) * g.w() + ix0 + (long) kjLo * g.dilationW();
        float best = Float.NEGATIVE_INFINITY;
        for (int ki = kiLo; ki < kiHi; ki++) {
            long row = (long) (iy0 + ki * g.dilationH()) * g.w() + ix0;
            for (int kj = kjLo; kj < kjHi; kj++) {
                long at = row + (long) kj * g.dilationW();
                float v = x.getAtIndex(F, xp + at);
                boolean take = v > best | v != v;
                best = take ? v : best;
                arg = take ? at : arg;
            }
        }
        return arg;
    }

    /** Y = the mean of each window of X (divisor as in the class comment). */
    public static void averageForward(KernelPool pool, int planes, Window2d g, boolean countIncludePad, MemorySegment x,
                                      long xOff, MemorySegment y, long yOff) {
        check(pool, planes, g, x, xOff, y, yOff);
        forEachPlane(pool, planes, g, (pl) -> averagePlane(g, countIncludePad, x, xOff + (long) pl * g.inSize(), y,
                yOff + (long) pl * g.outSize()));
    }

    /** One plane of {@link #averageForward} (element offsets, no checks), as {@link #maxPlane} for the mean. */
    static void averagePlane(Window2d g, boolean countIncludePad, MemorySegment x, long xp, MemorySegment y, long yp) {
        if (isHalving(g)) {
            // its own loop, not one shared with maxPlane: with both row kernels in one method C2 left averageRowLoop out
            // of line and boxed its vectors (KernelAllocationTest: 53 KB a call); that still happened in one CI run,
            // so the row kernels are now compile roots (see the class comment)
            for (int oy = 0; oy < g.oh(); oy++) {
                long r0 = (xp + 2L * oy * g.w()) << 2, r1 = r0 + ((long) g.w() << 2), yr = (yp + (long) oy * g.ow()) << 2;
                averageRowLoop(g.ow(), x, r0, r1, y, yr);
            }
            return;
        }
        for (int oy = 0; oy < g.oh(); oy++) {
            int iy0 = oy * g.strideH() - g.padTop();
            int kiLo = kLo(iy0, g.dilationH()), kiHi = kHi(iy0, g.dilationH(), g.kh(), g.h());
            int rowsCounted = countIncludePad ? padded(iy0, g.dilationH(), g.kh(), g.h(), g.padTop(), g.padBottom()) : kiHi - kiLo;
            for (int ox = 0; ox < g.ow(); ox++) {
                int ix0 = ox * g.strideW() - g.padLeft();
                int kjLo = kLo(ix0, g.dilationW()), kjHi = kHi(ix0, g.dilationW(), g.kw(), g.w());
                int colsCounted = countIncludePad ? padded(ix0, g.dilationW(), g.kw(), g.w(), g.padLeft(), g.padRight()) : kjHi - kjLo;
                float sum = 0;
                for (int ki = kiLo; ki < kiHi; ki++) {
                    long row = xp + (long) (iy0 + ki * g.dilationH()) * g.w() + ix0;
                    for (int kj = kjLo; kj < kjHi; kj++) sum += x.getAtIndex(F, row + (long) kj * g.dilationW());
                }
                int count = Math.max(0, rowsCounted) * Math.max(0, colsCounted);
                y.setAtIndex(F, yp + (long) oy * g.ow() + ox, count == 0 ? 0f : sum / count);
            }
        }
    }

    /** dX = each window's dY / divisor spread over its input elements; dX is overwritten. */
    public static void averageBackward(KernelPool pool, int planes, Window2d g, boolean countIncludePad, MemorySegment dy,
                                       long dyOff, MemorySegment dx, long dxOff) {
        check(pool, planes, g, dx, dxOff, dy, dyOff);
        if (isHalving(g)) {
            halvingBackward(pool, planes, g, false, dy, dyOff, null, 0, dx, dxOff);
            return;
        }
        forEachPlane(pool, planes, g, (pl) -> {
            long dxp = dxOff + (long) pl * g.inSize(), yp = dyOff + (long) pl * g.outSize();
            dx.asSlice(dxp * Float.BYTES, (long) g.inSize() * Float.BYTES).fill((byte) 0);
            for (int oy = 0; oy < g.oh(); oy++) {
                int iy0 = oy * g.strideH() - g.padTop();
                int kiLo = kLo(iy0, g.dilationH()), kiHi = kHi(iy0, g.dilationH(), g.kh(), g.h());
                int rowsCounted = countIncludePad ? padded(iy0, g.dilationH(), g.kh(), g.h(), g.padTop(), g.padBottom()) : kiHi - kiLo;
                for (int ox = 0; ox < g.ow(); ox++) {
                    int ix0 = ox * g.strideW() - g.padLeft();
                    int kjLo = kLo(ix0, g.dilationW()), kjHi = kHi(ix0, g.dilationW(), g.kw(), g.w());
                    int colsCounted = countIncludePad ? padded(ix0, g.dilationW(), g.kw(), g.w(), g.padLeft(), g.padRight()) : kjHi - kjLo;
                    int count = Math.max(0, rowsCounted) * Math.max(0, colsCounted);
                    if (count == 0 || kiLo >= kiHi || kjLo >= kjHi) continue;
                    float share = dy.getAtIndex(F, yp + (long) oy * g.ow() + ox) / count;
                    for (int ki = kiLo; ki < kiHi; ki++) {
                        long row = dxp + (long) (iy0 + ki * g.dilationH()) * g.w() + ix0;
                        for (int kj = kjLo; kj < kjHi; kj++) {
                            long at = row + (long) kj * g.dilationW();
                            dx.setAtIndex(F, at, dx.getAtIndex(F, at) + share);
                        }
                    }
                }
            }
        });
    }

    /** First kernel index k with start + k * d >= 0. */
    private static int kLo(int start, int d) { return start >= 0 ? 0 : (-start + d - 1) / d; }

    /** One past the last kernel index k (< kernel) with start + k * d < size. */
    private static int kHi(int start, int d, int kernel, int size) {
        if (start >= size) return 0;
        return Math.min(kernel, (size - start + d - 1) / d);
    }

    /** Kernel positions inside the padded range [-padBegin, size + padEnd). */
    private static int padded(int start, int d, int kernel, int size, int padBegin, int padEnd) {
        return kHi(start + padBegin, d, kernel, size + padBegin + padEnd) - kLo(start + padBegin, d);
    }

    private interface PlaneBody {
        void run(int plane);
    }

    private static void forEachPlane(KernelPool pool, int planes, Window2d g, PlaneBody body) {
        forEachPlane(pool, planes, g, (pl, s) -> body.run(pl));
    }

    /** A plane's work with the scratch of the thread that runs it. */
    private interface ScratchPlaneBody {
        void run(int plane, Scratch scratch);
    }

    private static void forEachPlane(KernelPool pool, int planes, Window2d g, ScratchPlaneBody body) {
        long perPlane = Math.max(1, (long) g.outSize() * g.kernelSize() + g.inSize());
        int tasks = (int) Math.max(1, Math.min(Math.min(planes, 4L * pool.threads()), (long) planes * perPlane / 16384));
        pool.parallelFor(tasks, (t, s) -> {
            int p0 = (int) ((long) t * planes / tasks), p1 = (int) ((long) (t + 1) * planes / tasks);
            for (int pl = p0; pl < p1; pl++) body.run(pl, s);
        });
    }

    private static void check(KernelPool pool, int planes, Window2d g, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (planes < 0) throw new IllegalArgumentException("negative plane count " + planes);
        pool.checkAccess("X", x);
        pool.checkAccess("Y", y);
        Segments.checkRange("X", x, xOff, (long) planes * g.inSize());
        Segments.checkRange("Y", y, yOff, (long) planes * g.outSize());
    }
}
