package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

import java.util.Arrays;

/**
 * Interpreter kernels of the shape family's gale backward helpers. Each builds zeros of x's shape (input 1) and moves
 * the incoming gradient dy back to the elements of x that the forward op read: SliceGrad writes (a slice reads each
 * element at most once), GatherGrad and PadGrad add in float64 (an element may be read several times).
 */
final class ShapeGradKernels {
    private ShapeGradKernels() {}

    /** SliceGrad(dy, shape, starts, ends[, axes[, steps]]): the bounds are those of the forward Slice. */
    static Tensor sliceGrad(KernelCall c) {
        Tensor dy = gradient(c);
        long[] shape = shape(c);
        SliceIndexMap map = SliceIndexMap.of(c, shape, 2);
        expectShape(c, dy, map.shape());
        Tensor dx = Tensor.zeros(dy.dtype(), shape);
        long[] idx = new long[shape.length];
        for (int i = 0; i < dy.numel(); i++) {
            dx.copyElement((int) (map.offset() + Strided.offset(idx, map.strides())), dy, i);
            Strided.next(idx, map.shape());
        }
        return dx;
    }

    /** GatherGrad(dy, shape, indices; axis): row {@code indices[j]} of x gets dy's slice j, summed over repeats. */
    static Tensor gatherGrad(KernelCall c) {
        Tensor dy = gradient(c), idx = c.required(2);
        long[] ds = shape(c), is = idx.shape();
        if (ds.length == 0) throw c.error("data must have rank >= 1");
        int axis = ShapeMath.axis(c.attrInt("axis"), ds.length, c::error);
        long[] expected = new long[ds.length - 1 + is.length];
        System.arraycopy(ds, 0, expected, 0, axis);
        System.arraycopy(is, 0, expected, axis, is.length);
        System.arraycopy(ds, axis + 1, expected, axis + is.length, ds.length - axis - 1);
        expectShape(c, dy, expected);
        long outer = Strided.product(ds, 0, axis), inner = Strided.product(ds, axis + 1, ds.length), n = ds[axis];
        double[] acc = new double[Tensor.checkedNumel(ds)];
        int m = idx.numel(), pos = 0;
        for (long o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                long k = idx.getLong(j);
                if (k < -n || k >= n) throw c.error("index " + k + " is out of range for an axis of size " + n);
                int base = (int) ((o * n + (k < 0 ? k + n : k)) * inner);
                for (int t = 0; t < inner; t++) acc[base + t] += dy.getDouble(pos++);
            }
        }
        return NnKernels.fromDoubles(dy.dtype(), ds, acc);
    }

    /** PadGrad(dy, shape, pads[, axes]; mode): the forward Pad's index map, run backwards with addition. */
    static Tensor padGrad(KernelCall c) {
        Tensor dy = gradient(c);
        long[] in = shape(c);
        PadIndexMap map = new PadIndexMap(c, in, c.required(2).toLongArray());
        expectShape(c, dy, map.out);
        double[] acc = new double[Tensor.checkedNumel(in)];
        long[] idx = new long[in.length];
        for (int i = 0; i < dy.numel(); i++) {
            long src = map.source(idx);
            if (src >= 0) acc[(int) src] += dy.getDouble(i);
            Strided.next(idx, map.out);
        }
        return NnKernels.fromDoubles(dy.dtype(), in, acc);
    }

    private static Tensor gradient(KernelCall c) {
        Tensor dy = c.required(0);
        if (!dy.dtype().isFloat()) throw c.error("the incoming gradient must be floating-point, is " + dy.dtype());
        return dy;
    }

    /** The target shape (input 1), checked. */
    private static long[] shape(KernelCall c) {
        long[] s = c.required(1).toLongArray();
        for (long d : s) if (d < 0) throw c.error("shape " + Arrays.toString(s) + " has a negative dimension");
        Tensor.checkedNumel(s);
        return s;
    }

    private static void expectShape(KernelCall c, Tensor dy, long[] expected) {
        if (!Arrays.equals(dy.shape(), expected))
            throw c.error("the incoming gradient has shape " + Arrays.toString(dy.shape()) + ", the forward output "
                    + Arrays.toString(expected));
    }
}
