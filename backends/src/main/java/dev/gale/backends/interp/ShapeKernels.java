package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: shape manipulation. Reshape-like ops share the input's data; the others build their output
 * through {@link Strided} views or plain index loops. Resize and Upsample live in {@link ResizeKernel}.
 */
final class ShapeKernels {
    private ShapeKernels() {}

    static void registerAll() {
        register("Reshape", Kernel.single(c -> {
            Tensor x = c.required(0);
            return x.reshape(ShapeMath.reshape(x.shape(), c.required(1).toLongArray(), c.attrInt("allowzero") != 0,
                    c::error));
        }));
        register("Transpose", Kernel.single(ShapeKernels::transpose));
        register("Concat", Kernel.single(ShapeKernels::concat));
        register("Split", ShapeKernels::split);
        register("Slice", Kernel.single(ShapeKernels::slice));
        register("Squeeze", Kernel.single(ShapeKernels::squeeze));
        register("Unsqueeze", Kernel.single(ShapeKernels::unsqueeze));
        register("Flatten", Kernel.single(c -> {
            Tensor x = c.required(0);
            int r = x.rank();
            long axis = c.attrInt("axis");
            if (axis < -r || axis > r) throw c.error("axis " + axis + " is out of range [" + -r + ", " + r + "]");
            int a = (int) (axis < 0 ? axis + r : axis);
            long[] s = x.shape();
            return x.reshape(Strided.product(s, 0, a), Strided.product(s, a, r));
        }));
        register("Shape", Kernel.single(c -> {
            long[] s = c.required(0).shape();
            int r = s.length;
            long start = c.attrInt("start"), end = c.hasAttr("end") ? c.attrInt("end") : r;
            start = Math.clamp(start < 0 ? start + r : start, 0, r);
            end = Math.clamp(end < 0 ? end + r : end, 0, r);
            return Tensor.vector(start >= end ? new long[0] : Arrays.copyOfRange(s, (int) start, (int) end));
        }));
        register("Size", Kernel.single(c -> Tensor.ofLongs(new long[0], c.required(0).numel())));
        register("ConstantOfShape", Kernel.single(ShapeKernels::constantOfShape));
        register("Expand", Kernel.single(ShapeKernels::expand));
        register("Tile", Kernel.single(ShapeKernels::tile));
        register("Pad", Kernel.single(PadKernel::pad));
        register("Range", Kernel.single(ShapeKernels::range));
        register("Trilu", Kernel.single(ShapeKernels::trilu));
        register("DepthToSpace", Kernel.single(ShapeKernels::depthToSpace));
        register("SpaceToDepth", Kernel.single(ShapeKernels::spaceToDepth));
        register("EyeLike", Kernel.single(ShapeKernels::eyeLike));
        register("CenterCropPad", Kernel.single(PadKernel::centerCropPad));
        register("Col2Im", Kernel.single(PadKernel::col2im));
        register("Resize", Kernel.single(ResizeKernel::resize));
        register("Upsample", Kernel.single(ResizeKernel::upsample));
    }

    private static Tensor transpose(KernelCall c) {
        Tensor x = c.required(0);
        int r = x.rank();
        long[] p = c.attrInts("perm");
        int[] perm = new int[r];
        if (p == null) {
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        } else {
            if (p.length != r) throw c.error("perm " + Arrays.toString(p) + " does not match rank " + r);
            boolean[] seen = new boolean[r];
            for (int i = 0; i < r; i++) {
                if (p[i] < 0 || p[i] >= r || seen[(int) p[i]])
                    throw c.error("perm " + Arrays.toString(p) + " is not a permutation");
                seen[(int) p[i]] = true;
                perm[i] = (int) p[i];
            }
        }
        return Strided.transpose(x, perm);
    }

    private static Tensor concat(KernelCall c) {
        Tensor first = c.required(0);
        int r = first.rank();
        int axis = ShapeMath.axis(c.attrInt("axis"), r, c::error);
        long[] shape = first.shape();
        shape[axis] = 0;
        for (int i = 0; i < c.numInputs(); i++) {
            Tensor t = c.required(i);
            if (t.dtype() != first.dtype() || t.rank() != r)
                throw c.error("input " + i + " " + t + " does not match input 0 " + first);
            for (int k = 0; k < r; k++)
                if (k != axis && t.dim(k) != first.dim(k))
                    throw c.error("input " + i + " has shape " + Arrays.toString(t.shape()) + ", input 0 "
                            + Arrays.toString(first.shape()) + "; they may differ only on axis " + axis);
            shape[axis] += t.dim(axis);
        }
        Tensor out = Tensor.zeros(first.dtype(), shape);
        long outer = Strided.product(shape, 0, axis), inner = Strided.product(shape, axis + 1, r);
        int pos = 0;
        for (long o = 0; o < outer; o++) {
            for (int i = 0; i < c.numInputs(); i++) {
                Tensor t = c.required(i);
                int chunk = (int) (t.dim(axis) * inner);
                Strided.copy(t, (int) (o * chunk), out, pos, chunk);
                pos += chunk;
            }
        }
        return out;
    }

    private static List<Object> split(KernelCall c) {
        Tensor x = c.required(0);
        int axis = ShapeMath.axis(c.attrInt("axis"), x.rank(), c::error);
        int n = c.numOutputs();
        long dim = x.dim(axis);
        long[] sizes;
        if (c.has(1)) {
            sizes = c.required(1).toLongArray();
            if (sizes.length != n) throw c.error("split has " + sizes.length + " sizes for " + n + " outputs");
            long total = 0;
            for (long s : sizes) {
                if (s < 0) throw c.error("split " + Arrays.toString(sizes) + " has a negative size");
                total += s;
            }
            if (total != dim) throw c.error("split " + Arrays.toString(sizes) + " sums to " + total + ", not " + dim);
        } else {
            sizes = ShapeMath.equalSplit(dim, n, c::error);
        }
        long[] st = Tensor.strides(x.shape());
        List<Object> out = new ArrayList<>(n);
        long start = 0;
        for (long s : sizes) {
            long[] shape = x.shape();
            shape[axis] = s;
            out.add(Strided.view(x, shape, start * st[axis], st));
            start += s;
        }
        return out;
    }

    private static Tensor slice(KernelCall c) {
        Tensor x = c.required(0);
        SliceIndexMap map = SliceIndexMap.of(c, x.shape(), 1);
        return Strided.view(x, map.shape(), map.offset(), map.strides());
    }

    static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    private static Tensor squeeze(KernelCall c) {
        Tensor x = c.required(0);
        long[] s = x.shape();
        boolean[] drop = new boolean[s.length];
        if (c.has(1)) {
            for (int a : ShapeMath.axes(c.in(1).toLongArray(), s.length, c::error)) {
                if (s[a] != 1) throw c.error("cannot squeeze axis " + a + " of size " + s[a]);
                drop[a] = true;
            }
        } else {
            for (int i = 0; i < s.length; i++) drop[i] = s[i] == 1;
        }
        long[] out = new long[s.length];
        int k = 0;
        for (int i = 0; i < s.length; i++) if (!drop[i]) out[k++] = s[i];
        return x.reshape(Arrays.copyOf(out, k));
    }

    private static Tensor unsqueeze(KernelCall c) {
        Tensor x = c.required(0);
        long[] axes = c.required(1).toLongArray();
        int r = x.rank() + axes.length;
        boolean[] inserted = new boolean[r];
        for (int a : ShapeMath.axes(axes, r, c::error)) inserted[a] = true;
        long[] out = new long[r];
        int k = 0;
        for (int i = 0; i < r; i++) out[i] = inserted[i] ? 1 : x.dim(k++);
        return x.reshape(out);
    }

    private static Tensor constantOfShape(KernelCall c) {
        long[] shape = c.required(0).toLongArray();
        for (long d : shape) if (d < 0) throw c.error("shape " + Arrays.toString(shape) + " has a negative dimension");
        Tensor v = c.attrTensor("value");
        if (v == null) return Tensor.zeros(DType.FLOAT32, shape);
        if (v.numel() != 1) throw c.error("value must hold exactly one element, has " + v.numel());
        Tensor out = Tensor.zeros(v.dtype(), shape);
        for (int i = 0; i < out.numel(); i++) out.copyElement(i, v, 0);
        return out;
    }

    private static Tensor expand(KernelCall c) {
        Tensor x = c.required(0);
        long[] target = c.required(1).toLongArray();
        for (long d : target) if (d < 0) throw c.error("shape " + Arrays.toString(target) + " has a negative dimension");
        long[] shape;
        try {
            shape = Broadcast.shape(x.shape(), target);
        } catch (GaleException e) {
            throw c.error("cannot expand: " + e.getMessage());
        }
        int[] map = Broadcast.indexMap(shape, x.shape());
        Tensor out = Tensor.zeros(x.dtype(), shape);
        for (int i = 0; i < out.numel(); i++) out.copyElement(i, x, map[i]);
        return out;
    }

    private static Tensor tile(KernelCall c) {
        Tensor x = c.required(0);
        long[] reps = c.required(1).toLongArray(), in = x.shape();
        if (reps.length != in.length)
            throw c.error("repeats " + Arrays.toString(reps) + " must have one entry per axis of " + Arrays.toString(in));
        long[] shape = new long[in.length];
        for (int k = 0; k < in.length; k++) {
            if (reps[k] < 0) throw c.error("repeats " + Arrays.toString(reps) + " has a negative entry");
            shape[k] = in[k] * reps[k];
        }
        Tensor out = Tensor.zeros(x.dtype(), shape);
        long[] st = Tensor.strides(in), idx = new long[shape.length];
        for (int i = 0; i < out.numel(); i++) {
            long src = 0;
            for (int k = 0; k < in.length; k++) src += (idx[k] % in[k]) * st[k];
            out.copyElement(i, x, (int) src);
            Strided.next(idx, shape);
        }
        return out;
    }

    private static Tensor range(KernelCall c) {
        Tensor start = c.required(0), limit = c.required(1), delta = c.required(2);
        DType t = start.dtype();
        if (limit.dtype() != t || delta.dtype() != t)
            throw c.error("start, limit and delta must have the same element type");
        for (Tensor s : List.of(start, limit, delta))
            if (s.numel() != 1) throw c.error("start, limit and delta must be scalars");
        if (t.isFloat()) {
            double s = start.getDouble(0), d = delta.getDouble(0);
            int n = (int) ShapeMath.rangeCount(s, limit.getDouble(0), d, c::error);
            Tensor out = Tensor.zeros(t, n);
            for (int i = 0; i < n; i++) out.setDouble(i, s + i * d);
            return out;
        }
        long s = start.getLong(0), d = delta.getLong(0);
        int n = (int) ShapeMath.rangeCount(s, limit.getLong(0), d, c::error);
        Tensor out = Tensor.zeros(t, n);
        for (int i = 0; i < n; i++) out.setLong(i, s + i * d);
        return out;
    }

    private static Tensor trilu(KernelCall c) {
        Tensor x = c.required(0);
        if (x.rank() < 2) throw c.error("Trilu needs a tensor of rank >= 2");
        long k = c.has(1) ? Strided.scalarLong(c.in(1), c, "k") : 0;
        boolean upper = c.attrInt("upper") != 0;
        long rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
        Tensor out = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) {
            long col = i % cols, row = (i / cols) % rows;
            long diag = col - row;
            if (upper ? diag >= k : diag <= k) out.copyElement(i, x, i);
        }
        return out;
    }

    /** DCR: [N, b, b, C', H, W] -> [N, C', H, b, W, b]; CRD: [N, C', b, b, H, W] -> [N, C', H, b, W, b]. */
    private static Tensor depthToSpace(KernelCall c) {
        Tensor x = c.required(0);
        long b = c.attrInt("blocksize");
        String mode = c.attrString("mode");
        if (x.rank() != 4) throw c.error("input must have rank 4 (N, C, H, W)");
        if (b <= 0 || x.dim(1) % (b * b) != 0) throw c.error("channels " + x.dim(1) + " are not divisible by blocksize^2");
        long n = x.dim(0), ch = x.dim(1) / (b * b), h = x.dim(2), w = x.dim(3);
        Tensor moved = switch (mode) {
            case "DCR" -> Strided.transpose(x.reshape(n, b, b, ch, h, w), new int[] {0, 3, 4, 1, 5, 2});
            case "CRD" -> Strided.transpose(x.reshape(n, ch, b, b, h, w), new int[] {0, 1, 4, 2, 5, 3});
            default -> throw c.error("mode must be DCR or CRD, is '" + mode + "'");
        };
        return moved.reshape(n, ch, h * b, w * b);
    }

    /** [N, C, H/b, b, W/b, b] -> [N, b, b, C, H/b, W/b]. */
    private static Tensor spaceToDepth(KernelCall c) {
        Tensor x = c.required(0);
        long b = c.attrInt("blocksize");
        if (x.rank() != 4) throw c.error("input must have rank 4 (N, C, H, W)");
        if (b <= 0 || x.dim(2) % b != 0 || x.dim(3) % b != 0)
            throw c.error("height and width " + x.dim(2) + "x" + x.dim(3) + " are not divisible by blocksize " + b);
        long n = x.dim(0), ch = x.dim(1), h = x.dim(2) / b, w = x.dim(3) / b;
        return Strided.transpose(x.reshape(n, ch, h, b, w, b), new int[] {0, 3, 5, 1, 2, 4}).reshape(n, ch * b * b, h, w);
    }

    private static Tensor eyeLike(KernelCall c) {
        Tensor x = c.required(0);
        if (x.rank() != 2) throw c.error("input must be 2-D");
        DType t = c.hasAttr("dtype") ? DType.fromOnnx((int) c.attrInt("dtype")) : x.dtype();
        long k = c.attrInt("k");
        Tensor out = Tensor.zeros(t, x.shape());
        long rows = x.dim(0), cols = x.dim(1);
        for (long i = 0; i < rows; i++) {
            long j = i + k;
            if (j >= 0 && j < cols) out.setLong((int) (i * cols + j), 1);
        }
        return out;
    }
}
