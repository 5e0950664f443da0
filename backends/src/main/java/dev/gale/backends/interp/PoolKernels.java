package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.ConvGeometry;

import java.util.Arrays;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels for pooling: AveragePool, MaxPool (with Indices), LpPool, their Global forms, and MaxUnpool.
 * Padding never contributes a value; AveragePool's {@code count_include_pad} only changes the divisor.
 */
final class PoolKernels {
    private PoolKernels() {}

    static void registerAll() {
        register("AveragePool", Kernel.single(c -> {
            boolean includePad = c.attrInt("count_include_pad") != 0;
            return pool(c, (x, base, win, o) -> {
                double s = 0;
                int count = 0;
                for (int k = 0; k < win.kernelSize; k++) {
                    int off = win.offsets[o * win.kernelSize + k];
                    if (off >= 0) s += x[base + off];
                    if (off >= 0 || includePad && off == SlidingWindow.PAD) count++;
                }
                return count == 0 ? 0 : s / count;
            });
        }));
        register("LpPool", Kernel.single(c -> {
            double p = c.attrInt("p");
            return pool(c, (x, base, win, o) -> {
                double s = 0;
                for (int k = 0; k < win.kernelSize; k++) {
                    int off = win.offsets[o * win.kernelSize + k];
                    if (off >= 0) s += Math.pow(Math.abs(x[base + off]), p);
                }
                return Math.pow(s, 1 / p);
            });
        }));
        register("MaxPool", PoolKernels::maxPool);
        register("GlobalAveragePool", Kernel.single(c -> global(c, (x, base, n) -> {
            double s = 0;
            for (int i = 0; i < n; i++) s += x[base + i];
            return s / n;
        })));
        register("GlobalMaxPool", Kernel.single(c -> global(c, (x, base, n) -> {
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) m = Double.isNaN(x[base + i]) || x[base + i] > m ? x[base + i] : m;
            return m;
        })));
        register("GlobalLpPool", Kernel.single(c -> {
            double p = c.attrInt("p");
            return global(c, (x, base, n) -> {
                double s = 0;
                for (int i = 0; i < n; i++) s += Math.pow(Math.abs(x[base + i]), p);
                return Math.pow(s, 1 / p);
            });
        }));
        register("MaxUnpool", Kernel.single(PoolKernels::maxUnpool));
    }

    /** One output element of a pooling op from the window at output position {@code o} of the plane at {@code base}. */
    private interface WindowReduce {
        double apply(double[] x, int base, SlidingWindow win, int o);
    }

    private interface PlaneReduce {
        double apply(double[] x, int base, int n);
    }

    record Pooled(long[] outShape, SlidingWindow win, int planes) {}

    static Pooled geometry(KernelCall c, Tensor x) { return geometry(c, x.shape()); }

    /** Output shape and windows of a pooling op with {@code c}'s attributes over an input of shape {@code xs}. */
    static Pooled geometry(KernelCall c, long[] xs) {
        if (xs.length < 3) throw c.error("X must have rank at least 3 (N, C, spatial...), got " + Arrays.toString(xs));
        long[] in = Arrays.copyOfRange(xs, 2, xs.length);
        ConvGeometry g = ConvGeometry.forward(in, c.attrInts("kernel_shape"), c.attrInts("strides"),
                c.attrInts("dilations"), c.attrInts("pads"), ConvGeometry.autoPad(c.attrString("auto_pad"), c::error),
                c.attrInt("ceil_mode") != 0, c::error);
        long[] outShape = xs.clone();
        System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        return new Pooled(outShape, SlidingWindow.of(in, g), Math.toIntExact(xs[0] * xs[1]));
    }

    private static Tensor pool(KernelCall c, WindowReduce f) {
        Tensor x = c.required(0);
        NnKernels.requireFloat(c, x, "X");
        Pooled p = geometry(c, x);
        double[] xd = x.toDoubleArray(), y = new double[Tensor.checkedNumel(p.outShape)];
        SlidingWindow win = p.win;
        for (int plane = 0; plane < p.planes; plane++)
            for (int o = 0; o < win.outSize; o++) y[plane * win.outSize + o] = f.apply(xd, plane * win.inSize, win, o);
        return NnKernels.fromDoubles(x.dtype(), p.outShape, y);
    }

    /**
     * MaxPool; Indices are flat positions in X including the batch and channel offsets, with the spatial part in
     * row-major order ({@code storage_order=0}) or column-major order ({@code storage_order=1}).
     */
    private static List<Object> maxPool(KernelCall c) {
        Tensor x = c.required(0);
        DType t = x.dtype();
        if (!t.isFloat() && t != DType.INT8 && t != DType.UINT8)
            throw c.error("X must be a floating-point, int8 or uint8 tensor, got " + t);
        Pooled p = geometry(c, x);
        SlidingWindow win = p.win;
        long storageOrder = c.attrInt("storage_order");
        if (storageOrder != 0 && storageOrder != 1) throw c.error("storage_order must be 0 or 1, got " + storageOrder);
        long[] in = Arrays.copyOfRange(x.shape(), 2, x.rank());
        double[] xd = x.toDoubleArray();
        Tensor y = Tensor.zeros(t, p.outShape), indices = Tensor.zeros(DType.INT64, p.outShape);
        long[] idx = new long[in.length];
        for (int plane = 0; plane < p.planes; plane++) {
            int base = plane * win.inSize;
            for (int o = 0; o < win.outSize; o++) {
                double best = Double.NEGATIVE_INFINITY;
                int arg = -1;
                for (int k = 0; k < win.kernelSize; k++) {
                    int off = win.offsets[o * win.kernelSize + k];
                    if (off < 0) continue;
                    double v = xd[base + off];
                    if (arg < 0 || v > best || Double.isNaN(v) && !Double.isNaN(best)) {
                        best = v;
                        arg = off;
                    }
                }
                int yi = plane * win.outSize + o;
                y.setDouble(yi, best);
                if (arg < 0) {
                    indices.setLong(yi, -1);
                    continue;
                }
                long spatial = arg;
                if (storageOrder == 1) {
                    Strided.unravel(arg, in, idx);
                    spatial = 0;
                    for (int a = in.length - 1; a >= 0; a--) spatial = spatial * in[a] + idx[a];
                }
                indices.setLong(yi, (long) base + spatial);
            }
        }
        return c.numOutputs() > 1 ? List.of(y, indices) : List.of(y);
    }

    private static Tensor global(KernelCall c, PlaneReduce f) {
        Tensor x = c.required(0);
        NnKernels.requireFloat(c, x, "X");
        if (x.rank() < 2) throw c.error("X must have rank at least 2 (N, C, spatial...), got " + Arrays.toString(x.shape()));
        long[] outShape = x.shape();
        for (int a = 2; a < outShape.length; a++) outShape[a] = 1;
        int planes = (int) (x.dim(0) * x.dim(1)), n = planes == 0 ? 0 : x.numel() / planes;
        double[] xd = x.toDoubleArray(), y = new double[planes];
        for (int plane = 0; plane < planes; plane++) y[plane] = f.apply(xd, plane * n, n);
        return NnKernels.fromDoubles(x.dtype(), outShape, y);
    }

    /**
     * Writes each X element at its index in the default output (the shape pooling with these attributes inverts); an
     * explicit output_shape keeps each element's coordinates, so a larger output gains zeros at the ends.
     */
    private static Tensor maxUnpool(KernelCall c) {
        Tensor x = c.required(0), ind = c.required(1);
        if (x.rank() < 3) throw c.error("X must have rank at least 3 (N, C, spatial...), got " + Arrays.toString(x.shape()));
        if (!Arrays.equals(x.shape(), ind.shape()))
            throw c.error("I's shape " + Arrays.toString(ind.shape()) + " differs from X's " + Arrays.toString(x.shape()));
        long[] in = Arrays.copyOfRange(x.shape(), 2, x.rank());
        ConvGeometry g = ConvGeometry.transposed(in, c.attrInts("kernel_shape"), c.attrInts("strides"), null,
                c.attrInts("pads"), ConvGeometry.AutoPad.NOTSET, null, null, c::error);
        long[] defShape = x.shape();
        System.arraycopy(g.out(), 0, defShape, 2, g.rank());
        long[] outShape = defShape;
        if (c.has(2)) {
            outShape = c.required(2).toLongArray();
            if (outShape.length != x.rank())
                throw c.error("output_shape " + Arrays.toString(outShape) + " must have " + x.rank() + " values");
        }
        Tensor y = Tensor.zeros(x.dtype(), outShape);
        long[] outStrides = Tensor.strides(outShape), idx = new long[defShape.length];
        long defNumel = Tensor.checkedNumel(defShape);
        for (int i = 0; i < x.numel(); i++) {
            long at = ind.getLong(i);
            if (at < 0 || at >= defNumel)
                throw c.error("index " + at + " is outside the unpooled tensor of shape " + Arrays.toString(defShape));
            Strided.unravel(at, defShape, idx);
            long off = 0;
            for (int a = 0; a < idx.length; a++) {
                if (idx[a] >= outShape[a])
                    throw c.error("index " + at + " falls outside output_shape " + Arrays.toString(outShape));
                off += idx[a] * outStrides[a];
            }
            y.copyElement((int) off, x, i);
        }
        return y;
    }
}
