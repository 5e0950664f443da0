package dev.gale.backends.cpu;

import dev.gale.ir.op.ConvGeometry;

/**
 * The geometry of a 2-D sliding window over NCHW planes, shared by convolution and pooling: input {@code h x w},
 * kernel {@code kh x kw}, strides, dilations, pads (top, left, bottom, right) and the output {@code oh x ow}. Input row
 * of output row {@code o} and kernel row {@code k}: {@code o * strideH - padTop + k * dilationH}; positions in
 * {@code [-padTop, h + padBottom)} are inside the padded input (pooling's {@code count_include_pad} counts them), and
 * only {@code ceil_mode} windows reach past it.
 */
public record Window2d(int h, int w, int kh, int kw, int strideH, int strideW, int dilationH, int dilationW,
                       int padTop, int padLeft, int padBottom, int padRight, int oh, int ow) {
    public Window2d {
        if (h < 0 || w < 0 || kh < 1 || kw < 1 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1
                || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0 || oh < 0 || ow < 0)
            throw new IllegalArgumentException("bad window geometry " + this);
    }

    /** The floor-mode window (Conv's): output sizes follow from the rest. */
    public static Window2d of(int h, int w, int kh, int kw, int strideH, int strideW, int dilationH, int dilationW,
                              int padTop, int padLeft, int padBottom, int padRight) {
        int oh = outSize(h, kh, strideH, dilationH, padTop, padBottom), ow = outSize(w, kw, strideW, dilationW, padLeft, padRight);
        return new Window2d(h, w, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight, oh, ow);
    }

    /** From the IR's geometry of a rank-2 window (auto_pad and ceil_mode already resolved) over an {@code h x w} input. */
    public static Window2d of(long h, long w, ConvGeometry g) {
        if (g.rank() != 2) throw new IllegalArgumentException("a 2-D window needs rank-2 geometry, got rank " + g.rank());
        return new Window2d(Math.toIntExact(h), Math.toIntExact(w), (int) g.kernel()[0], (int) g.kernel()[1],
                (int) g.strides()[0], (int) g.strides()[1], (int) g.dilations()[0], (int) g.dilations()[1],
                (int) g.padsBegin()[0], (int) g.padsBegin()[1], (int) g.padsEnd()[0], (int) g.padsEnd()[1],
                Math.toIntExact(g.out()[0]), Math.toIntExact(g.out()[1]));
    }

    private static int outSize(int in, int k, int s, int d, int pb, int pe) {
        long span = (long) in + pb + pe - ((long) (k - 1) * d + 1);
        if (span < 0) throw new IllegalArgumentException("the window (kernel " + k + ", dilation " + d
                + ") is larger than the padded input (" + ((long) in + pb + pe) + ")");
        return Math.toIntExact(span / s + 1);
    }

    public int inSize() { return h * w; }

    public int outSize() { return oh * ow; }

    public int kernelSize() { return kh * kw; }

    /** True when im2col would copy the input unchanged (1x1 kernel, unit strides, no pads). */
    boolean isPointwise() {
        return kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && padBottom == 0
                && padRight == 0;
    }

    /** First output column whose kernel column {@code kj} lands at input column >= 0. */
    int firstValidCol(int kj) { return firstValid(padLeft - kj * dilationW, strideW); }

    /** One past the last output column whose kernel column {@code kj} lands at input column < w (at least first). */
    int endValidCol(int kj) { return endValid(w + padLeft - kj * dilationW, strideW, ow); }

    int firstValidRow(int ki) { return firstValid(padTop - ki * dilationH, strideH); }

    int endValidRow(int ki) { return endValid(h + padTop - ki * dilationH, strideH, oh); }

    // o * s >= need  ->  o >= ceil(need / s)
    private static int firstValid(int need, int s) { return need <= 0 ? 0 : (need + s - 1) / s; }

    // o * s < limit  ->  o < ceil(limit / s)
    private static int endValid(int limit, int s, int out) { return limit <= 0 ? 0 : Math.min(out, (limit + s - 1) / s); }
}
