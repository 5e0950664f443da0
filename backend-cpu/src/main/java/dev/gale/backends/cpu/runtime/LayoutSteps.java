package dev.gale.backends.cpu.runtime;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;
import dev.gale.ir.op.ShapeMath;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * Steps that move data without computing: the reshapes (a copy, since every value has its own place in the
 * arena), Transpose, Slice and its gradient, Expand, Concat, Gather along an axis and its gradient.
 */
final class LayoutSteps {
    private LayoutSteps() {}

    static void registerAll() {
        for (String op : new String[] {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"}) {
            NativeOps.register(op, LayoutSteps::copy);
            NativeOps.inPlace(op);
        }
        NativeOps.register("Transpose", LayoutSteps::transpose);
        NativeOps.register("DepthToSpace", c -> blocks(c, true));
        NativeOps.register("SpaceToDepth", c -> blocks(c, false));
        NativeOps.register("Slice", c -> slice(c, false));
        NativeOps.register(GaleOps.DOMAIN, "SliceGrad", c -> slice(c, true));
        NativeOps.register("Expand", LayoutSteps::expand);
        NativeOps.register("Concat", LayoutSteps::concat);
        NativeOps.register("Gather", LayoutSteps::gather);
        NativeOps.register("GatherElements", LayoutSteps::gatherElements);
        NativeOps.register("ScatterElements", LayoutSteps::scatterElements);
        NativeOps.register("Pad", LayoutSteps::pad);
        NativeOps.register("Split", LayoutSteps::split);
        NativeOps.register(GaleOps.DOMAIN, "GatherGrad", LayoutSteps::gatherGrad);
    }

    /** Output = input 0's elements in the same order. */
    static Step copy(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena() || c.in(0).numel != c.out(0).numel) return null;
        MemorySegment m = c.mem;
        long from = c.in(0).offset, to = c.out(0).offset, n = c.in(0).numel;
        if (from == to) return () -> { };
        return () -> Vec.copy(m, from, m, to, n);
    }

    private static Step transpose(EmitContext c) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), y = c.out(0);
        int r = x.rank();
        long[] perm = c.attrInts("perm");
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        }
        return permuted(c, x.shape, perm, y.shape);
    }

    /**
     * Y = X read as {@code view} (X's elements in their order) with its axes in the order {@code perm}; null unless
     * that gives exactly {@code expect} (Y's shape, or a finer view of it) or the copy's row table is too large.
     */
    private static Step permuted(EmitContext c, long[] view, long[] perm, long[] expect) {
        int r = view.length;
        if (perm.length != r || expect.length != r) return null;
        long[] st = StridedCopy.strides(view), strides = new long[r], counts = new long[r];
        for (int i = 0; i < r; i++) {
            if (perm[i] < 0 || perm[i] >= r) return null;
            strides[i] = st[(int) perm[i]];
            counts[i] = view[(int) perm[i]];
        }
        if (!Arrays.equals(counts, expect)) return null;
        StridedCopy sc = StridedCopy.of(counts, strides);
        if (sc == null) return null;
        MemorySegment m = c.mem;
        long xo = c.in(0).offset, yo = c.out(0).offset;
        return () -> sc.gather(m, xo, yo);
    }

    /**
     * DepthToSpace and SpaceToDepth (PixelShuffle and its inverse) as a transpose of a rank-6 view of X: DepthToSpace
     * DCR reads X [N, C, H, W] as [N, b, b, C', H, W] in the order [0, 3, 4, 1, 5, 2], CRD as [N, C', b, b, H, W] in the
     * order [0, 1, 4, 2, 5, 3], giving [N, C', H b, W b]; SpaceToDepth reads [N, C, H', b, W', b] in the order
     * [0, 3, 5, 1, 2, 4], giving [N, C b b, H', W'].
     */
    private static Step blocks(EmitContext c, boolean toSpace) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), y = c.out(0);
        long b = c.attrInt("blocksize");
        if (x.rank() != 4 || y.rank() != 4 || b < 1) return null;
        long n = x.dim(0), ch = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (toSpace) {
            long c2 = ch / (b * b), oh = y.dim(2), ow = y.dim(3);
            if (ch % (b * b) != 0 || y.dim(0) != n || y.dim(1) != c2 || oh != h * b || ow != w * b) return null;
            long[] expect = {n, c2, h, b, w, b};
            return c.attrString("mode").equals("CRD")
                    ? permuted(c, new long[] {n, c2, b, b, h, w}, new long[] {0, 1, 4, 2, 5, 3}, expect)
                    : permuted(c, new long[] {n, b, b, c2, h, w}, new long[] {0, 3, 4, 1, 5, 2}, expect);
        }
        if (h % b != 0 || w % b != 0 || y.dim(0) != n || y.dim(1) != ch * b * b || y.dim(2) != h / b
                || y.dim(3) != w / b) return null;
        return permuted(c, new long[] {n, ch, h / b, b, w / b, b}, new long[] {0, 3, 5, 1, 2, 4},
                new long[] {n, b, b, ch, h / b, w / b});
    }

    /** Slice(data, starts, ends[, axes[, steps]]) or SliceGrad(dy, shape, starts, ends[, axes[, steps]]). */
    private static Step slice(EmitContext c, boolean grad) {
        int first = grad ? 2 : 1;
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        long[] shape = grad ? c.out(0).shape : c.in(0).shape;
        long[] starts = c.constantLongs(first), ends = c.constantLongs(first + 1);
        long[] axesIn = c.has(first + 2) ? c.constantLongs(first + 2) : null;
        long[] steps = c.has(first + 3) ? c.constantLongs(first + 3) : null;
        if (starts == null || ends == null || c.has(first + 2) && axesIn == null || c.has(first + 3) && steps == null)
            return null;
        int n = starts.length;
        if (ends.length != n || axesIn != null && axesIn.length != n || steps != null && steps.length != n) return null;
        long[] st = StridedCopy.strides(shape), strides = st.clone(), counts = shape.clone();
        long offset = 0;
        try {
            int[] axes = axesIn == null ? null : ShapeMath.axes(axesIn, shape.length, c::error);
            for (int i = 0; i < n; i++) {
                int a = axes == null ? i : axes[i];
                if (a >= shape.length) return null;
                var s = ShapeMath.slice(shape[a], starts[i], ends[i], steps == null ? 1 : steps[i], c::error);
                counts[a] = s.count();
                strides[a] = st[a] * s.step();
                if (s.count() > 0) offset += s.start() * st[a];
            }
        } catch (RuntimeException e) {
            return null;
        }
        Slot dense = grad ? c.in(0) : c.out(0);
        long total = 1;
        for (long k : counts) total *= k;
        if (total != dense.numel) return null;
        StridedCopy sc = StridedCopy.of(counts, strides);
        if (sc == null) return null;
        MemorySegment m = c.mem;
        long in = c.in(0).offset, out = c.out(0).offset, base = offset, size = c.out(0).numel;
        if (!grad) return () -> sc.gather(m, in + base, out);
        return () -> {
            Vec.fill(m, out, size, 0f);
            sc.scatter(m, in, out + base);
        };
    }

    private static Step expand(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        long[] out = c.out(0).shape, in = c.in(0).shape;
        if (in.length > out.length) return null;
        long[] st = StridedCopy.strides(in), strides = new long[out.length];
        for (int d = 0; d < out.length; d++) {
            int k = d - (out.length - in.length);
            if (k < 0) continue;
            if (in[k] != out[d] && in[k] != 1) return null;
            strides[d] = in[k] == 1 ? 0 : st[k];
        }
        StridedCopy sc = StridedCopy.of(out, strides);
        if (sc == null) return null;
        MemorySegment m = c.mem;
        long xo = c.in(0).offset, yo = c.out(0).offset;
        return () -> sc.gather(m, xo, yo);
    }

    private static Step concat(EmitContext c) {
        if (!c.allArena()) return null;
        Slot y = c.out(0);
        int a = NormSteps.axis(c.attrInt("axis"), y.rank());
        if (a < 0) return null;
        long outer = NormSteps.prod(y.shape, 0, a), yRow = NormSteps.prod(y.shape, a, y.rank());
        int k = c.numInputs();
        long[] offs = new long[k], rows = new long[k];
        long sum = 0;
        for (int i = 0; i < k; i++) {
            Slot s = c.in(i);
            if (s == null || s.rank() != y.rank()) return null;
            offs[i] = s.offset;
            rows[i] = NormSteps.prod(s.shape, a, s.rank());
            sum += rows[i];
        }
        if (sum != yRow) return null;
        MemorySegment m = c.mem;
        long yo = y.offset;
        return () -> {
            long at = yo;
            for (long o = 0; o < outer; o++) {
                for (int i = 0; i < k; i++) {
                    Vec.copy(m, offs[i] + o * rows[i], m, at, rows[i]);
                    at += rows[i];
                }
            }
        };
    }

    /** Pad in constant mode with constant, non-negative pads: fill with the value, copy the input inside. */
    private static Step pad(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena() || !c.attrString("mode").equals("constant"))
            return null;
        Slot x = c.in(0), y = c.out(0);
        int r = x.rank();
        long[] pads = c.constantLongs(1);
        if (pads == null || c.has(3) && c.constantLongs(3) == null) return null;
        int[] axes;
        try {
            axes = c.has(3) ? ShapeMath.axes(c.constantLongs(3), r, c::error) : null;
        } catch (RuntimeException e) {
            return null;
        }
        int na = axes == null ? r : axes.length;
        if (pads.length != 2 * na) return null;
        long[] before = new long[r];
        for (int i = 0; i < na; i++) {
            if (pads[i] < 0 || pads[i + na] < 0) return null;
            before[axes == null ? i : axes[i]] = pads[i];
        }
        float value = 0f;
        if (c.has(2)) {
            Tensor v = c.constant(2);
            if (v == null || v.dtype() != DType.FLOAT32 || v.numel() != 1) return null;
            value = v.floats()[0];
        }
        long[] yst = StridedCopy.strides(y.shape);
        long base = 0;
        for (int k = 0; k < r; k++) base += before[k] * yst[k];
        StridedCopy sc = StridedCopy.of(x.shape, yst);
        if (sc == null) return null;
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset, size = y.numel, at = base;
        float fill = value;
        return () -> {
            Vec.fill(m, yo, size, fill);
            sc.scatter(m, xo, yo + at);
        };
    }

    /** Split along an axis: each output copies its band of every outer row (sizes from the outputs' shapes). */
    private static Step split(EmitContext c) {
        if (!c.arenaIn(0) || c.has(1) && c.constant(1) == null) return null;
        Slot x = c.in(0);
        int a = NormSteps.axis(c.attrInt("axis"), x.rank()), k = c.numOutputs();
        if (a < 0) return null;
        long outer = NormSteps.prod(x.shape, 0, a), row = NormSteps.prod(x.shape, a, x.rank());
        long[] offs = new long[k], widths = new long[k], starts = new long[k];
        long at = 0;
        for (int i = 0; i < k; i++) {
            Slot o = c.out(i);
            if (o == null || !o.inArena() || o.rank() != x.rank()) return null;
            offs[i] = o.offset;
            widths[i] = NormSteps.prod(o.shape, a, o.rank());
            starts[i] = at;
            at += widths[i];
        }
        if (at != row) return null;
        MemorySegment m = c.mem;
        long xo = x.offset;
        return () -> {
            for (long r = 0; r < outer; r++)
                for (int i = 0; i < k; i++)
                    Vec.copy(m, xo + r * row + starts[i], m, offs[i] + r * widths[i], widths[i]);
        };
    }

    /** The indices of a Gather: a constant, or a boxed int32/int64 tensor read at run time. */
    private interface Indices {
        Tensor get();
    }

    private static Indices indices(EmitContext c, int i) {
        Tensor k = c.constant(i);
        if (k != null) return k.dtype() == DType.INT64 || k.dtype() == DType.INT32 ? () -> k : null;
        Slot s = c.in(i);
        if (s == null || s.inArena() || s.shape == null) return null;
        if (s.dtype != DType.INT64 && s.dtype != DType.INT32) return null;
        Object[] boxes = c.boxes;
        int box = s.box;
        return () -> (Tensor) boxes[box];
    }

    private static Step gather(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot data = c.in(0);
        Indices idx = indices(c, 1);
        if (idx == null || data.rank() == 0) return null;
        int a = NormSteps.axis(c.attrInt("axis"), data.rank());
        if (a < 0) return null;
        long outer = NormSteps.prod(data.shape, 0, a), inner = NormSteps.prod(data.shape, a + 1, data.rank());
        long n = data.dim(a);
        long count = c.in(1).numel;
        if (count < 0 || outer * count * inner != c.out(0).numel) return null;
        MemorySegment m = c.mem;
        long xo = data.offset, yo = c.out(0).offset;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor t = idx.get();
            long at = yo;
            for (long o = 0; o < outer; o++) {
                for (int j = 0; j < count; j++) {
                    long k = t.getLong(j);
                    if (k < -n || k >= n) throw where.error("index " + k + " is out of range for an axis of size " + n);
                    Vec.copy(m, xo + (o * n + (k < 0 ? k + n : k)) * inner, m, at, inner);
                    at += inner;
                }
            }
        };
    }

    /**
     * GatherElements(data, indices; axis): {@code out[i] = data[i with its axis coordinate replaced by indices[i]]},
     * out shaped like indices (each of its sizes at most data's). Each element's offset in data without the axis term
     * is tabled when the plan is built ({@link #elementOffsets}); a run adds the index times the axis stride.
     */
    private static Step gatherElements(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot data = c.in(0), y = c.out(0);
        Indices idx = indices(c, 1);
        int a = idx == null ? -1 : NormSteps.axis(c.attrInt("axis"), data.rank());
        long[] base = a < 0 ? null : elementOffsets(data.shape, y.shape, a);
        if (base == null) return null;
        MemorySegment m = c.mem;
        long xo = data.offset, yo = y.offset, n = data.dim(a), stride = StridedCopy.strides(data.shape)[a];
        EmitContext.Where where = c.where();
        return () -> {
            Tensor t = idx.get();
            for (int j = 0; j < base.length; j++)
                Vec.set(m, yo + j, Vec.get(m, xo + base[j] + index(t, j, n, where) * stride));
        };
    }

    /**
     * ScatterElements(data, indices, updates; axis, reduction none, add or mul): a copy of data, then each update
     * written (or added, or multiplied) at its own position with its axis coordinate replaced by its index, in order.
     * GatherElements' gradient is one with add.
     */
    private static Step scatterElements(EmitContext c) {
        if (!c.arenaIn(0) || !c.arenaIn(2) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot data = c.in(0), updates = c.in(2), y = c.out(0);
        String reduction = c.attrString("reduction");
        Indices idx = indices(c, 1);
        int a = idx == null ? -1 : NormSteps.axis(c.attrInt("axis"), data.rank());
        long[] base = a < 0 || !List.of("none", "add", "mul").contains(reduction) || y.numel != data.numel
                || c.in(1).numel != updates.numel ? null : elementOffsets(data.shape, updates.shape, a);
        if (base == null) return null;
        MemorySegment m = c.mem;
        long xo = data.offset, uo = updates.offset, yo = y.offset, size = data.numel, n = data.dim(a);
        long stride = StridedCopy.strides(data.shape)[a];
        int op = reduction.equals("none") ? 0 : reduction.equals("add") ? 1 : 2;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor t = idx.get();
            if (xo != yo) Vec.copy(m, xo, m, yo, size);
            for (int j = 0; j < base.length; j++) {
                long at = yo + base[j] + index(t, j, n, where) * stride;
                float u = Vec.get(m, uo + j);
                Vec.set(m, at, op == 0 ? u : op == 1 ? Vec.get(m, at) + u : Vec.get(m, at) * u);
            }
        };
    }

    /**
     * For each element of a tensor of shape {@code like} (row-major), its offset in a tensor of shape {@code data}
     * at the same coordinates but 0 on axis {@code a}; null when {@code like} does not fit in {@code data} (same
     * rank, each size at most data's off the axis) or is too large to table.
     */
    private static long[] elementOffsets(long[] data, long[] like, int a) {
        int r = data.length;
        if (r == 0 || like.length != r) return null;
        long count = 1;
        for (int d = 0; d < r; d++) {
            if (d != a && like[d] > data[d]) return null;
            count *= like[d];
        }
        if (count > Integer.MAX_VALUE - 16) return null;
        long[] st = StridedCopy.strides(data), at = new long[r], base = new long[(int) count];
        for (int j = 0; j < base.length; j++) {
            long off = 0;
            for (int d = 0; d < r; d++) if (d != a) off += at[d] * st[d];
            base[j] = off;
            for (int d = r - 1; d >= 0 && ++at[d] == like[d]; d--) at[d] = 0;
        }
        return base;
    }

    /** Element {@code j} of {@code t} as an index into an axis of {@code n} (negative counts from the end). */
    private static long index(Tensor t, int j, long n, EmitContext.Where where) {
        long k = t.getLong(j);
        if (k < -n || k >= n) throw where.error("index " + k + " is out of range for an axis of size " + n);
        return k < 0 ? k + n : k;
    }

    /** GatherGrad(dy, shape, indices; axis): each gathered row's gradient added back at its index. */
    private static Step gatherGrad(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot dx = c.out(0);
        Indices idx = indices(c, 2);
        if (idx == null || dx.rank() == 0) return null;
        int a = NormSteps.axis(c.attrInt("axis"), dx.rank());
        if (a < 0) return null;
        long outer = NormSteps.prod(dx.shape, 0, a), inner = NormSteps.prod(dx.shape, a + 1, dx.rank()), n = dx.dim(a);
        long count = c.in(2).numel;
        if (count < 0 || outer * count * inner != c.in(0).numel) return null;
        MemorySegment m = c.mem;
        long dyo = c.in(0).offset, dxo = dx.offset, size = dx.numel;
        EmitContext.Where where = c.where();
        return () -> {
            Tensor t = idx.get();
            Vec.fill(m, dxo, size, 0f);
            long at = dyo;
            for (long o = 0; o < outer; o++) {
                for (int j = 0; j < count; j++) {
                    long k = t.getLong(j);
                    if (k < -n || k >= n) throw where.error("index " + k + " is out of range for an axis of size " + n);
                    long row = dxo + (o * n + (k < 0 ? k + n : k)) * inner;
                    BinaryMath.zip(m, BinaryMath.ADD, row, true, at, true, row, inner);
                    at += inner;
                }
            }
        };
    }
}
