package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.gale.backends.cpu.GemmPacking.F;
import static jdk.incubator.vector.VectorOperators.ADD;

/**
 * Direct stride-1 convolution for layers with few channels, where im2col + GEMM spends more time unfolding and packing
 * than multiplying (a 3 x 3 layer with 8 input channels has K = 72). The input planes are copied once into a
 * zero-padded scratch whose rows are wide enough for whole vectors, so the inner loop has no bounds tests:
 * <pre>
 * out[m, oy, ox..ox+L) += w[m, c, ki, kj] * in_padded[c, oy + ki, ox + kj .. ox + kj + L)
 * </pre>
 * A register block is {@link #MB} output channels times two output vectors ("slots": L consecutive pixels of one
 * output row), so each input vector loaded serves MB multiply-adds. The input gradient of a stride-1 convolution is
 * the same loop on dY with the kernel flipped and its channel axes swapped, padded by {@code k - 1 - pad}. The weight
 * gradient keeps MB output channels times three kernel columns in registers and sums over every image and pixel
 * before one horizontal reduction per weight.
 *
 * <p>Every sum runs in a fixed order, so results do not depend on the thread count. Like GEMM packing, the copies
 * flush subnormal values to zero ({@link GemmPacking#flush}).
 */
final class DirectConv {
    private DirectConv() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Output channels per register block. */
    static final int MB = 8;
    /** Kernel columns per weight-gradient register block. */
    private static final int KB = 3;
    /** The weight gradient shares images out until it has this many tasks. */
    private static final int MIN_TASKS = 4;
    /** Largest scratch the weight gradient shares (padded inputs of all images plus partial sums), in floats. */
    private static final long MAX_SHARED = 1L << 24;

    /**
     * True when the direct loops apply: unit strides and dilations, a window larger than 1 x 1 and pads below the
     * kernel size (so the input gradient's padding {@code k - 1 - pad} is not negative).
     */
    static boolean supports(Window2d g) {
        return g.strideH() == 1 && g.strideW() == 1 && g.dilationH() == 1 && g.dilationW() == 1 && g.kernelSize() > 1
                && g.padTop() < g.kh() && g.padBottom() < g.kh() && g.padLeft() < g.kw() && g.padRight() < g.kw()
                && g.oh() > 0 && g.ow() > 0 && L >= 4;
    }

    /**
     * True when the direct loops should beat im2col + GEMM: few input or output channels per group, and padded copies
     * of one image's input and output planes (what a task holds) of at most {@link #MAX_PADDED} floats.
     */
    static boolean preferred(Conv2d.Shape s) {
        Window2d g = s.window();
        return supports(g) && (s.k() <= 256 || s.mg() <= 16)
                && paddedFloats(s.cg(), g.oh() + g.kh() - 1, g.ow(), g.kw(), g.padLeft(), g.w()) <= MAX_PADDED
                && paddedFloats(s.mg(), g.h() + g.kh() - 1, g.w(), g.kw(), g.kw() - 1 - g.padLeft(), g.ow()) <= MAX_PADDED;
    }

    /** Largest padded copy of one image's planes a task makes (16 MiB); bigger layers take im2col + GEMM. */
    private static final long MAX_PADDED = 1L << 22;

    private static long paddedFloats(int planes, int hp, int ow, int kw, int padLeft, int w) {
        long chunks = (ow + L - 1) / L;
        return (long) planes * hp * Math.max(chunks * L + kw + KB - 1, padLeft + (w + L - 1L) / L * L);
    }

    /** The zero-padded copy of {@code planes} planes: rows of {@code wp} floats, {@code hp} rows per plane. */
    record Padded(int planes, int h, int w, int padTop, int padLeft, int hp, int wp) {
        static Padded of(int planes, int h, int w, int padTop, int padLeft, int kh, int kw, int oh, int ow) {
            // Slots start at multiples of L; the weight gradient reads up to KB - 1 columns past the kernel.
            // Rows are copied in whole vectors: room for padLeft + w rounded up to L.
            int chunks = (ow + L - 1) / L;
            int wp = Math.max(chunks * L + kw + KB - 1, padLeft + (w + L - 1) / L * L);
            return new Padded(planes, h, w, padTop, padLeft, oh + kh - 1, wp);
        }

        int planeSize() { return hp * wp; }

        int size() { return planes * planeSize(); }

        /**
         * Copies planes {@code [0, planes)} of {@code src} (rows of w floats) into {@code dst[at ..)}, zeros around:
         * the region is cleared at once, then each row is copied as whole vectors (masked loads give zeros past w).
         */
        void fill(MemorySegment src, long srcOff, float[] dst, int at) {
            java.util.Arrays.fill(dst, at, at + size(), 0f);
            int vecs = (w + L - 1) / L;
            for (int p = 0; p < planes; p++) {
                long plane = (srcOff + (long) p * h * w) * Float.BYTES;
                int base = at + p * planeSize() + padTop * wp + padLeft;
                for (int iy = 0; iy < h; iy++) {
                    long from = plane + (long) iy * w * Float.BYTES;
                    int to = base + iy * wp;
                    for (int v = 0; v < vecs; v++) {
                        int col = v * L;
                        FloatVector x = FloatVector.fromMemorySegment(S, src, from + (long) col * Float.BYTES, ORDER, S.indexInRange(col, w));
                        x.blend(0f, x.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(dst, to + col);
                    }
                }
            }
        }
    }

    /**
     * Copies {@code planes} planes of {@code rows x w} floats into {@code dst[at ..)} with rows widened to whole
     * vectors ({@code ceil(w / L) * L} floats, zeros past w).
     */
    static void padRows(MemorySegment src, long srcOff, int planes, int rows, int w, float[] dst, int at) {
        int vecs = (w + L - 1) / L, total = planes * rows;
        for (int r = 0; r < total; r++) {
            long from = (srcOff + (long) r * w) * Float.BYTES;
            for (int v = 0; v < vecs; v++) {
                int col = v * L;
                FloatVector x = FloatVector.fromMemorySegment(S, src, from + (long) col * Float.BYTES, ORDER, S.indexInRange(col, w));
                x.blend(0f, x.abs().compare(VectorOperators.LT, Float.MIN_NORMAL)).intoArray(dst, at + r * vecs * L + col);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- forward

    /**
     * Packs {@code W[m, c, ki, kj]} (rows of {@code cIn * kh * kw}) in blocks of {@code mb} output channels: block b
     * (of {@code [b0, b1)}) holds, for each (c, ki, kj), the mb weights of output channels {@code b * mb ..}, zero past
     * {@code mOut}, at {@code dst[at + b * k * mb ..)}. {@link #convolve} takes blocks of {@link #MB}.
     */
    static void packWeights(MemorySegment w, long wOff, int mOut, int cIn, int khw, int mb, int b0, int b1, float[] dst,
                            int at) {
        int k = cIn * khw;
        for (int b = b0; b < b1; b++)
            for (int r = 0; r < k; r++)
                for (int mm = 0; mm < mb; mm++) {
                    int m = b * mb + mm;
                    dst[at + (b * k + r) * mb + mm] = m < mOut ? GemmPacking.flush(w.getAtIndex(F, wOff + (long) m * k + r)) : 0f;
                }
    }

    /**
     * Packs the input gradient's weights: channel roles swapped and the kernel flipped, {@code W'[c, m, ki, kj] =
     * W[m, c, kh - 1 - ki, kw - 1 - kj]}, in {@link #packWeights}'s layout (blocks b0 to b1 of mb input channels).
     */
    static void packFlipped(MemorySegment w, long wOff, int mg, int cg, int kh, int kw, int mb, int b0, int b1,
                            float[] dst, int at) {
        int khw = kh * kw, k = mg * khw;
        for (int b = b0; b < b1; b++)
            for (int m = 0; m < mg; m++)
                for (int ki = 0; ki < kh; ki++)
                    for (int kj = 0; kj < kw; kj++)
                        for (int cc = 0; cc < mb; cc++) {
                            int c = b * mb + cc, r = (m * kh + ki) * kw + kj;
                            dst[at + (b * k + r) * mb + cc] = c < cg ? GemmPacking.flush(w.getAtIndex(F,
                                    wOff + ((long) m * cg + c) * khw + (long) (kh - 1 - ki) * kw + (kw - 1 - kj))) : 0f;
                        }
    }

    /**
     * Output channels {@code [b0 * MB, b1 * MB)} (clipped to mOut) of one image: {@code out[m, oy, ox]} for
     * {@code oh x ow} pixels from the padded input {@code in[at ..)}, weights packed at {@code wk[wAt ..)}, then the
     * epilogue (bias per channel, residual shaped like out, activation). The epilogue is positioned at this image's
     * channel 0; {@code ep} may be null.
     */
    static void convolve(Padded pad, float[] in, int at, int kh, int kw, float[] wk, int wAt, int mOut, int b0, int b1,
                         int oh, int ow, MemorySegment out, long outOff, Epilogue ep, float[] tile, int[] offsets) {
        int chunks = (ow + L - 1) / L, slots = oh * chunks, k = pad.planes() * kh * kw;
        int[] offs = offsets;
        rowOffsets(pad, at, kh, kw, k, offs);
        // the lanes of a row's last slot (LaneMasks: indexInRange is not always intrinsified, and then costs a
        // lambda call per lane)
        int tail = ow - (chunks - 1) * L;
        VectorMask<Float> tailLanes = tail == L ? null : LaneMasks.first(tail);
        for (int b = b0; b < b1; b++) {
            int m0 = b * MB, mValid = Math.min(MB, mOut - m0);
            for (int q = 0; q < slots; q += 2) {
                int q1 = Math.min(q + 1, slots - 1);
                int s0 = q / chunks * pad.wp() + q % chunks * L, s1 = q1 / chunks * pad.wp() + q1 % chunks * L;
                block(in, offs, k, wk, wAt + b * k * MB, s0, s1, tile);
                for (int s = q; s <= q1 && s < slots; s++) {
                    int oy = s / chunks, ox = s % chunks * L;
                    store(tile, (s - q) * L, mValid, m0, oy, ox, ox + L <= ow ? null : tailLanes, oh, ow, out, outOff, ep);
                }
            }
        }
    }

    /** {@code offs[r]}: where row r = (channel, ki, kj) of the k kernel rows starts in the padded input at {@code at}. */
    private static void rowOffsets(Padded pad, int at, int kh, int kw, int k, int[] offs) {
        for (int r = 0; r < k; r++) offs[r] = at + r / (kh * kw) * pad.planeSize() + r % (kh * kw) / kw * pad.wp() + r % kw;
    }

    /** Lane i takes lane 2i (the upper half repeats them): the even lanes, i.e. one per pooled pair, moved down. */
    private static final VectorShuffle<Float> EVENS = VectorShuffle.fromOp(S, i -> 2 * i % L);

    /**
     * {@link #convolve} followed by a 2 x 2, stride-2 pooling (max, or average) of every channel, written to the
     * pooled planes ({@code oh / 2 x ow / 2}, a channel's at {@code outOff + m * plane}) without the full-size result:
     * a register block's two slots are the same L columns of two consecutive output rows, so after the epilogue (bias
     * and activation, on each pixel as {@link #store} applies them) the rows are combined lane by lane, then each lane
     * pair with its swapped self, and the even lanes give L / 2 pooled values. Same sums in the same order as the
     * pooling of a stored result ({@link Pool2d}). Writing each block's pooled values straight away saves the
     * full-size store and the second pass that reads it back: on the bench CNN's first layer (1 to 8 channels at
     * 28 x 28, batch 32) those were half the time of a pooled convolution. {@code biases} holds MB floats: the block's
     * bias values, read once a block.
     */
    static void convolvePooled(Padded pad, float[] in, int at, int kh, int kw, float[] wk, int wAt, int mOut, int b0,
                               int b1, int oh, int ow, boolean max, MemorySegment out, long outOff, Epilogue ep,
                               float[] tile, int[] offsets, float[] biases) {
        int chunks = (ow + L - 1) / L, k = pad.planes() * kh * kw, poh = oh / 2, pw = ow / 2, half = L / 2;
        int[] offs = offsets;
        rowOffsets(pad, at, kh, kw, k, offs);
        // the last chunk of a row may pool fewer than L / 2 pairs, or none (an odd last column is dropped)
        int lastCount = pw - (chunks - 1) * half;
        if (lastCount <= 0) {
            chunks--;
            lastCount = half;
        }
        VectorMask<Float> lastLanes = LaneMasks.first(lastCount), halfLanes = LaneMasks.first(half);
        long plane = (long) poh * pw;
        Activation act = ep == null ? Activation.NONE : ep.activation();
        MemorySegment bias = ep == null ? null : ep.bias();
        java.util.Arrays.fill(biases, 0, MB, -0f); // without a bias: x + -0 is x, even for x = -0 (x + 0 is not)
        for (int b = b0; b < b1; b++) {
            int m0 = b * MB, mValid = Math.min(MB, mOut - m0);
            for (int mm = 0; mm < mValid && bias != null; mm++) biases[mm] = bias.getAtIndex(F, ep.biasOffset() + m0 + mm);
            for (int py = 0; py < poh; py++) {
                int row = 2 * py * pad.wp();
                for (int c = 0; c < chunks; c++) {
                    int s0 = row + c * L;
                    block(in, offs, k, wk, wAt + b * k * MB, s0, s0 + pad.wp(), tile);
                    long pixel = (long) py * pw + (long) c * half;
                    // whole vectors while they end inside the plane: the lanes past the pooled ones land on pixels
                    // this task writes later (chunks and rows run in order)
                    VectorMask<Float> lanes = pixel + L <= plane ? null : c == chunks - 1 ? lastLanes : halfLanes;
                    poolStore(tile, mValid, max, lanes, plane, out, (outOff + m0 * plane + pixel) * Float.BYTES, biases,
                            act);
                }
            }
        }
    }

    /** The pooled values of one register block, channel by channel ({@link #convolvePooled}). */
    private static void poolStore(float[] tile, int mValid, boolean max, VectorMask<Float> lanes, long plane,
                                  MemorySegment out, long at, float[] biases, Activation act) {
        for (int mm = 0; mm < mValid; mm++, at += plane * Float.BYTES) {
            int t = mm * 2 * L;
            float bv = biases[mm];
            FloatVector a = FloatVector.fromArray(S, tile, t).add(bv), c = FloatVector.fromArray(S, tile, t + L).add(bv);
            if (act == Activation.RELU) {
                a = a.blend(0f, a.compare(VectorOperators.LE, 0f));
                c = c.blend(0f, c.compare(VectorOperators.LE, 0f));
            } else if (act != Activation.NONE) {
                a.intoArray(tile, t);
                c.intoArray(tile, t + L);
                act.apply(tile, t, 2 * L);
                a = FloatVector.fromArray(S, tile, t);
                c = FloatVector.fromArray(S, tile, t + L);
            }
            FloatVector v = max ? a.max(c) : a.add(c);
            v = max ? v.max(VMath.swapPairs(v)) : v.add(VMath.swapPairs(v)).mul(0.25f);
            v = v.rearrange(EVENS);
            if (lanes == null) v.intoMemorySegment(out, at, ORDER);
            else v.intoMemorySegment(out, at, ORDER, lanes);
        }
    }

    /**
     * The MB x 2 register block, {@code tile[mm * 2L + slot * L + lane]}: for each of the k (channel, ki, kj) rows,
     * the input vectors at {@code offs[r] + s0} and {@code offs[r] + s1} times the row's MB packed weights.
     */
    private static void block(float[] in, int[] offs, int k, float[] wk, int wAt, int s0, int s1, float[] tile) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        for (int r = 0; r < k; r++) {
            int o = offs[r], w = wAt + r * MB;
            FloatVector x0 = FloatVector.fromArray(S, in, o + s0);
            FloatVector x1 = FloatVector.fromArray(S, in, o + s1);
            FloatVector v = FloatVector.broadcast(S, wk[w]);
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
        }
        a0.intoArray(tile, 0);
        b0.intoArray(tile, L);
        a1.intoArray(tile, 2 * L);
        b1.intoArray(tile, 3 * L);
        a2.intoArray(tile, 4 * L);
        b2.intoArray(tile, 5 * L);
        a3.intoArray(tile, 6 * L);
        b3.intoArray(tile, 7 * L);
        a4.intoArray(tile, 8 * L);
        b4.intoArray(tile, 9 * L);
        a5.intoArray(tile, 10 * L);
        b5.intoArray(tile, 11 * L);
        a6.intoArray(tile, 12 * L);
        b6.intoArray(tile, 13 * L);
        a7.intoArray(tile, 14 * L);
        b7.intoArray(tile, 15 * L);
    }

    /**
     * Writes one slot of the tile (its MB channel rows start at {@code slotAt}) into out with the epilogue: bias and
     * residual added, ReLU in registers, other activations over the tile row. {@code lanes}: those of a row's last
     * slot, or null for a slot of L pixels.
     */
    private static void store(float[] tile, int slotAt, int mValid, int m0, int oy, int ox, VectorMask<Float> lanes,
                              int oh, int ow, MemorySegment out, long outOff, Epilogue ep) {
        long plane = (long) oh * ow, at = (outOff + m0 * plane + (long) oy * ow + ox) * Float.BYTES;
        Activation act = ep == null ? Activation.NONE : ep.activation();
        MemorySegment bias = ep == null ? null : ep.bias(), res = ep == null ? null : ep.residual();
        // A row's last slot may still store whole vectors when they end inside the plane: the lanes past the row land
        // on the next row's first pixels, which this task writes later (slots run in row order). Not with a residual,
        // which may be the output itself.
        boolean full = lanes == null || res == null && (long) oy * ow + ox + L <= plane;
        for (int mm = 0; mm < mValid; mm++, at += plane * Float.BYTES) {
            int t = mm * 2 * L + slotAt;
            FloatVector v = FloatVector.fromArray(S, tile, t);
            if (bias != null) v = v.add(bias.getAtIndex(F, ep.biasOffset() + m0 + mm));
            if (res != null) {
                long r = (ep.residualOffset() + (m0 + mm) * ep.ldr() + (long) oy * ow + ox) * Float.BYTES;
                v = v.add(full ? FloatVector.fromMemorySegment(S, res, r, ORDER)
                        : FloatVector.fromMemorySegment(S, res, r, ORDER, lanes));
            }
            if (act == Activation.RELU) {
                v = v.blend(0f, v.compare(VectorOperators.LE, 0f)); // as Activation's ReLU: two instructions, not max's six
            } else if (act != Activation.NONE) {
                v.intoArray(tile, t);
                act.apply(tile, t, L);
                v = FloatVector.fromArray(S, tile, t);
            }
            if (full) v.intoMemorySegment(out, at, ORDER);
            else v.intoMemorySegment(out, at, ORDER, lanes);
        }
    }

    // ---------------------------------------------------------------------------------------------- weight gradient

    /**
     * dW for output-channel block {@code b} of one group, summed over {@code images} images: {@code dw[m, c, ki, kj] =
     * sum over images, oy, ox of dY[m, oy, ox] * in_padded[c, oy + ki, ox + kj]}, set (not accumulated) at
     * {@code dw[dwOff ..)} (rows of k). The padded inputs of consecutive images are {@code inStride} floats apart from
     * {@code in[inAt]}; dY comes as {@code dyp[dyAt ..)}, each channel's rows {@code chunks * L} wide with zeros past
     * ow ({@link #padRows}), images {@code dyStride} apart.
     *
     * <p>A register block is MB channels times KB kernel columns for one (c, ki, kj block); it runs over one image's
     * pixels, then goes back to {@code acc} (one tile of vectors per (c, ki, kj block)), so each image's dY and input
     * stay in L1 while every (c, ki) passes over them. The tiles are reduced to dW once at the end.
     */
    static void weightBlock(Padded pad, float[] in, int inAt, int inStride, float[] dyp, int dyAt, int dyStride,
                            int images, int kh, int kw, int mg, int b, int oh, int ow, float[] acc, MemorySegment dw,
                            long dwOff) {
        int chunks = (ow + L - 1) / L, khw = kh * kw, cIn = pad.planes(), k = cIn * khw, m0 = b * MB;
        int mValid = Math.min(MB, mg - m0), kjBlocks = (kw + KB - 1) / KB, tiles = cIn * kh * kjBlocks;
        int plane = oh * chunks * L, slots = oh * chunks, rowSkip = pad.wp() - chunks * L, tileSize = MB * KB * L;
        java.util.Arrays.fill(acc, 0, tiles * tileSize, 0f);
        // Channel rows past the group's last are read again from the last one (their sums are dropped).
        int r1 = Math.min(1, mValid - 1) * plane, r2 = Math.min(2, mValid - 1) * plane, r3 = Math.min(3, mValid - 1) * plane,
                r4 = Math.min(4, mValid - 1) * plane, r5 = Math.min(5, mValid - 1) * plane,
                r6 = Math.min(6, mValid - 1) * plane, r7 = Math.min(7, mValid - 1) * plane;
        for (int img = 0; img < images; img++) {
            int yBase = dyAt + img * dyStride + m0 * plane;
            for (int tile = 0; tile < tiles; tile++) {
                int c = tile / (kh * kjBlocks), ki = tile / kjBlocks % kh, kj0 = tile % kjBlocks * KB, at = tile * tileSize;
                int xBase = inAt + img * inStride + c * pad.planeSize() + ki * pad.wp() + kj0;
                    FloatVector a0 = FloatVector.fromArray(S, acc, at + 0 * L);
                    FloatVector b0 = FloatVector.fromArray(S, acc, at + 1 * L);
                    FloatVector c0 = FloatVector.fromArray(S, acc, at + 2 * L);
                    FloatVector a1 = FloatVector.fromArray(S, acc, at + 3 * L);
                    FloatVector b1 = FloatVector.fromArray(S, acc, at + 4 * L);
                    FloatVector c1 = FloatVector.fromArray(S, acc, at + 5 * L);
                    FloatVector a2 = FloatVector.fromArray(S, acc, at + 6 * L);
                    FloatVector b2 = FloatVector.fromArray(S, acc, at + 7 * L);
                    FloatVector c2 = FloatVector.fromArray(S, acc, at + 8 * L);
                    FloatVector a3 = FloatVector.fromArray(S, acc, at + 9 * L);
                    FloatVector b3 = FloatVector.fromArray(S, acc, at + 10 * L);
                    FloatVector c3 = FloatVector.fromArray(S, acc, at + 11 * L);
                    FloatVector a4 = FloatVector.fromArray(S, acc, at + 12 * L);
                    FloatVector b4 = FloatVector.fromArray(S, acc, at + 13 * L);
                    FloatVector c4 = FloatVector.fromArray(S, acc, at + 14 * L);
                    FloatVector a5 = FloatVector.fromArray(S, acc, at + 15 * L);
                    FloatVector b5 = FloatVector.fromArray(S, acc, at + 16 * L);
                    FloatVector c5 = FloatVector.fromArray(S, acc, at + 17 * L);
                    FloatVector a6 = FloatVector.fromArray(S, acc, at + 18 * L);
                    FloatVector b6 = FloatVector.fromArray(S, acc, at + 19 * L);
                    FloatVector c6 = FloatVector.fromArray(S, acc, at + 20 * L);
                    FloatVector a7 = FloatVector.fromArray(S, acc, at + 21 * L);
                    FloatVector b7 = FloatVector.fromArray(S, acc, at + 22 * L);
                    FloatVector c7 = FloatVector.fromArray(S, acc, at + 23 * L);
                // Slot t is output row t / chunks, columns from t % chunks * L: x steps by L, and on to the next
                // padded row after a row's last chunk (no division in the loop).
                int x = xBase - L, y = yBase - L;
                for (int t = 0, ch = 0; t < slots; t++) {
                    x += L;
                    y += L;
                    if (ch == chunks) {
                        x += rowSkip;
                        ch = 0;
                    }
                    ch++;
                    FloatVector x0 = FloatVector.fromArray(S, in, x);
                    FloatVector x1 = FloatVector.fromArray(S, in, x + 1);
                    FloatVector x2 = FloatVector.fromArray(S, in, x + 2);
                        FloatVector d = FloatVector.fromArray(S, dyp, y);
                        a0 = d.fma(x0, a0);
                        b0 = d.fma(x1, b0);
                        c0 = d.fma(x2, c0);
                        d = FloatVector.fromArray(S, dyp, y + r1);
                        a1 = d.fma(x0, a1);
                        b1 = d.fma(x1, b1);
                        c1 = d.fma(x2, c1);
                        d = FloatVector.fromArray(S, dyp, y + r2);
                        a2 = d.fma(x0, a2);
                        b2 = d.fma(x1, b2);
                        c2 = d.fma(x2, c2);
                        d = FloatVector.fromArray(S, dyp, y + r3);
                        a3 = d.fma(x0, a3);
                        b3 = d.fma(x1, b3);
                        c3 = d.fma(x2, c3);
                        d = FloatVector.fromArray(S, dyp, y + r4);
                        a4 = d.fma(x0, a4);
                        b4 = d.fma(x1, b4);
                        c4 = d.fma(x2, c4);
                        d = FloatVector.fromArray(S, dyp, y + r5);
                        a5 = d.fma(x0, a5);
                        b5 = d.fma(x1, b5);
                        c5 = d.fma(x2, c5);
                        d = FloatVector.fromArray(S, dyp, y + r6);
                        a6 = d.fma(x0, a6);
                        b6 = d.fma(x1, b6);
                        c6 = d.fma(x2, c6);
                        d = FloatVector.fromArray(S, dyp, y + r7);
                        a7 = d.fma(x0, a7);
                        b7 = d.fma(x1, b7);
                        c7 = d.fma(x2, c7);
                }
                    a0.intoArray(acc, at + 0 * L);
                    b0.intoArray(acc, at + 1 * L);
                    c0.intoArray(acc, at + 2 * L);
                    a1.intoArray(acc, at + 3 * L);
                    b1.intoArray(acc, at + 4 * L);
                    c1.intoArray(acc, at + 5 * L);
                    a2.intoArray(acc, at + 6 * L);
                    b2.intoArray(acc, at + 7 * L);
                    c2.intoArray(acc, at + 8 * L);
                    a3.intoArray(acc, at + 9 * L);
                    b3.intoArray(acc, at + 10 * L);
                    c3.intoArray(acc, at + 11 * L);
                    a4.intoArray(acc, at + 12 * L);
                    b4.intoArray(acc, at + 13 * L);
                    c4.intoArray(acc, at + 14 * L);
                    a5.intoArray(acc, at + 15 * L);
                    b5.intoArray(acc, at + 16 * L);
                    c5.intoArray(acc, at + 17 * L);
                    a6.intoArray(acc, at + 18 * L);
                    b6.intoArray(acc, at + 19 * L);
                    c6.intoArray(acc, at + 20 * L);
                    a7.intoArray(acc, at + 21 * L);
                    b7.intoArray(acc, at + 22 * L);
                    c7.intoArray(acc, at + 23 * L);
            }
        }
        for (int tile = 0; tile < tiles; tile++) {
            int c = tile / (kh * kjBlocks), ki = tile / kjBlocks % kh, kj0 = tile % kjBlocks * KB;
            int cols = Math.min(KB, kw - kj0);
            long row = dwOff + (long) m0 * k + (long) c * khw + (long) ki * kw + kj0;
            for (int mm = 0; mm < mValid; mm++)
                for (int j = 0; j < cols; j++)
                    dw.setAtIndex(F, row + (long) mm * k + j,
                            FloatVector.fromArray(S, acc, tile * tileSize + (mm * KB + j) * L).reduceLanes(ADD));
        }
    }


    // ---------------------------------------------------------------------------------------------------- drivers

    /**
     * {@link Conv2d#forward} by direct convolution: one task per image and group (and block range when few). With a
     * {@code pooling} window over the convolution's result (max, or the mean when {@code max} is false), y is the
     * pooled result and each task pools the channels it convolved from its own scratch ({@link Conv2d#forwardPooled}).
     */
    static void forward(KernelPool pool, Conv2d.Shape s, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment y, long yOff, Epilogue ep, Window2d pooling, boolean max) {
        Window2d g = s.window();
        int mg = s.mg(), cg = s.cg(), k = s.k(), p = s.p(), groups = s.groups(), blocks = ceilDiv(mg, MB);
        Padded pad = Padded.of(cg, g.h(), g.w(), g.padTop(), g.padLeft(), g.kh(), g.kw(), g.oh(), g.ow());
        int units = s.n() * groups, parts = Math.min(blocks, Math.max(1, ceilDiv(2 * pool.threads(), units)));
        int perGroup = blocks * k * MB;
        Epilogue e = ep.isNone() ? null : ep;
        pool.exclusive(() -> {
            float[] wk = pool.sharedFloats(groups * perGroup);
            for (int grp = 0; grp < groups; grp++)
                packWeights(w, wOff + (long) grp * mg * k, mg, cg, g.kernelSize(), MB, 0, blocks, wk, grp * perGroup);
            pool.parallelFor(units * parts, (task, scratch) -> {
                int unit = task / parts, part = task % parts, img = unit / groups, grp = unit % groups;
                int b0 = part * blocks / parts, b1 = (part + 1) * blocks / parts;
                int m0 = b0 * MB, m1 = Math.min(mg, b1 * MB);
                float[] in = scratch.work(pad.size());
                pad.fill(x, xOff + ((long) img * s.c() + (long) grp * cg) * g.inSize(), in, 0);
                long yAt = ((long) img * s.m() + (long) grp * mg) * p;
                Epilogue te = e == null ? null : e.shifted((long) grp * mg, yAt);
                if (pooling == null) {
                    convolve(pad, in, 0, g.kh(), g.kw(), wk, grp * perGroup, mg, b0, b1, g.oh(), g.ow(), y, yOff + yAt,
                            te, scratch.tile, scratch.ints(k));
                    return;
                }
                if (Pool2d.isHalving(pooling)) {
                    convolvePooled(pad, in, 0, g.kh(), g.kw(), wk, grp * perGroup, mg, b0, b1, g.oh(), g.ow(), max, y,
                            yOff + ((long) img * s.m() + (long) grp * mg) * pooling.outSize(), te, scratch.tile,
                            scratch.ints(k), scratch.fold(MB));
                    return;
                }
                // other poolings: the task's channels go to its own scratch, and are pooled from there
                MemorySegment conv = scratch.offHeap((long) (m1 - m0) * p);
                convolve(pad, in, 0, g.kh(), g.kw(), wk, grp * perGroup, mg, b0, b1, g.oh(), g.ow(), conv,
                        -(long) m0 * p, te, scratch.tile, scratch.ints(k));
                long pooled = ((long) img * s.m() + (long) grp * mg) * pooling.outSize();
                for (int m = m0; m < m1; m++) {
                    long from = (long) (m - m0) * p, to = yOff + pooled + (long) m * pooling.outSize();
                    if (max) Pool2d.maxPlane(pooling, conv, from, y, to);
                    else Pool2d.averagePlane(pooling, false, conv, from, y, to);
                }
            });
        });
    }

    /** {@link Conv2d#backwardInput} by direct convolution of dY with the flipped, transposed kernel. */
    static void backwardInput(KernelPool pool, Conv2d.Shape s, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                              MemorySegment dx, long dxOff) {
        Window2d g = s.window();
        int mg = s.mg(), cg = s.cg(), k = s.k(), p = s.p(), groups = s.groups(), blocks = ceilDiv(cg, MB);
        int kh = g.kh(), kw = g.kw();
        Padded pad = Padded.of(mg, g.oh(), g.ow(), kh - 1 - g.padTop(), kw - 1 - g.padLeft(), kh, kw, g.h(), g.w());
        int units = s.n() * groups, parts = Math.min(blocks, Math.max(1, ceilDiv(2 * pool.threads(), units)));
        int perGroup = blocks * mg * g.kernelSize() * MB;
        pool.exclusive(() -> {
            float[] wk = pool.sharedFloats(groups * perGroup);
            for (int grp = 0; grp < groups; grp++)
                packFlipped(w, wOff + (long) grp * mg * k, mg, cg, kh, kw, MB, 0, blocks, wk, grp * perGroup);
            pool.parallelFor(units * parts, (task, scratch) -> {
                int unit = task / parts, part = task % parts, img = unit / groups, grp = unit % groups;
                float[] in = scratch.work(pad.size());
                pad.fill(dy, dyOff + ((long) img * s.m() + (long) grp * mg) * p, in, 0);
                convolve(pad, in, 0, kh, kw, wk, grp * perGroup, cg, part * blocks / parts, (part + 1) * blocks / parts,
                        g.h(), g.w(), dx, dxOff + ((long) img * s.c() + (long) grp * cg) * g.inSize(), null, scratch.tile,
                        scratch.ints(mg * g.kernelSize()));
            });
        });
    }

    /**
     * {@link Conv2d#backwardWeight} by direct sums; false (nothing written) when the padded inputs would not fit the
     * shared scratch. All images are padded first; then each task owns a (group, output block) piece of dW. With
     * fewer than {@link #MIN_TASKS} pieces, the images are shared out too, each share summed into its own copy of dW,
     * and the copies added in a fixed order.
     */
    static boolean backwardWeight(KernelPool pool, Conv2d.Shape s, MemorySegment dy, long dyOff, MemorySegment x,
                                  long xOff, MemorySegment dw, long dwOff) {
        Window2d g = s.window();
        int mg = s.mg(), cg = s.cg(), k = s.k(), p = s.p(), groups = s.groups(), blocks = ceilDiv(mg, MB), n = s.n();
        Padded pad = Padded.of(cg, g.h(), g.w(), g.padTop(), g.padLeft(), g.kh(), g.kw(), g.oh(), g.ow());
        int pieces = groups * blocks;
        // The image split depends only on the shape (not the thread count), so dW has the same bits on any pool.
        int iParts = n < 2 || pieces >= MIN_TASKS ? 1 : Math.min(n, ceilDiv(MIN_TASKS, pieces));
        int dyPad = mg * g.oh() * ceilDiv(g.ow(), L) * L;
        long xs = (long) n * groups * pad.size(), ys = (long) n * groups * dyPad, padded = xs + ys, size = s.wSize();
        long shared = padded + (iParts > 1 ? iParts * size : 0);
        if (shared > MAX_SHARED) return false;
        int accSize = cg * g.kh() * ceilDiv(g.kw(), KB) * MB * KB * L;
        pool.exclusive(() -> {
            float[] buf = pool.sharedFloats((int) shared);
            // Phase 1: every (image, group)'s padded input and widened dY.
            pool.parallelFor(n * groups, (task, scratch) -> {
                int img = task / groups, grp = task % groups;
                pad.fill(x, xOff + ((long) img * s.c() + (long) grp * cg) * g.inSize(), buf, task * pad.size());
                padRows(dy, dyOff + ((long) img * s.m() + (long) grp * mg) * p, mg, g.oh(), g.ow(), buf,
                        (int) xs + task * dyPad);
            });
            // Phase 2: a (group, output block) piece of dW per task, over a share of the images.
            MemorySegment parts = iParts > 1 ? MemorySegment.ofArray(buf) : null;
            pool.parallelFor(pieces * iParts, (task, scratch) -> {
                int ip = task / pieces, piece = task % pieces, grp = piece / blocks, b = piece % blocks;
                int i0 = (int) ((long) ip * n / iParts), i1 = (int) ((long) (ip + 1) * n / iParts);
                MemorySegment out = parts == null ? dw : parts;
                long outOff = (parts == null ? dwOff : padded + ip * size) + (long) grp * mg * k;
                weightBlock(pad, buf, (i0 * groups + grp) * pad.size(), groups * pad.size(), buf,
                        (int) xs + (i0 * groups + grp) * dyPad, groups * dyPad, i1 - i0, g.kh(), g.kw(), mg, b,
                        g.oh(), g.ow(), scratch.work(accSize), out, outOff);
            });
            if (parts == null) return;
            int chunks = (int) Math.min(2L * pool.threads(), Math.max(1, size / 4096));
            pool.parallelFor(chunks, (t, scratch) -> {
                long e0 = t * size / chunks, e1 = (t + 1) * size / chunks;
                for (long e = e0; e < e1; e++) {
                    float sum = buf[(int) (padded + e)];
                    for (int ip = 1; ip < iParts; ip++) sum += buf[(int) (padded + ip * size + e)];
                    dw.setAtIndex(F, dwOff + e, sum);
                }
            });
        });
        return true;
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
