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
        long[] starts = c.required(2).toLongArray(), ends = c.required(3).toLongArray();
        int n = starts.length;
        long[] axesIn = c.has(4) ? c.in(4).toLongArray() : null;
        long[] steps = c.has(5) ? c.in(5).toLongArray() : null;
        if (ends.length != n || axesIn != null && axesIn.length != n || steps != null && steps.length != n)
            throw c.error("starts, ends, axes and steps must have the same length");
        if (axesIn == null && n > shape.length) throw c.error("Slice has " + n + " starts for rank " + shape.length);
        int[] axes = axesIn == null ? ShapeKernels.range(n) : ShapeMath.axes(axesIn, shape.length, c::error);
        long[] st = Tensor.strides(shape), strides = st.clone(), counts = shape.clone();
        long offset = 0;
        for (int i = 0; i < n; i++) {
            int a = axes[i];
            var s = ShapeMath.slice(shape[a], starts[i], ends[i], steps == null ? 1 : steps[i], c::error);
            counts[a] = s.count();
            strides[a] = st[a] * s.step();
            if (s.count() > 0) offset += s.start() * st[a];
        }
        expectShape(c, dy, counts);
        Tensor dx = Tensor.zeros(dy.dtype(), shape);
        long[] idx = new long[shape.length];
        for (int i = 0; i < dy.numel(); i++) {
            dx.copyElement((int) (offset + Strided.offset(idx, strides)), dy, i);
            Strided.next(idx, counts);
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
        return fromDoubles(dy, ds, acc);
    }

    /** PadGrad(dy, shape, pads[, axes]; mode): the forward Pad's index map, run backwards with addition. */
    static Tensor padGrad(KernelCall c) {
        Tensor dy = gradient(c);
        long[] in = shape(c);
        int r = in.length;
        String mode = c.attrString("mode");
        int[] axes = c.has(3) ? ShapeMath.axes(c.in(3).toLongArray(), r, c::error) : ShapeKernels.range(r);
        long[] pads = c.required(2).toLongArray();
        if (pads.length != 2 * axes.length)
            throw c.error("pads has " + pads.length + " entries, expected " + 2 * axes.length);
        long[] before = new long[r], out = in.clone();
        for (int i = 0; i < axes.length; i++) {
            before[axes[i]] = pads[i];
            out[axes[i]] = in[axes[i]] + pads[i] + pads[i + axes.length];
        }
        expectShape(c, dy, out);
        for (int k = 0; k < r; k++)
            if (in[k] == 0 && out[k] > 0 && !mode.equals("constant"))
                throw c.error("cannot pad an empty axis " + k + " in " + mode + " mode");
        double[] acc = new double[Tensor.checkedNumel(in)];
        long[] st = Tensor.strides(in), idx = new long[r];
        for (int i = 0; i < dy.numel(); i++) {
            long src = 0;
            boolean outside = false;
            for (int k = 0; k < r; k++) {
                long p = idx[k] - before[k];
                if (p < 0 || p >= in[k]) {
                    switch (mode) {
                        case "constant" -> outside = true;
                        case "edge" -> p = p < 0 ? 0 : in[k] - 1;
                        case "wrap" -> p = Math.floorMod(p, in[k]);
                        case "reflect" -> p = reflect(p, in[k]);
                        default -> throw c.error("unknown mode '" + mode + "'");
                    }
                }
                src += p * st[k];
            }
            if (!outside) acc[(int) src] += dy.getDouble(i);
            Strided.next(idx, out);
        }
        return fromDoubles(dy, in, acc);
    }

    /** numpy's "reflect", as the forward Pad: the edge is not repeated, the pattern has period 2 (n - 1). */
    private static long reflect(long p, long n) {
        if (n == 1) return 0;
        long period = 2 * (n - 1);
        p = Math.floorMod(p, period);
        return p < n ? p : period - p;
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

    private static Tensor fromDoubles(Tensor like, long[] shape, double[] v) {
        Tensor t = Tensor.zeros(like.dtype(), shape);
        for (int i = 0; i < v.length; i++) t.setDouble(i, v[i]);
        return t;
    }
}
