package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

import java.util.Arrays;

/**
 * Pad's index map, shared by the Pad kernel and its backward PadGrad: the padded shape, and for each element of it
 * the input element it reads (constant, reflect, edge or wrap mode; negative pads crop). Pad runs the map forwards,
 * copying; PadGrad runs it backwards, adding.
 */
final class PadIndexMap {
    /** The input shape and the padded output shape. */
    final long[] in, out;
    private final long[] before, strides;
    private final String mode;
    private final KernelCall c;

    /** The map of c's {@code pads} over input 3's axes (all axes when omitted), for an input of shape in. */
    PadIndexMap(KernelCall c, long[] in, long[] pads) {
        this.c = c;
        this.in = in;
        int r = in.length;
        mode = c.attrString("mode");
        int[] axes = c.has(3) ? ShapeMath.axes(c.in(3).toLongArray(), r, c::error) : ShapeKernels.range(r);
        if (pads.length != 2 * axes.length)
            throw c.error("pads has " + pads.length + " entries, expected " + 2 * axes.length);
        before = new long[r];
        out = in.clone();
        for (int i = 0; i < axes.length; i++) {
            int a = axes[i];
            before[a] = pads[i];
            out[a] = in[a] + pads[i] + pads[i + axes.length];
            if (out[a] < 0) throw c.error("pads " + Arrays.toString(pads) + " crop axis " + a + " below size 0");
        }
        if (!mode.equals("constant"))
            for (int k = 0; k < r; k++)
                if (in[k] == 0 && out[k] > 0) throw c.error("cannot pad an empty axis " + k + " in " + mode + " mode");
        strides = Tensor.strides(in);
    }

    /** The flat input offset that the output element at idx reads, or -1 where constant mode reads the pad value. */
    long source(long[] idx) {
        long src = 0;
        for (int k = 0; k < in.length; k++) {
            long p = idx[k] - before[k];
            if (p < 0 || p >= in[k]) {
                switch (mode) {
                    case "constant" -> { return -1; }
                    case "edge" -> p = p < 0 ? 0 : in[k] - 1;
                    case "wrap" -> p = Math.floorMod(p, in[k]);
                    case "reflect" -> p = reflect(p, in[k]);
                    default -> throw c.error("unknown mode '" + mode + "'");
                }
            }
            src += p * strides[k];
        }
        return src;
    }

    /** numpy's "reflect": the edge element is not repeated, and the pattern repeats with period 2 (n - 1). */
    private static long reflect(long p, long n) {
        if (n == 1) return 0;
        long period = 2 * (n - 1);
        p = Math.floorMod(p, period);
        return p < n ? p : period - p;
    }
}
