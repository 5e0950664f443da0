package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.Gradients.rule;

/**
 * Gradient rules: shape manipulation and indexing. Each rule reads as forward / backward.
 *
 * <p>These ops only move, copy or select elements, so each gradient moves dy back: a reshape of it, its inverse
 * permutation, its pieces, or a scatter of it into zeros of x's shape (gale {@code SliceGrad}, {@code GatherGrad},
 * {@code PadGrad}, or ONNX scatters with {@code reduction = add} where an element may be read twice). Shapes, axes,
 * indices, repeats and pads are integer inputs and never get gradients. Nothing assumes static shapes: a shape the
 * types do not pin down comes from a Shape node at run time ({@link GradContext#shapeOf}, {@link #dimsOf}).
 */
final class ShapeGradients {
    private ShapeGradients() {}

    private static final Map<String, Attr> NONE = Map.of();

    static void attach() {
        // y = reshape(x, s) (Flatten, Squeeze, Unsqueeze alike)  /  dx = reshape(dy, shape(x)); s, axes: none
        for (String op : List.of("Reshape", "Flatten", "Squeeze", "Unsqueeze"))
            rule(op, c -> list(reshapeLike(c, c.dOut(0), c.in(0)), null));
        // y = transpose(x, p)  /  dx = transpose(dy, p^-1) (the default reversal is its own inverse)
        rule("Transpose", c -> {
            long[] p = c.attrInts("perm");
            if (p == null) return list(c.op("Transpose", NONE, c.dOut(0)));
            long[] inv = new long[p.length];
            for (int k = 0; k < p.length; k++) inv[(int) p[k]] = k;
            return list(c.op("Transpose", Map.of("perm", Attr.of(inv)), c.dOut(0)));
        });
        // y = concat(x_0, ..., x_n-1; axis)  /  (dx_0, ..., dx_n-1) = split(dy, [size_i along axis]; axis)
        rule("Concat", ShapeGradients::concat);
        // (y_0, ..., y_n-1) = split(x, sizes; axis)  /  dx = concat(dy_i, or zeros shaped like y_i; axis)
        rule("Split", c -> {
            int n = c.node().outputs().size();
            Value[] parts = new Value[n];
            for (int i = 0; i < n; i++) parts[i] = c.dOut(i) != null ? c.dOut(i) : c.zerosLike(c.out(i));
            return list(n == 1 ? parts[0] : c.op("Concat", Map.of("axis", Attr.of(c.attrInt("axis"))), parts), null);
        });
        // y = x[starts:ends:steps on axes]  /  dx = zeros like x with dy written back where the slice read
        rule("Slice", c -> list(c.gale("SliceGrad", NONE, present(c.dOut(0), c.shapeOf(c.in(0)), c.in(1), c.in(2),
                c.node().input(3), c.node().input(4))), null, null, null, null));
        // y = resize(x; roi, scales or sizes)  /  dx = ResizeGrad(dy, x's shape, roi, scales, sizes): each output's
        // gradient spread back over the inputs it interpolated, by the same weights (extrapolated outputs: none)
        rule("Resize", c -> list(c.gale("ResizeGrad", c.node().attrs(), present(c.dOut(0), c.shapeOf(c.in(0)),
                c.node().input(1), c.node().input(2), c.node().input(3))), null, null, null));
        // y = gather(data, i; axis)  /  ddata = zeros like data with dy's slices added at rows i (duplicates sum)
        rule("Gather", c -> list(c.gale("GatherGrad", Map.of("axis", Attr.of(c.attrInt("axis"))), c.dOut(0),
                c.shapeOf(c.in(0)), c.in(1)), null));
        // y = gather_elements(data, i; axis)  /  ddata = scatter_elements(zeros like data, i, dy; axis, add)
        rule("GatherElements", c -> list(c.op("ScatterElements", Map.of("axis", Attr.of(c.attrInt("axis")),
                "reduction", Attr.of("add")), c.zerosLike(c.in(0)), c.in(1), c.dOut(0)), null));
        // y = gather_nd(data, i)  /  ddata = scatter_nd(zeros like data, i, dy; add) (batch_dims 0 only)
        rule("GatherND", c -> {
            if (c.attrInt("batch_dims") != 0)
                throw c.error("GatherND with batch_dims " + c.attrInt("batch_dims") + " has no gradient rule yet;"
                        + " only batch_dims = 0 is supported");
            return list(c.op("ScatterND", Map.of("reduction", Attr.of("add")), c.zerosLike(c.in(0)), c.in(1),
                    c.dOut(0)), null);
        });
        // y = data with y[i] = u (reduction none) or += u (add)
        //   /  ddata = dy with zeros at i (none) or dy (add); du = gather(dy, i), as torch's scatter and scatter_add
        rule("ScatterElements", c -> scatter(c, false));
        rule("Scatter", c -> scatter(c, false));
        rule("ScatterND", c -> scatter(c, true));
        // y = expand(x, s)  /  dx = dy summed over the broadcast axes
        rule("Expand", c -> list(c.sumToShapeOf(c.dOut(0), c.in(0)), null));
        // y = tile(x, r)  /  dx = sum over the tiles: reshape dy to [r_0, d_0, r_1, d_1, ...], sum axes 0, 2, ...
        rule("Tile", ShapeGradients::tile);
        // y = pad(x, pads, v; mode)  /  constant: dx = pad(dy, -pads) (crops what was padded, zero-fills what was
        //   cropped), dv = sum(dy) - sum(dx); other modes: gale PadGrad sums dy over every output that read x
        rule("Pad", ShapeGradients::pad);
        // y = depth_to_space(x, b; DCR)  /  dx = space_to_depth(dy, b); CRD: the inverse reshape-transpose-reshape
        rule("DepthToSpace", ShapeGradients::depthToSpace);
        // y = space_to_depth(x, b)  /  dx = depth_to_space(dy, b; DCR)
        rule("SpaceToDepth", c -> list(c.op("DepthToSpace", Map.of("blocksize", Attr.of(c.attrInt("blocksize")),
                "mode", Attr.of("DCR")), c.dOut(0))));
        // y = trilu(x, k; upper)  /  dx = trilu(dy, k; upper) (the same mask)
        rule("Trilu", c -> list(c.op("Trilu", Map.of("upper", Attr.of(c.attrInt("upper"))),
                present(c.dOut(0), c.node().input(1))), null));
        // y = reverse_sequence(x, lens)  /  dx = reverse_sequence(dy, lens) (it is its own inverse)
        rule("ReverseSequence", c -> list(c.op("ReverseSequence", Map.of("batch_axis", Attr.of(c.attrInt("batch_axis")),
                "time_axis", Attr.of(c.attrInt("time_axis"))), c.dOut(0), c.in(1)), null));
        // y = center_crop_pad(x, s; axes)  /  dx = center_crop_pad(dy, x's sizes on axes; axes): same offsets back
        rule("CenterCropPad", c -> {
            long[] axes = c.attrInts("axes");
            Map<String, Attr> attrs = axes == null ? NONE : Map.of("axes", Attr.of(axes));
            Value sizes = axes == null ? c.shapeOf(c.in(0)) : dimsOf(c, c.in(0), axes);
            return list(c.op("CenterCropPad", attrs, c.dOut(0), sizes), null);
        });
        // y = compress(x, cond; axis) = gather(x, nonzero(cond); axis), flattened first without an axis
        //   /  dx = GatherGrad(dy, shape(x), nonzero(cond); axis)
        rule("Compress", ShapeGradients::compress);
        // y = eye_like(x): y does not depend on x's values
        rule("EyeLike", c -> list((Value) null));
    }

    static List<Value> list(Value... v) { return Arrays.asList(v); }

    /** The inputs up to the last present one (a trailing optional input stays omitted). */
    private static Value[] present(Value... in) {
        int n = in.length;
        while (n > 0 && (in[n - 1] == null || in[n - 1].isNone())) n--;
        return Arrays.copyOf(in, n);
    }

    /** v's sizes along {@code axes} (negative counts from the end): a constant when known, else gathered at run time. */
    static Value dimsOf(GradContext c, Value v, long... axes) {
        Shape s = c.typeOf(v).shape();
        if (s != null) {
            long[] d = new long[axes.length];
            boolean known = true;
            for (int i = 0; i < axes.length && known; i++) {
                long a = axes[i] < 0 ? axes[i] + s.rank() : axes[i];
                if (a < 0 || a >= s.rank()) throw c.error("axis " + axes[i] + " is out of range for shape " + s);
                Dim dim = s.dim((int) a);
                known = dim.isFixed();
                d[i] = dim.sizeOr(0);
            }
            if (known) return c.constant(Tensor.vector(d));
        }
        return c.op("Gather", NONE, c.op("Shape", NONE, v), c.constant(Tensor.vector(axes)));
    }

    /** g reshaped to x's shape (g unchanged when both are the same static shape). */
    static Value reshapeLike(GradContext c, Value g, Value x) {
        Shape gs = c.typeOf(g).shape(), xs = c.typeOf(x).shape();
        if (gs != null && xs != null && xs.isStatic() && gs.equals(xs)) return g;
        return c.op("Reshape", Map.of("allowzero", Attr.of(1L)), g, c.shapeOf(x));
    }

    /** An int64 vector from pieces: a {@code Long} is a known entry, a {@code Value} a 1-D int64 computed one. */
    private static Value vector(GradContext c, List<Object> pieces) {
        List<Value> parts = new ArrayList<>();
        List<Long> run = new ArrayList<>();
        for (Object p : pieces) {
            if (p instanceof Long l) {
                run.add(l);
                continue;
            }
            if (!run.isEmpty()) parts.add(c.constant(Tensor.vector(run.stream().mapToLong(Long::longValue).toArray())));
            run.clear();
            parts.add((Value) p);
        }
        if (!run.isEmpty()) parts.add(c.constant(Tensor.vector(run.stream().mapToLong(Long::longValue).toArray())));
        return parts.size() == 1 ? parts.get(0) : c.op("Concat", Map.of("axis", Attr.of(0L)), parts.toArray(Value[]::new));
    }

    /** x's size along {@code axis} as a {@code Long} when fixed, else a 1-element vector gathered from its shape. */
    private static Object dim(GradContext c, Value x, int axis) {
        Shape s = c.typeOf(x).shape();
        if (s != null && s.dim(axis).isFixed()) return s.dim(axis).sizeOr(0);
        return dimsOf(c, x, axis);
    }

    private static List<Value> concat(GradContext c) {
        int n = c.node().inputs().size();
        if (n == 1) return list(c.dOut(0));
        long axis = c.attrInt("axis");
        List<Object> sizes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Shape s = c.typeOf(c.in(i)).shape();
            if (s != null) sizes.add(dim(c, c.in(i), Math.toIntExact(axis < 0 ? axis + s.rank() : axis)));
            else sizes.add(dimsOf(c, c.in(i), axis));
        }
        List<Value> parts = c.ops("", "Split", Map.of("axis", Attr.of(axis)), n, c.dOut(0), vector(c, sizes));
        List<Value> dx = new ArrayList<>(parts);
        for (int i = 0; i < n; i++) if (!c.needs(i)) dx.set(i, null);
        return dx;
    }

    /**
     * Scatter rules, {@code nd} for ScatterND. reduction none: the scattered positions of data were overwritten, so
     * their gradient is 0, and u gets dy at its targets; add: data passes dy through. mul/max/min have no rule.
     */
    private static List<Value> scatter(GradContext c, boolean nd) {
        String reduction = c.attr("reduction") == null ? "none" : c.attrString("reduction");
        Map<String, Attr> axis = nd ? NONE : Map.of("axis", Attr.of(c.attrInt("axis")));
        Value dy = c.dOut(0), idx = c.in(1);
        Value ddata = null, du = null;
        if (c.needs(0)) {
            ddata = switch (reduction) {
                case "none" -> c.op(nd ? "ScatterND" : "ScatterElements", axis, dy, idx, c.zerosLike(c.in(2)));
                case "add" -> dy;
                default -> throw c.error("no gradient rule for reduction '" + reduction
                        + "' (only none and add are differentiable here)");
            };
        }
        if (c.needs(2)) {
            if (!reduction.equals("none") && !reduction.equals("add"))
                throw c.error("no gradient rule for reduction '" + reduction + "' (only none and add)");
            du = c.op(nd ? "GatherND" : "GatherElements", axis, dy, idx);
        }
        return list(ddata, null, du);
    }

    private static List<Value> tile(GradContext c) {
        Value x = c.in(0), dy = c.dOut(0);
        Shape xs = c.typeOf(x).shape(), ys = c.typeOf(c.out(0)).shape();
        if (xs == null) throw c.error("the input's rank is unknown; Tile's gradient needs it");
        int r = xs.rank();
        if (r == 0) return list(dy, null);
        Value spec;
        if (xs.isStatic() && ys != null && ys.isStatic()) {
            long[] s = new long[2 * r];
            for (int k = 0; k < r; k++) {
                long d = xs.dim(k).sizeOr(0);
                s[2 * k] = d == 0 ? 1 : ys.dim(k).sizeOr(0) / d;
                s[2 * k + 1] = d;
            }
            spec = c.constant(Tensor.vector(s));
        } else {
            // [r_0, d_0, r_1, d_1, ...] = reshape(concat([repeats, shape(x)] as columns; 1), [-1])
            Value col = c.constant(Tensor.vector(1));
            Value pairs = c.op("Concat", Map.of("axis", Attr.of(1L)), c.op("Unsqueeze", NONE, c.in(1), col),
                    c.op("Unsqueeze", NONE, c.shapeOf(x), col));
            spec = c.op("Reshape", NONE, pairs, c.constant(Tensor.vector(-1)));
        }
        long[] even = new long[r];
        for (int k = 0; k < r; k++) even[k] = 2L * k;
        Value grouped = c.op("Reshape", NONE, dy, spec);
        return list(c.op("ReduceSum", Map.of("keepdims", Attr.of(0L)), grouped, c.constant(Tensor.vector(even))), null);
    }

    private static List<Value> pad(GradContext c) {
        String mode = c.attrString("mode");
        Value dy = c.dOut(0), x = c.in(0), pads = c.in(1), axes = c.node().input(3);
        Value dx;
        if (mode.equals("constant")) {
            dx = c.op("Pad", NONE, present(dy, c.op("Neg", NONE, pads), Value.NONE, axes));
        } else {
            dx = c.gale("PadGrad", Map.of("mode", Attr.of(mode)), present(dy, c.shapeOf(x), pads, axes));
        }
        Value dv = null;
        if (mode.equals("constant") && c.needs(2)) {
            Map<String, Attr> all = Map.of("keepdims", Attr.of(0L));
            Value padded = c.op("Sub", NONE, c.op("ReduceSum", all, dy), c.op("ReduceSum", all, dx));
            dv = reshapeLike(c, padded, c.in(2));
        }
        return list(c.needs(0) ? dx : null, null, dv, null);
    }

    private static List<Value> depthToSpace(GradContext c) {
        long b = c.attrInt("blocksize");
        Value dy = c.dOut(0), x = c.in(0);
        if (c.attrString("mode").equals("DCR"))
            return list(c.op("SpaceToDepth", Map.of("blocksize", Attr.of(b)), dy));
        // CRD: y = reshape(transpose(reshape(x, [N, C', b, b, H, W]), [0, 1, 4, 2, 5, 3]), [N, C', H b, W b])
        Shape xs = c.typeOf(x).shape();
        if (xs == null || xs.rank() != 4) throw c.error("the input must have a known rank 4");
        List<Object> split = new ArrayList<>(List.of(0L, 0L, dim(c, x, 2), b, dim(c, x, 3), b));
        Value t = c.op("Reshape", NONE, dy, vector(c, split));
        t = c.op("Transpose", Map.of("perm", Attr.of(0L, 1L, 3L, 5L, 2L, 4L)), t);
        return list(reshapeLike(c, t, x));
    }

    private static List<Value> compress(GradContext c) {
        Value x = c.in(0), dy = c.dOut(0);
        Value idx = c.op("Squeeze", NONE, c.op("NonZero", NONE, c.in(1)), c.constant(Tensor.vector(0)));
        if (c.attr("axis") != null)
            return list(c.gale("GatherGrad", Map.of("axis", Attr.of(c.attrInt("axis"))), dy, c.shapeOf(x), idx), null);
        Shape xs = c.typeOf(x).shape();
        Value flat = xs != null && xs.isStatic() ? c.constant(Tensor.vector(xs.numelOrMinus1()))
                : c.op("Reshape", NONE, c.op("Size", NONE, x), c.constant(Tensor.vector(1)));
        Value g = c.gale("GatherGrad", Map.of("axis", Attr.of(0L)), dy, flat, idx);
        return list(reshapeLike(c, g, x), null);
    }

    /**
     * Type inference of the gale backward helpers (SliceGrad, GatherGrad, PadGrad, ResizeGrad): dy's element type and the shape
     * held by input 1; {@code indices} is GatherGrad's indices input (or -1).
     */
    static List<Type> inferBack(InferContext c, int indices) {
        DType t = c.dtype(0);
        if (!t.isFloat()) throw c.error("the incoming gradient must be floating-point, is " + t);
        if (c.dtype(1) != DType.INT64) throw c.error("shape must be int64, is " + c.dtype(1));
        Shape out = GaleOps.shapeFromConstant(c, 1);
        if (indices >= 0) {
            DType it = c.dtype(indices);
            if (it != DType.INT32 && it != DType.INT64) throw c.error("indices must be int32 or int64, are " + it);
            Shape dy = c.shape(0), idx = c.shape(indices);
            if (out != null) {
                if (out.rank() == 0) throw c.error("data must have rank >= 1");
                Infer.axis(c.attrInt("axis"), out.rank(), c);
                if (dy != null && idx != null && dy.rank() != out.rank() - 1 + idx.rank())
                    throw c.error("gradient " + dy + " does not match data of rank " + out.rank() + " gathered by "
                            + "indices " + idx);
            }
        }
        if (c.node().op().equals("PadGrad") && !List.of("constant", "reflect", "edge", "wrap").contains(c.attrString("mode")))
            throw c.error("unknown mode '" + c.attrString("mode") + "' (expected constant, reflect, edge or wrap)");
        return List.of(Type.tensor(t, out));
    }
}
