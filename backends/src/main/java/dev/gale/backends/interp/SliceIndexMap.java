package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

/**
 * Slice's index map, shared by the Slice kernel and its backward SliceGrad: the sliced shape, and the offset and
 * strides at which it reads a row-major tensor of the input shape. Slice reads through the map as a view; SliceGrad
 * writes back through it.
 *
 * @param shape   the sliced shape
 * @param offset  the flat input offset of the first element read
 * @param strides the input step per unit of each sliced axis (negative for a negative step)
 */
record SliceIndexMap(long[] shape, long offset, long[] strides) {
    /**
     * The map of c's {@code starts, ends[, axes[, steps]]} (inputs {@code first} to {@code first + 3}) over an input
     * of shape in.
     */
    static SliceIndexMap of(KernelCall c, long[] in, int first) {
        long[] starts = c.required(first).toLongArray(), ends = c.required(first + 1).toLongArray();
        int n = starts.length;
        long[] axesIn = c.has(first + 2) ? c.in(first + 2).toLongArray() : null;
        long[] steps = c.has(first + 3) ? c.in(first + 3).toLongArray() : null;
        if (ends.length != n || axesIn != null && axesIn.length != n || steps != null && steps.length != n)
            throw c.error("starts, ends, axes and steps must have the same length");
        if (axesIn == null && n > in.length) throw c.error("Slice has " + n + " starts for rank " + in.length);
        int[] axes = axesIn == null ? ShapeKernels.range(n) : ShapeMath.axes(axesIn, in.length, c::error);
        long[] shape = in.clone(), st = Tensor.strides(in), strides = st.clone();
        long offset = 0;
        for (int i = 0; i < n; i++) {
            int a = axes[i];
            var s = ShapeMath.slice(in[a], starts[i], ends[i], steps == null ? 1 : steps[i], c::error);
            shape[a] = s.count();
            strides[a] = st[a] * s.step();
            if (s.count() > 0) offset += s.start() * st[a];
        }
        return new SliceIndexMap(shape, offset, strides);
    }
}
