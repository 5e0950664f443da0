package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: gathers, scatters and other ops that index with tensor values. Negative indices count from the
 * end of their axis; an index outside {@code [-n, n)} is an error naming the index, never a Java exception. Unique
 * lives in {@link UniqueKernel}.
 */
final class IndexingKernels {
    private IndexingKernels() {}

    static void registerAll() {
        register("Gather", Kernel.single(IndexingKernels::gather));
        register("GatherElements", Kernel.single(IndexingKernels::gatherElements));
        register("GatherND", Kernel.single(IndexingKernels::gatherNd));
        register("Scatter", Kernel.single(c -> scatterElements(c, "none")));
        register("ScatterElements", Kernel.single(c -> scatterElements(c, c.attrString("reduction"))));
        register("ScatterND", Kernel.single(IndexingKernels::scatterNd));
        register("Compress", Kernel.single(IndexingKernels::compress));
        register("ReverseSequence", Kernel.single(IndexingKernels::reverseSequence));
        register("Unique", UniqueKernel::unique);
        register("OneHot", Kernel.single(IndexingKernels::oneHot));
        register("NonZero", Kernel.single(IndexingKernels::nonZero));
    }

    /** An index read from {@code t} at {@code i}, normalized against an axis of size {@code n}. */
    private static long index(Tensor t, int i, long n, KernelCall c) {
        long v = t.getLong(i);
        if (v < -n || v >= n) throw c.error("index " + v + " is out of range for an axis of size " + n);
        return v < 0 ? v + n : v;
    }

    private static Tensor gather(KernelCall c) {
        Tensor data = c.required(0), idx = c.required(1);
        if (data.rank() == 0) throw c.error("data must have rank >= 1");
        int axis = ShapeMath.axis(c.attrInt("axis"), data.rank(), c::error);
        long[] ds = data.shape(), is = idx.shape();
        long[] shape = new long[ds.length - 1 + is.length];
        System.arraycopy(ds, 0, shape, 0, axis);
        System.arraycopy(is, 0, shape, axis, is.length);
        System.arraycopy(ds, axis + 1, shape, axis + is.length, ds.length - axis - 1);
        Tensor out = Tensor.zeros(data.dtype(), shape);
        long outer = Strided.product(ds, 0, axis), inner = Strided.product(ds, axis + 1, ds.length), n = ds[axis];
        int m = idx.numel(), pos = 0;
        for (long o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                long k = index(idx, j, n, c);
                Strided.copy(data, (int) ((o * n + k) * inner), out, pos, (int) inner);
                pos += (int) inner;
            }
        }
        return out;
    }

    private static Tensor gatherElements(KernelCall c) {
        Tensor data = c.required(0), idx = c.required(1);
        int r = data.rank();
        if (idx.rank() != r || r == 0) throw c.error("data and indices must have the same rank >= 1");
        int axis = ShapeMath.axis(c.attrInt("axis"), r, c::error);
        long[] ds = data.shape(), st = Tensor.strides(ds), is = idx.shape(), pos = new long[r];
        for (int k = 0; k < r; k++)
            if (k != axis && is[k] > ds[k]) throw c.error("indices dimension " + k + " exceeds the data's");
        Tensor out = Tensor.zeros(data.dtype(), is);
        for (int i = 0; i < out.numel(); i++) {
            long src = 0;
            for (int k = 0; k < r; k++) src += (k == axis ? index(idx, i, ds[k], c) : pos[k]) * st[k];
            out.copyElement(i, data, (int) src);
            Strided.next(pos, is);
        }
        return out;
    }

    private static Tensor gatherNd(KernelCall c) {
        Tensor data = c.required(0), idx = c.required(1);
        long[] ds = data.shape(), is = idx.shape();
        int r = ds.length, q = is.length;
        long b = c.attrInt("batch_dims");
        if (q < 1 || r < 1 || b < 0 || b >= Math.min(r, q)) throw c.error("invalid ranks or batch_dims");
        int nb = (int) b;
        long m = is[q - 1];
        if (m < 1 || m > r - nb) throw c.error("indices' last dimension " + m + " must be in [1, " + (r - nb) + "]");
        for (int k = 0; k < nb; k++)
            if (ds[k] != is[k]) throw c.error("batch dimension " + k + " differs: " + ds[k] + " and " + is[k]);
        long[] shape = new long[q - 1 + r - nb - (int) m];
        System.arraycopy(is, 0, shape, 0, q - 1);
        System.arraycopy(ds, nb + (int) m, shape, q - 1, r - nb - (int) m);
        Tensor out = Tensor.zeros(data.dtype(), shape);
        long batches = Strided.product(ds, 0, nb), perBatch = Strided.product(is, nb, q - 1);
        long slice = Strided.product(ds, nb + (int) m, r), batchSize = Strided.product(ds, nb, r);
        long[] st = Tensor.strides(ds);
        int pos = 0;
        for (long bi = 0; bi < batches; bi++) {
            for (long j = 0; j < perBatch; j++) {
                long src = bi * batchSize;
                int tuple = (int) ((bi * perBatch + j) * m);
                for (int k = 0; k < m; k++) src += index(idx, tuple + k, ds[nb + k], c) * st[nb + k];
                Strided.copy(data, (int) src, out, pos, (int) slice);
                pos += (int) slice;
            }
        }
        return out;
    }

    /** Combines an existing element with an update under a scatter reduction, in place. */
    private static void reduce(Tensor out, int at, Tensor upd, int from, String reduction, KernelCall c) {
        if (reduction.equals("none")) {
            out.copyElement(at, upd, from);
            return;
        }
        DType t = out.dtype();
        if (t.isFloat()) {
            double a = out.getDouble(at), u = upd.getDouble(from);
            out.setDouble(at, switch (reduction) {
                case "add" -> a + u;
                case "mul" -> a * u;
                case "max" -> Double.isNaN(a) || Double.isNaN(u) ? Double.NaN : Math.max(a, u);
                case "min" -> Double.isNaN(a) || Double.isNaN(u) ? Double.NaN : Math.min(a, u);
                default -> throw c.error("unknown reduction '" + reduction + "'");
            });
        } else if (t.isInteger() || t == DType.BOOL) {
            long a = out.getLong(at), u = upd.getLong(from);
            boolean unsigned = t == DType.UINT64;
            out.setLong(at, switch (reduction) {
                case "add" -> a + u;
                case "mul" -> a * u;
                case "max" -> (unsigned ? Long.compareUnsigned(a, u) : Long.compare(a, u)) >= 0 ? a : u;
                case "min" -> (unsigned ? Long.compareUnsigned(a, u) : Long.compare(a, u)) <= 0 ? a : u;
                default -> throw c.error("unknown reduction '" + reduction + "'");
            });
        } else {
            throw c.error("reduction '" + reduction + "' is not defined for element type " + t);
        }
    }

    private static Tensor scatterElements(KernelCall c, String reduction) {
        Tensor data = c.required(0), idx = c.required(1), upd = c.required(2);
        int r = data.rank();
        if (idx.rank() != r || r == 0) throw c.error("data and indices must have the same rank >= 1");
        if (!Arrays.equals(idx.shape(), upd.shape())) throw c.error("updates must have the shape of indices");
        if (upd.dtype() != data.dtype()) throw c.error("updates must have the data's element type");
        int axis = ShapeMath.axis(c.attrInt("axis"), r, c::error);
        long[] ds = data.shape(), st = Tensor.strides(ds), is = idx.shape(), pos = new long[r];
        for (int k = 0; k < r; k++)
            if (k != axis && is[k] > ds[k]) throw c.error("indices dimension " + k + " exceeds the data's");
        Tensor out = copyOf(data);
        for (int i = 0; i < idx.numel(); i++) {
            long dst = 0;
            for (int k = 0; k < r; k++) dst += (k == axis ? index(idx, i, ds[k], c) : pos[k]) * st[k];
            reduce(out, (int) dst, upd, i, reduction, c);
            Strided.next(pos, is);
        }
        return out;
    }

    private static Tensor copyOf(Tensor t) {
        Tensor out = Tensor.zeros(t.dtype(), t.shape());
        Strided.copy(t, 0, out, 0, t.numel());
        return out;
    }

    private static Tensor scatterNd(KernelCall c) {
        Tensor data = c.required(0), idx = c.required(1), upd = c.required(2);
        String reduction = c.attrString("reduction");
        long[] ds = data.shape(), is = idx.shape();
        int q = is.length;
        if (q < 1) throw c.error("indices must have rank >= 1");
        long m = is[q - 1];
        if (m > ds.length) throw c.error("indices' last dimension " + m + " exceeds the data rank " + ds.length);
        long[] expected = new long[q - 1 + ds.length - (int) m];
        System.arraycopy(is, 0, expected, 0, q - 1);
        System.arraycopy(ds, (int) m, expected, q - 1, ds.length - (int) m);
        if (!Arrays.equals(upd.shape(), expected))
            throw c.error("updates have shape " + Arrays.toString(upd.shape()) + ", expected " + Arrays.toString(expected));
        if (upd.dtype() != data.dtype()) throw c.error("updates must have the data's element type");
        Tensor out = copyOf(data);
        long[] st = Tensor.strides(ds);
        long tuples = Strided.product(is, 0, q - 1), slice = Strided.product(ds, (int) m, ds.length);
        for (long j = 0; j < tuples; j++) {
            long dst = 0;
            for (int k = 0; k < m; k++) dst += index(idx, (int) (j * m + k), ds[k], c) * st[k];
            for (long s = 0; s < slice; s++) reduce(out, (int) (dst + s), upd, (int) (j * slice + s), reduction, c);
        }
        return out;
    }

    private static Tensor compress(KernelCall c) {
        Tensor x = c.required(0), cond = c.required(1);
        if (cond.rank() != 1) throw c.error("condition must be 1-D");
        if (!c.hasAttr("axis")) x = x.reshape(x.numel());
        int axis = c.hasAttr("axis") ? ShapeMath.axis(c.attrInt("axis"), x.rank(), c::error) : 0;
        long[] s = x.shape();
        long n = s[axis];
        if (cond.numel() > n) throw c.error("condition has " + cond.numel() + " entries for an axis of size " + n);
        List<Long> keep = new ArrayList<>();
        for (int i = 0; i < cond.numel(); i++) if (cond.getBool(i)) keep.add((long) i);
        long outer = Strided.product(s, 0, axis), inner = Strided.product(s, axis + 1, s.length);
        long[] shape = s.clone();
        shape[axis] = keep.size();
        Tensor out = Tensor.zeros(x.dtype(), shape);
        int pos = 0;
        for (long o = 0; o < outer; o++) {
            for (long k : keep) {
                Strided.copy(x, (int) ((o * n + k) * inner), out, pos, (int) inner);
                pos += (int) inner;
            }
        }
        return out;
    }

    private static Tensor reverseSequence(KernelCall c) {
        Tensor x = c.required(0), lens = c.required(1);
        int bAxis = (int) c.attrInt("batch_axis"), tAxis = (int) c.attrInt("time_axis");
        if (!(bAxis == 0 && tAxis == 1 || bAxis == 1 && tAxis == 0))
            throw c.error("batch_axis and time_axis must be 0 and 1 in some order");
        if (x.rank() < 2) throw c.error("input must have rank >= 2");
        long[] s = x.shape(), st = Tensor.strides(s), pos = new long[s.length];
        if (lens.numel() != s[bAxis]) throw c.error("sequence_lens must have one entry per batch element");
        for (int b = 0; b < lens.numel(); b++)
            if (lens.getLong(b) < 0 || lens.getLong(b) > s[tAxis])
                throw c.error("sequence length " + lens.getLong(b) + " is out of range [0, " + s[tAxis] + "]");
        Tensor out = Tensor.zeros(x.dtype(), s);
        for (int i = 0; i < out.numel(); i++) {
            long len = lens.getLong((int) pos[bAxis]), t = pos[tAxis];
            long src = t < len ? i + (len - 1 - 2 * t) * st[tAxis] : i;
            out.copyElement(i, x, (int) src);
            Strided.next(pos, s);
        }
        return out;
    }

    private static Tensor oneHot(KernelCall c) {
        Tensor idx = c.required(0), depthT = c.required(1), values = c.required(2);
        if (depthT.numel() != 1) throw c.error("depth must hold one element");
        long depth = depthT.dtype().isFloat() ? (long) depthT.getDouble(0) : depthT.getLong(0);
        if (depth < 1) throw c.error("depth must be positive, is " + depth);
        if (values.numel() != 2) throw c.error("values must hold two elements [off, on]");
        int r = idx.rank() + 1;
        int axis = ShapeMath.axis(c.attrInt("axis"), r, c::error);
        long[] is = idx.shape(), shape = new long[r];
        for (int k = 0, j = 0; k < r; k++) shape[k] = k == axis ? depth : is[j++];
        Tensor out = Tensor.zeros(values.dtype(), shape);
        for (int i = 0; i < out.numel(); i++) out.copyElement(i, values, 0);
        long inner = Strided.product(is, axis, is.length);
        for (int i = 0; i < idx.numel(); i++) {
            long v = idx.dtype().isFloat() ? (long) idx.getDouble(i) : idx.getLong(i);
            if (v < 0) v += depth;
            if (v < 0 || v >= depth) continue;
            long o = i / inner, in = i % inner;
            out.copyElement((int) ((o * depth + v) * inner + in), values, 1);
        }
        return out;
    }

    private static Tensor nonZero(KernelCall c) {
        Tensor x = c.required(0);
        int r = x.rank();
        boolean flt = x.dtype().isFloat();
        List<Integer> hits = new ArrayList<>();
        for (int i = 0; i < x.numel(); i++) if (flt ? x.getDouble(i) != 0 : x.getLong(i) != 0) hits.add(i);
        long[] s = x.shape(), pos = new long[r];
        Tensor out = Tensor.zeros(DType.INT64, r, hits.size());
        for (int j = 0; j < hits.size(); j++) {
            Strided.unravel(hits.get(j), s, pos);
            for (int k = 0; k < r; k++) out.setLong(k * hits.size() + j, pos[k]);
        }
        return out;
    }
}
