package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

import java.util.Arrays;

/**
 * Kernels that place an input inside a differently sized output: Pad (constant, reflect, edge, wrap; negative pads
 * crop), CenterCropPad, and Col2Im (the inverse of im2col, summing overlapping patches).
 */
final class PadKernel {
    private PadKernel() {}

    static Tensor pad(KernelCall c) {
        Tensor x = c.required(0);
        PadIndexMap map = new PadIndexMap(c, x.shape(), c.required(1).toLongArray());
        Tensor value = c.has(2) ? c.in(2) : null;
        if (value != null && value.numel() != 1)
            throw c.error("constant_value must hold one element, has " + value.numel());
        if (value != null && value.dtype() != x.dtype())
            throw c.error("constant_value has type " + value.dtype() + ", data " + x.dtype());
        Tensor out = Tensor.zeros(x.dtype(), map.out);
        long[] idx = new long[x.rank()];
        for (int i = 0; i < out.numel(); i++) {
            long src = map.source(idx);
            if (src >= 0) out.copyElement(i, x, (int) src);
            else if (value != null) out.copyElement(i, value, 0);
            Strided.next(idx, map.out);
        }
        return out;
    }

    static Tensor centerCropPad(KernelCall c) {
        Tensor x = c.required(0);
        int r = x.rank();
        long[] axesIn = c.attrInts("axes");
        int[] axes = axesIn == null ? ShapeKernels.range(r) : ShapeMath.axes(axesIn, r, c::error);
        long[] target = c.required(1).toLongArray();
        if (target.length != axes.length)
            throw c.error("shape has " + target.length + " entries for " + axes.length + " axes");
        long[] in = x.shape(), shape = x.shape(), shift = new long[r];
        for (int i = 0; i < axes.length; i++) {
            int a = axes[i];
            if (target[i] < 0) throw c.error("shape " + Arrays.toString(target) + " has a negative entry");
            shape[a] = target[i];
            // Cropping starts floor((in - out) / 2) elements in; padding puts floor((out - in) / 2) zeros first.
            shift[a] = in[a] >= target[i] ? (in[a] - target[i]) / 2 : -((target[i] - in[a]) / 2);
        }
        Tensor out = Tensor.zeros(x.dtype(), shape);
        long[] st = Tensor.strides(in), idx = new long[r];
        for (int i = 0; i < out.numel(); i++) {
            long src = 0;
            boolean inside = true;
            for (int k = 0; k < r; k++) {
                long p = idx[k] + shift[k];
                inside &= p >= 0 && p < in[k];
                src += p * st[k];
            }
            if (inside) out.copyElement(i, x, (int) src);
            Strided.next(idx, shape);
        }
        return out;
    }

    static Tensor col2im(KernelCall c) {
        Tensor x = c.required(0);
        long[] image = c.required(1).toLongArray(), block = c.required(2).toLongArray();
        int n = image.length;
        if (x.rank() != 3) throw c.error("input must have rank 3 (N, C*prod(block), L)");
        if (block.length != n) throw c.error("image_shape and block_shape must have the same length");
        long[] dil = orDefault(c.attrInts("dilations"), n, 1), strides = orDefault(c.attrInts("strides"), n, 1);
        long[] pads = orDefault(c.attrInts("pads"), 2 * n, 0);
        if (dil.length != n || strides.length != n || pads.length != 2 * n)
            throw c.error("dilations, strides and pads must match the " + n + " image dimensions");
        for (int i = 0; i < n; i++)
            if (dil[i] < 1 || strides[i] < 1 || block[i] < 1 || image[i] < 0)
                throw c.error("dilations, strides and block_shape must be positive, image_shape non-negative");
        long kernel = Strided.product(block, 0, n);
        if (kernel <= 0 || x.dim(1) % kernel != 0)
            throw c.error("input channels " + x.dim(1) + " are not divisible by the block size " + kernel);
        long[] cols = new long[n];
        for (int i = 0; i < n; i++) {
            cols[i] = (image[i] + pads[i] + pads[i + n] - (dil[i] * (block[i] - 1) + 1)) / strides[i] + 1;
            if (cols[i] < 1) throw c.error("no sliding block fits image dimension " + i);
        }
        long blocks = Strided.product(cols, 0, n);
        if (x.dim(2) != blocks)
            throw c.error("input has " + x.dim(2) + " blocks, the image and block shapes give " + blocks);
        long batch = x.dim(0), ch = x.dim(1) / kernel, imageSize = Strided.product(image, 0, n);
        long[] shape = new long[n + 2];
        shape[0] = batch;
        shape[1] = ch;
        System.arraycopy(image, 0, shape, 2, n);
        double[] acc = new double[Tensor.checkedNumel(shape)];
        long[] imStrides = Tensor.strides(image), off = new long[n], col = new long[n];
        for (long b = 0; b < batch; b++) {
            for (long ci = 0; ci < ch; ci++) {
                long plane = (b * ch + ci) * imageSize;
                for (long k = 0; k < kernel; k++) {
                    Strided.unravel(k, block, off);
                    long row = (b * x.dim(1) + ci * kernel + k) * blocks;
                    for (long l = 0; l < blocks; l++) {
                        Strided.unravel(l, cols, col);
                        long pos = 0;
                        boolean inside = true;
                        for (int i = 0; i < n; i++) {
                            long p = col[i] * strides[i] - pads[i] + off[i] * dil[i];
                            inside &= p >= 0 && p < image[i];
                            pos += p * imStrides[i];
                        }
                        if (inside) acc[(int) (plane + pos)] += x.getDouble((int) (row + l));
                    }
                }
            }
        }
        return NnKernels.fromDoubles(x.dtype(), shape, acc);
    }

    private static long[] orDefault(long[] v, int n, long def) {
        if (v != null) return v;
        long[] d = new long[n];
        Arrays.fill(d, def);
        return d;
    }
}
