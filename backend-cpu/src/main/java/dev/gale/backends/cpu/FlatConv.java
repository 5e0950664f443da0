package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.gale.backends.cpu.GemmPacking.F;

/**
 * Direct convolution over the padded image's pixels taken as one flat run: the layers with many channels of CNNs
 * like ResNet (3 x 3, 64 to 512 channels), where im2col + GEMM spent about a third of its time unfolding the input
 * into panels. Unit strides, and for the forward also a stride of 2, whose input is first split into its four
 * phases ({@link #appliesForward}).
 *
 * <p>With each input plane zero-padded to {@code hp x wp} ({@code wp = padLeft + w + padRight}), output pixel
 * {@code (oy, ox)} reads tap {@code (c, ki, kj)} at {@code c hp wp + (oy + ki dh) wp + ox + kj dw}: its flat index
 * {@code q = oy wp + ox} plus an offset per tap. So L consecutive flat pixels read L consecutive floats at every tap,
 * whatever the row width; the columns {@code ox} in {@code [ow, wp)} are computed too and dropped. A register block is
 * {@link #MB} output channels times two vectors of flat pixels (24 accumulators, 24 FMAs per 2 loads and 12
 * broadcasts, the GEMM micro-kernel's shape) summed over the whole depth {@code K = c kh kw} in one pass: nothing is
 * unfolded, and no partial sums go back to memory.
 * <pre>
 * out[m, q .. q + 2L) = sum over (c, ki, kj) of w[m, c, ki, kj] * in_padded[offset(c, ki, kj) + q .. + 2L)
 * </pre>
 * The input gradient of a unit-stride convolution is the same loop over dY padded by {@code (k - 1) d - pad}, with
 * the kernel flipped and its channel axes swapped ({@link DirectConv#packFlipped}).
 *
 * <p>It serves where the dropped columns stay few: {@link #applies} asks that at least {@link #MIN_DENSITY} of the
 * computed pixels be output pixels (ResNet's 7 x 7 layers compute 9 x 9 - 2 pixels a plane; smaller outputs take
 * im2col products over many images). Every sum runs in one fixed order, so results do not depend on the thread
 * count. As in GEMM packing, the padded copies and packed weights flush subnormal values to zero.
 */
final class FlatConv {
    private FlatConv() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Output channels per register block. */
    static final int MB = 12;
    /** Flat pixels per register block. */
    private static final int SLOT = 2 * L;
    /** Smallest share of output pixels among the flat pixels computed. */
    static final double MIN_DENSITY = 0.55;
    /** Largest shared buffer of padded inputs, in floats (16 MiB); more images are padded in rounds. */
    private static final int MAX_PADDED = 1 << 22;
    /** Flat pixels a task computes per channel block before storing their rows (its tile is MB x about this). */
    private static final int BAND_PIXELS = 512;
    /** Output pixels (over all images) from which a call packing the weights itself pays: see {@link #repaysPacking}. */
    private static final int PACKING_PIXELS = 256;
    /** Packed weights above this many floats (512 KiB) are split among tasks before the rows are. */
    private static final long SPLIT_WEIGHTS = 1 << 17;

    /**
     * True where these loops serve the input gradient, and the forward of unit stride, and should beat im2col + GEMM:
     * unit strides, a window larger than 1 x 1, pads no larger than the dilated kernel's reach (so that the input
     * gradient's padding {@code (k - 1) d - pad} is not negative), too many channels for {@link DirectConv}, and
     * outputs dense enough among the flat pixels.
     */
    static boolean applies(Conv2d.Shape s) {
        Window2d g = s.window();
        if (g.strideH() != 1 || g.strideW() != 1 || !common(s)) return false;
        int reachH = (g.kh() - 1) * g.dilationH(), reachW = (g.kw() - 1) * g.dilationW();
        if (g.padTop() > reachH || g.padBottom() > reachH || g.padLeft() > reachW || g.padRight() > reachW) return false;
        Flat grad = Flat.gradient(s);
        return (long) s.groups() * grad.size() <= MAX_PADDED
                && (long) packedSize(s.cg(), s.mg() * g.kernelSize()) * s.groups() <= Integer.MAX_VALUE - 16;
    }

    /**
     * True where the forward takes these loops: {@link #applies}, or a stride of 2 both ways (undilated) with a kernel
     * of at least 5 x 5 taps and enough channels, such as ResNet's 7 x 7 / 2 stem. A stride-2 input is split into its
     * four phases (even and odd rows times even and odd columns), each a plane of its own; a tap (c, ki, kj) then
     * reads phase {@code (ki % 2, kj % 2)} of channel c at {@code (oy + ki / 2, ox + kj / 2)}, so that consecutive
     * output pixels again read consecutive floats, and only the kernel's own taps are summed. The stem at 224 x 224
     * measured 1.18-1.40 ms this way against 1.82-2.11 by im2col (2 threads); ResNet's 3 x 3 / 2 layers measured
     * slower this way (64 to 128 channels at 56 x 56: 0.96-1.17 ms against 0.74-0.94), hence the kernel size bound.
     */
    static boolean appliesForward(Conv2d.Shape s) {
        Window2d g = s.window();
        if (g.strideH() == 1 && g.strideW() == 1) return applies(s);
        return g.strideH() == 2 && g.strideW() == 2 && g.dilationH() == 1 && g.dilationW() == 1
                && g.kernelSize() >= MIN_STRIDED_TAPS && s.k() >= MIN_STRIDED_DEPTH && s.mg() >= MB && common(s);
    }

    /** Taps from which a stride-2 layer takes these loops (5 x 5). */
    private static final int MIN_STRIDED_TAPS = 25;
    /** Depth (input channels times taps) from which a stride-2 layer takes these loops. */
    private static final int MIN_STRIDED_DEPTH = 64;

    /** The forward's conditions whatever the stride: sizes, density, and not {@link DirectConv}'s. */
    private static boolean common(Conv2d.Shape s) {
        Window2d g = s.window();
        if (g.kernelSize() == 1 || L < 8 || s.n() == 0 || g.outSize() == 0 || DirectConv.preferred(s)) return false;
        Flat in = Flat.forward(s);
        return (double) g.outSize() / in.plane() >= MIN_DENSITY && (long) s.groups() * in.size() <= MAX_PADDED
                && (long) packedSize(s.mg(), s.k()) * s.groups() <= Integer.MAX_VALUE - 16;
    }

    /**
     * True when a call that packs the weights itself (training's forward, where W changes every step, and the input
     * gradient) has pixels enough to repay it: at least {@link #PACKING_PIXELS} output pixels over its images. Packing
     * reads W with strides and costs about a nanosecond a weight a thread; a 512-channel 3 x 3 layer at 7 x 7, batch 1,
     * spent longer packing its 2.4 M weights than convolving, and im2col's product (which packs W in its own cache
     * blocks, overlapped with the multiplications) was twice as fast there.
     */
    static boolean repaysPacking(Conv2d.Shape s) { return (long) s.n() * s.p() >= PACKING_PIXELS; }

    /** Floats of one group's packed weights for {@code rows} output channels of depth k: whole blocks of MB. */
    private static long packedSize(int rows, int k) { return (long) ceilDiv(rows, MB) * MB * k; }

    /**
     * The zero-padded copy of {@code planes} planes of {@code h x w}, split into {@code stride x stride} phases: each
     * phase of each plane is a plane of {@code hp} rows of {@code wp} floats; then {@link #SLOT} floats that the last
     * register block reads past the planes (its dropped lanes). With stride 1 a phase is the padded plane itself.
     */
    record Flat(int planes, int h, int w, int padTop, int padLeft, int hp, int wp, int stride) {
        static Flat of(int planes, int h, int w, int padTop, int padLeft, int padBottom, int padRight, int stride) {
            return new Flat(planes, h, w, padTop, padLeft, ceilDiv(padTop + h + padBottom, stride),
                    ceilDiv(padLeft + w + padRight, stride), stride);
        }

        /** The input of the forward: one group's channels, the convolution's own pads and stride. */
        static Flat forward(Conv2d.Shape s) {
            Window2d g = s.window();
            return of(s.cg(), g.h(), g.w(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.strideH());
        }

        /** dY for the input gradient (unit stride): one group's output channels, padded by {@code (k - 1) d - pad}. */
        static Flat gradient(Conv2d.Shape s) {
            Window2d g = s.window();
            int rh = (g.kh() - 1) * g.dilationH(), rw = (g.kw() - 1) * g.dilationW();
            return of(s.mg(), g.oh(), g.ow(), rh - g.padTop(), rw - g.padLeft(), rh - g.padBottom(), rw - g.padRight(), 1);
        }

        int plane() { return hp * wp; }

        int size() { return planes * stride * stride * plane() + SLOT; }

        /**
         * Copies planes {@code [p0, p1)} from {@code src} (rows of w floats) into their place in {@code dst[at ..)},
         * zeros around them (the last planes' copy also clears the slack after them).
         */
        void fill(MemorySegment src, long srcOff, float[] dst, int at, int p0, int p1) {
            int phasePlanes = stride * stride * plane();
            java.util.Arrays.fill(dst, at + p0 * phasePlanes, at + (p1 == planes ? size() : p1 * phasePlanes), 0f);
            if (stride > 1) {
                fillPhases(src, srcOff, dst, at, p0, p1);
                return;
            }
            int full = w - w % L;
            VectorMask<Float> tail = LaneMasks.first(w - full);
            for (int p = p0; p < p1; p++)
                copyRowsLoop(src, (srcOff + (long) p * h * w) * Float.BYTES, h, w, full, tail, dst,
                        at + p * plane() + padTop * wp + padLeft, wp);
        }

        /**
         * The phases of a strided input: phase (a, b) of plane c holds {@code x_padded[c, stride i + a, stride j + b]}
         * at row i, column j, and is plane {@code (c stride + a) stride + b}.
         */
        private void fillPhases(MemorySegment src, long srcOff, float[] dst, int at, int p0, int p1) {
            for (int c = p0; c < p1; c++)
                for (int a = 0; a < stride; a++)
                    for (int b = 0; b < stride; b++) {
                        int base = at + ((c * stride + a) * stride + b) * plane();
                        // columns j whose input column stride j + b - padLeft lies in [0, w)
                        int j0 = ceilDiv(Math.max(0, padLeft - b), stride), j1 = Math.min(wp, ceilDiv(w + padLeft - b, stride));
                        for (int i = 0; i < hp; i++) {
                            int iy = stride * i + a - padTop;
                            if (iy < 0 || iy >= h || j0 >= j1) continue;
                            long row = srcOff + ((long) c * h + iy) * w;
                            for (int j = j0; j < j1; j++)
                                dst[base + i * wp + j] = GemmPacking.flush(src.getAtIndex(F, row + stride * j + b - padLeft));
                        }
                    }
        }

        /**
         * Each tap's offset from a flat pixel's index, in W's (c, ki, kj) order: {@code c plane + ki dh wp + kj dw}, or
         * with a stride, that of phase {@code (ki % stride, kj % stride)} plus {@code (ki / stride) wp + kj / stride}.
         */
        void offsets(int kh, int kw, int dh, int dw, int[] offs) {
            int r = 0;
            for (int c = 0; c < planes; c++)
                for (int ki = 0; ki < kh; ki++)
                    for (int kj = 0; kj < kw; kj++)
                        offs[r++] = stride == 1 ? c * plane() + ki * dh * wp + kj * dw
                                : ((c * stride + ki % stride) * stride + kj % stride) * plane() + ki / stride * wp + kj / stride;
        }
    }

    /**
     * Copies {@code rows} rows of w floats from {@code src} (bytes from {@code from}) to rows {@code wp} apart in
     * {@code dst} (from {@code to}), subnormal values flushed to zero; {@code tail}: the lanes past {@code full}.
     */
    private static void copyRowsLoop(MemorySegment src, long from, int rows, int w, int full, VectorMask<Float> tail,
                                     float[] dst, int to, int wp) {
        for (int iy = 0; iy < rows; iy++, from += (long) w * Float.BYTES, to += wp) {
            for (int col = 0; col < full; col += L) {
                FloatVector x = FloatVector.fromMemorySegment(S, src, from + (long) col * Float.BYTES, ORDER);
                x.blend(0f, x.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(dst, to + col);
            }
            if (full < w) {
                FloatVector x = FloatVector.fromMemorySegment(S, src, from + (long) full * Float.BYTES, ORDER, tail);
                x.blend(0f, x.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(dst, to + full, tail);
            }
        }
    }

    /** A convolution's constant weights packed once for {@link #forward} (the runtime packs them with the plan). */
    static float[] pack(Conv2d.Shape s, MemorySegment w, long wOff) {
        int mg = s.mg(), k = s.k(), blocks = ceilDiv(mg, MB), perGroup = blocks * k * MB;
        float[] wk = new float[s.groups() * perGroup];
        for (int grp = 0; grp < s.groups(); grp++)
            DirectConv.packWeights(w, wOff + (long) grp * mg * k, mg, s.cg(), s.window().kernelSize(), MB, 0, blocks,
                    wk, grp * perGroup);
        return wk;
    }

    /**
     * Y = act(conv(X, W) + bias + residual) ({@link Conv2d#forward}'s epilogue), with W packed ahead by {@link #pack}
     * ({@code packed}), or packed here when null.
     */
    static void forward(KernelPool pool, Conv2d.Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        float[] packed, MemorySegment y, long yOff, Epilogue ep) {
        Window2d g = s.window();
        int mg = s.mg(), cg = s.cg(), k = s.k(), groups = s.groups(), blocks = ceilDiv(mg, MB), perGroup = blocks * k * MB;
        Flat f = Flat.forward(s);
        Epilogue e = ep.isNone() ? null : ep;
        pool.exclusive(() -> {
            float[] wk = packed;
            if (wk == null) {
                float[] dst = wk = pool.sharedResult(groups * perGroup);
                pool.parallelFor(groups * blocks, (t, scratch) -> DirectConv.packWeights(w,
                        wOff + (long) (t / blocks) * mg * k, mg, cg, g.kernelSize(), MB, t % blocks, t % blocks + 1,
                        dst, t / blocks * perGroup));
            }
            run(pool, f, g.kh(), g.kw(), g.dilationH(), g.dilationW(), k, wk, perGroup, mg, g.oh(), g.ow(), s.n(), groups,
                    x, xOff, (long) s.c() * g.inSize(), (long) cg * g.inSize(),
                    y, yOff, (long) s.m() * g.outSize(), (long) mg * g.outSize(), e);
        });
    }

    /** dX from dY and W ({@link Conv2d#backwardInput}): dY padded, convolved with the flipped, transposed kernel. */
    static void backwardInput(KernelPool pool, Conv2d.Shape s, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                              MemorySegment dx, long dxOff) {
        Window2d g = s.window();
        int mg = s.mg(), cg = s.cg(), groups = s.groups(), kh = g.kh(), kw = g.kw(), k = mg * g.kernelSize();
        int blocks = ceilDiv(cg, MB), perGroup = blocks * k * MB;
        Flat f = Flat.gradient(s);
        pool.exclusive(() -> {
            float[] wk = pool.sharedResult(groups * perGroup);
            pool.parallelFor(groups * blocks, (t, scratch) -> DirectConv.packFlipped(w, wOff + (long) (t / blocks) * mg * s.k(),
                    mg, cg, kh, kw, MB, t % blocks, t % blocks + 1, wk, t / blocks * perGroup));
            run(pool, f, kh, kw, g.dilationH(), g.dilationW(), k, wk, perGroup, cg, g.h(), g.w(), s.n(), groups,
                    dy, dyOff, (long) s.m() * g.outSize(), (long) mg * g.outSize(),
                    dx, dxOff, (long) s.c() * g.inSize(), (long) cg * g.inSize(), null);
        });
    }

    /**
     * The convolution of every (image, group) of {@code src} into {@code dst} (within {@link KernelPool#exclusive}):
     * the images' padded planes are made in the pool's shared buffer by one parallel loop (in rounds of at most
     * {@link #MAX_PADDED} floats), then a second loop convolves them, a task per (image, group, band of output rows,
     * range of channel blocks). Large weights are split among the tasks first, so that each task streams its blocks
     * once; small ones go whole to every task, which splits the rows instead.
     */
    private static void run(KernelPool pool, Flat f, int kh, int kw, int dh, int dw, int k, float[] wk, int perGroup,
                            int mOut, int oh, int ow, int n, int groups, MemorySegment src, long srcOff, long srcImage,
                            long srcGroup, MemorySegment dst, long dstOff, long dstImage, long dstGroup, Epilogue ep) {
        int blocks = ceilDiv(mOut, MB), size = f.size();
        int images = Math.max(1, Math.min(n, MAX_PADDED / (groups * size)));
        float[] in = pool.sharedFloats(images * groups * size);
        for (int img0 = 0; img0 < n; img0 += images) {
            int first = img0, units = Math.min(images, n - img0) * groups;
            // a task per (unit, range of planes): one image's padding alone took 0.3 ms of a 1 ms stride-2 layer
            int fillParts = Math.min(f.planes(), Math.max(1, ceilDiv(2 * pool.threads(), units)));
            pool.parallelFor(units * fillParts, (t, scratch) -> {
                int unit = t / fillParts, part = t % fillParts;
                f.fill(src, srcOff + (first + unit / groups) * srcImage + unit % groups * srcGroup, in, unit * size,
                        part * f.planes() / fillParts, (part + 1) * f.planes() / fillParts);
            });
            int parts = pool.threads() == 1 ? 1 : Math.max(1, ceilDiv(4 * pool.threads(), units));
            int cbParts, bands;
            if ((long) blocks * MB * k > SPLIT_WEIGHTS) {
                cbParts = Math.min(blocks, parts);
                bands = Math.min(oh, ceilDiv(parts, cbParts));
            } else {
                bands = Math.min(oh, parts);
                cbParts = Math.min(blocks, ceilDiv(parts, bands));
            }
            pool.parallelFor(units * bands * cbParts, (t, scratch) -> {
                int unit = t / (bands * cbParts), band = t % (bands * cbParts) / cbParts, part = t % cbParts;
                int img = first + unit / groups, grp = unit % groups;
                long at = (long) img * dstImage + (long) grp * dstGroup;
                Epilogue te = ep == null ? null : ep.shifted((long) grp * mOut, at);
                convolve(f, in, unit * size, kh, kw, dh, dw, k, wk, grp * perGroup, mOut,
                        part * blocks / cbParts, (part + 1) * blocks / cbParts, band * oh / bands, (band + 1) * oh / bands,
                        oh, ow, dst, dstOff + at, te, scratch);
            });
        }
    }

    /**
     * Channel blocks {@code [b0, b1)} of output rows {@code [y0, y1)} of one (image, group), by bands of rows of about
     * {@link #BAND_PIXELS} flat pixels: for each band, each block's register blocks go into the task's tile, whose
     * rows are then stored with the epilogue ({@code ep}, positioned at this image and group's channel 0; may be
     * null). The band's input stays in cache while the blocks pass over it.
     */
    private static void convolve(Flat f, float[] in, int inAt, int kh, int kw, int dh, int dw, int k, float[] wk,
                                 int wAt, int mOut, int b0, int b1, int y0, int y1, int oh, int ow, MemorySegment out,
                                 long outOff, Epilogue ep, Scratch scratch) {
        int wp = f.wp(), rows = Math.max(1, BAND_PIXELS / wp), ld = ceilDiv(rows * wp, SLOT) * SLOT;
        int[] offs = scratch.ints(k);
        f.offsets(kh, kw, dh, dw, offs);
        float[] tile = scratch.fold(MB * ld + L);
        int tail = ow % L;
        VectorMask<Float> tailLanes = tail == 0 ? null : LaneMasks.first(tail);
        for (int sy = y0; sy < y1; sy += rows) {
            int ey = Math.min(y1, sy + rows), q0 = sy * wp, q1 = (ey - 1) * wp + ow;
            for (int b = b0; b < b1; b++) {
                int m0 = b * MB, mValid = Math.min(MB, mOut - m0), wb = wAt + b * k * MB;
                for (int q = q0; q < q1; q += SLOT) blockLoop(in, offs, inAt + q, k, wk, wb, tile, q - q0, ld);
                for (int mm = 0; mm < mValid; mm++)
                    for (int oy = sy; oy < ey; oy++)
                        storeRowLoop(tile, mm * ld + (oy - sy) * wp, ow, tailLanes, m0 + mm, oy, oh, out, outOff, ep);
            }
        }
    }

    /**
     * The MB x 2L register block at flat pixel {@code base}: for each of the k taps, the input vectors at
     * {@code offs[r] + base} and L further times the tap's MB packed weights; row mm goes to
     * {@code out[at + mm * ld ..)}.
     */
    private static void blockLoop(float[] in, int[] offs, int base, int k, float[] wk, int wAt, float[] out, int at, int ld) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        FloatVector a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        FloatVector a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int r = 0; r < k; r++) {
            int o = offs[r] + base, w = wAt + r * MB;
            FloatVector x0 = FloatVector.fromArray(S, in, o);
            FloatVector x1 = FloatVector.fromArray(S, in, o + L);
            FloatVector v;
            v = FloatVector.broadcast(S, wk[w + 0]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(S, wk[w + 1]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(S, wk[w + 2]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(S, wk[w + 3]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(S, wk[w + 4]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(S, wk[w + 5]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(S, wk[w + 6]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(S, wk[w + 7]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(S, wk[w + 8]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(S, wk[w + 9]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(S, wk[w + 10]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(S, wk[w + 11]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(out, at + 0 * ld);
        b0.intoArray(out, at + 0 * ld + L);
        a1.intoArray(out, at + 1 * ld);
        b1.intoArray(out, at + 1 * ld + L);
        a2.intoArray(out, at + 2 * ld);
        b2.intoArray(out, at + 2 * ld + L);
        a3.intoArray(out, at + 3 * ld);
        b3.intoArray(out, at + 3 * ld + L);
        a4.intoArray(out, at + 4 * ld);
        b4.intoArray(out, at + 4 * ld + L);
        a5.intoArray(out, at + 5 * ld);
        b5.intoArray(out, at + 5 * ld + L);
        a6.intoArray(out, at + 6 * ld);
        b6.intoArray(out, at + 6 * ld + L);
        a7.intoArray(out, at + 7 * ld);
        b7.intoArray(out, at + 7 * ld + L);
        a8.intoArray(out, at + 8 * ld);
        b8.intoArray(out, at + 8 * ld + L);
        a9.intoArray(out, at + 9 * ld);
        b9.intoArray(out, at + 9 * ld + L);
        a10.intoArray(out, at + 10 * ld);
        b10.intoArray(out, at + 10 * ld + L);
        a11.intoArray(out, at + 11 * ld);
        b11.intoArray(out, at + 11 * ld + L);
    }

    /**
     * Stores one output row ({@code n} pixels from {@code tile[at]}) of channel m at row oy, with the epilogue: bias
     * and residual added, ReLU in registers, other activations over the tile row. {@code tailLanes}: those of the
     * row's last vector, or null when n is a multiple of L. The residual may be the output itself: each vector is
     * read before it is written, and nothing is written past the row.
     */
    private static void storeRowLoop(float[] tile, int at, int n, VectorMask<Float> tailLanes, int m, int oy, int oh,
                                 MemorySegment out, long outOff, Epilogue ep) {
        long row = (long) m * oh * n + (long) oy * n;
        long to = (outOff + row) * Float.BYTES;
        if (ep == null) {
            MemorySegment.copy(tile, at, out, F, to, n);
            return;
        }
        Activation act = ep.activation();
        boolean inRegisters = act == Activation.NONE || act == Activation.RELU;
        MemorySegment res = ep.residual();
        float bias = ep.bias() == null ? 0f : ep.bias().getAtIndex(F, ep.biasOffset() + m);
        long r = (ep.residualOffset() + (long) m * ep.ldr() + (long) oy * n) * Float.BYTES;
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> lanes = j + L <= n ? null : tailLanes;
            FloatVector v = FloatVector.fromArray(S, tile, at + j).add(bias);
            if (res != null) {
                long ra = r + (long) j * Float.BYTES;
                v = v.add(lanes == null ? FloatVector.fromMemorySegment(S, res, ra, ORDER)
                        : FloatVector.fromMemorySegment(S, res, ra, ORDER, lanes));
            }
            if (!inRegisters) { // the tail's lanes past n are the next row's pixels
                if (lanes == null) v.intoArray(tile, at + j);
                else v.intoArray(tile, at + j, lanes);
                continue;
            }
            if (act == Activation.RELU) v = v.blend(0f, v.compare(VectorOperators.LE, 0f));
            long o = to + (long) j * Float.BYTES;
            if (lanes == null) v.intoMemorySegment(out, o, ORDER);
            else v.intoMemorySegment(out, o, ORDER, lanes);
        }
        if (!inRegisters) {
            act.apply(tile, at, n);
            MemorySegment.copy(tile, at, out, F, to, n);
        }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
