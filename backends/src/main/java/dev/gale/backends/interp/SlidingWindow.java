package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ConvGeometry;

/**
 * For every output position of a forward window (Conv, pooling) and every kernel position, the flat offset of the
 * input element it reads within one spatial plane, or {@link #PAD} (inside the explicit or automatic padding) or
 * {@link #OUTSIDE} (past the padding, which only {@code ceil_mode} windows reach). Offsets are row-major over the
 * spatial axes.
 */
final class SlidingWindow {
    static final int PAD = -1, OUTSIDE = -2;

    final int outSize, kernelSize, inSize;
    /** {@code offsets[o * kernelSize + k]}. */
    final int[] offsets;

    private SlidingWindow(int outSize, int kernelSize, int inSize, int[] offsets) {
        this.outSize = outSize;
        this.kernelSize = kernelSize;
        this.inSize = inSize;
        this.offsets = offsets;
    }

    static SlidingWindow of(long[] in, ConvGeometry g) {
        int r = in.length;
        int outSize = Tensor.checkedNumel(g.out()), kernelSize = Tensor.checkedNumel(g.kernel());
        int inSize = Tensor.checkedNumel(in);
        long[] inStrides = Tensor.strides(in);
        int[] offsets = new int[Math.multiplyExact(outSize, kernelSize)];
        long[] o = new long[r], k = new long[r];
        for (int oi = 0; oi < outSize; oi++) {
            Strided.unravel(oi, g.out(), o);
            for (int ki = 0; ki < kernelSize; ki++) {
                Strided.unravel(ki, g.kernel(), k);
                int off = 0;
                for (int a = 0; a < r && off != OUTSIDE; a++) {
                    long p = o[a] * g.strides()[a] + k[a] * g.dilations()[a] - g.padsBegin()[a];
                    if (p >= 0 && p < in[a]) {
                        if (off >= 0) off += (int) (p * inStrides[a]);
                    } else {
                        off = p < -g.padsBegin()[a] || p >= in[a] + g.padsEnd()[a] ? OUTSIDE : PAD;
                    }
                }
                offsets[oi * kernelSize + ki] = off;
            }
        }
        return new SlidingWindow(outSize, kernelSize, inSize, offsets);
    }
}
