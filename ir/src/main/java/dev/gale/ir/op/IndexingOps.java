package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: gathers, scatters and other ops that index with tensor values (OneHot, NonZero, Unique). */
final class IndexingOps {
    private IndexingOps() {}

    static void register() {
        define("Gather").inputs(2).outputs(1).attr("axis", 0L).category(INJECTIVE)
                .infer(IndexingOps::gather).register();
        define("GatherElements").inputs(2).outputs(1).attr("axis", 0L).category(INJECTIVE)
                .infer(IndexingOps::gatherElements).register();
        define("GatherND").inputs(2).outputs(1).attr("batch_dims", 0L).category(INJECTIVE)
                .infer(IndexingOps::gatherNd).register();
        define("Scatter").inputs(3).outputs(1).attr("axis", 0L).category(OPAQUE)
                .infer(c -> scatterElements(c, false)).register();
        define("ScatterElements").inputs(3).outputs(1).attr("axis", 0L).attr("reduction", "none").category(OPAQUE)
                .infer(c -> scatterElements(c, true)).register();
        define("ScatterND").inputs(3).outputs(1).attr("reduction", "none").category(OPAQUE)
                .infer(IndexingOps::scatterNd).register();
        define("Compress").inputs(2).outputs(1).optional("axis", Attr.Kind.INT).category(OPAQUE)
                .infer(IndexingOps::compress).register();
        define("ReverseSequence").inputs(2).outputs(1).attr("batch_axis", 1L).attr("time_axis", 0L)
                .category(INJECTIVE).infer(IndexingOps::reverseSequence).register();
        define("Unique").inputs(1).outputs(1, 4).optional("axis", Attr.Kind.INT).attr("sorted", 1L)
                .category(OPAQUE).infer(IndexingOps::unique).register();
        define("OneHot").inputs(3).outputs(1).attr("axis", -1L).category(INJECTIVE)
                .infer(IndexingOps::oneHot).register();
        define("NonZero").inputs(1).outputs(1).category(OPAQUE).infer(c -> {
            Shape s = c.shape(0);
            return List.of(Type.tensor(DType.INT64, Shape.of(s == null ? Dim.UNKNOWN : Dim.of(s.rank()), Dim.UNKNOWN)));
        }).register();
    }

    private static void checkIndices(InferContext c, int i) {
        DType t = c.dtype(i);
        if (t != DType.INT32 && t != DType.INT64) throw c.error("indices must be int32 or int64, are " + t);
    }

    private static List<Type> gather(InferContext c) {
        DType t = c.dtype(0);
        checkIndices(c, 1);
        Shape data = c.shape(0), idx = c.shape(1);
        if (data == null || idx == null) return List.of(Type.unranked(t));
        if (data.rank() == 0) throw c.error("data must have rank >= 1");
        int axis = Infer.axis(c.attrInt("axis"), data.rank(), c);
        List<Dim> out = new ArrayList<>(data.dims().subList(0, axis));
        out.addAll(idx.dims());
        out.addAll(data.dims().subList(axis + 1, data.rank()));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> gatherElements(InferContext c) {
        DType t = c.dtype(0);
        checkIndices(c, 1);
        Shape data = c.shape(0), idx = c.shape(1);
        if (data != null && idx != null) {
            if (data.rank() != idx.rank() || data.rank() == 0)
                throw c.error("data " + data + " and indices " + idx + " must have the same rank >= 1");
            Infer.axis(c.attrInt("axis"), data.rank(), c);
        }
        return List.of(Type.tensor(t, idx));
    }

    private static List<Type> gatherNd(InferContext c) {
        DType t = c.dtype(0);
        if (c.dtype(1) != DType.INT64) throw c.error("indices must be int64, are " + c.dtype(1));
        Shape data = c.shape(0), idx = c.shape(1);
        long b = c.attrInt("batch_dims");
        if (data == null || idx == null) return List.of(Type.unranked(t));
        int r = data.rank(), q = idx.rank();
        if (q < 1 || r < 1) throw c.error("data and indices must have rank >= 1");
        if (b < 0 || b >= Math.min(r, q)) throw c.error("batch_dims " + b + " must be less than both ranks");
        Dim last = idx.dim(q - 1);
        if (!last.isFixed()) return List.of(Type.unranked(t));
        long m = last.sizeOr(0);
        if (m < 1 || m > r - b) throw c.error("indices' last dimension " + m + " must be in [1, " + (r - b) + "]");
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < q - 1; i++) out.add(i < b ? ShapeOps.same(idx.dim(i), data.dim(i), c, "batch axis " + i) : idx.dim(i));
        out.addAll(data.dims().subList((int) (b + m), r));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static void checkReduction(InferContext c) {
        String r = c.attrString("reduction");
        if (!List.of("none", "add", "mul", "max", "min").contains(r))
            throw c.error("unknown reduction '" + r + "' (expected none, add, mul, max or min)");
    }

    private static List<Type> scatterElements(InferContext c, boolean reduction) {
        checkIndices(c, 1);
        if (reduction) checkReduction(c);
        Shape data = c.shape(0), idx = c.shape(1), upd = c.shape(2);
        if (c.dtype(2) != c.dtype(0)) throw c.error("updates must have the data's element type " + c.dtype(0));
        if (data != null && idx != null) {
            if (data.rank() != idx.rank() || data.rank() == 0)
                throw c.error("data " + data + " and indices " + idx + " must have the same rank >= 1");
            Infer.axis(c.attrInt("axis"), data.rank(), c);
        }
        if (idx != null && upd != null && !idx.equals(upd) && idx.isStatic() && upd.isStatic())
            throw c.error("updates " + upd + " must have the shape of indices " + idx);
        return List.of(c.inputType(0));
    }

    private static List<Type> scatterNd(InferContext c) {
        checkReduction(c);
        if (c.dtype(1) != DType.INT64) throw c.error("indices must be int64, are " + c.dtype(1));
        if (c.dtype(2) != c.dtype(0)) throw c.error("updates must have the data's element type " + c.dtype(0));
        Shape data = c.shape(0), idx = c.shape(1);
        if (data != null && idx != null) {
            if (idx.rank() < 1) throw c.error("indices must have rank >= 1");
            Dim m = idx.dim(idx.rank() - 1);
            if (m.isFixed() && m.sizeOr(0) > data.rank())
                throw c.error("indices' last dimension " + m + " exceeds the data rank " + data.rank());
        }
        return List.of(c.inputType(0));
    }

    private static List<Type> compress(InferContext c) {
        DType t = c.dtype(0);
        if (c.dtype(1) != DType.BOOL) throw c.error("condition must be bool, is " + c.dtype(1));
        Shape cond = c.shape(1);
        if (cond != null && cond.rank() != 1) throw c.error("condition must be 1-D, has shape " + cond);
        if (!c.hasAttr("axis")) return List.of(Type.tensor(t, Shape.of(Dim.UNKNOWN)));
        Shape in = c.shape(0);
        if (in == null) return List.of(Type.unranked(t));
        int axis = Infer.axis(c.attrInt("axis"), in.rank(), c);
        return List.of(Type.tensor(t, ShapeOps.unknownAt(in, new int[] {axis})));
    }

    private static List<Type> reverseSequence(InferContext c) {
        Shape in = c.shape(0);
        long b = c.attrInt("batch_axis"), tAxis = c.attrInt("time_axis");
        if (!(b == 0 && tAxis == 1 || b == 1 && tAxis == 0))
            throw c.error("batch_axis and time_axis must be 0 and 1 in some order, are " + b + " and " + tAxis);
        if (in != null && in.rank() < 2) throw c.error("input must have rank >= 2, has shape " + in);
        if (c.dtype(1) != DType.INT64) throw c.error("sequence_lens must be int64, is " + c.dtype(1));
        return List.of(c.inputType(0));
    }

    private static List<Type> unique(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        Type.TensorType idx = Type.tensor(DType.INT64, Shape.of(Dim.UNKNOWN));
        Type y;
        Type.TensorType inverse;
        if (!c.hasAttr("axis")) {
            y = Type.tensor(t, Shape.of(Dim.UNKNOWN));
            inverse = Type.tensor(DType.INT64, Shape.of(in == null ? Dim.UNKNOWN : ShapeOps.product(in.dims())));
        } else if (in == null) {
            y = Type.unranked(t);
            inverse = idx;
        } else {
            int axis = Infer.axis(c.attrInt("axis"), in.rank(), c);
            y = Type.tensor(t, ShapeOps.unknownAt(in, new int[] {axis}));
            inverse = Type.tensor(DType.INT64, Shape.of(in.dim(axis)));
        }
        return List.of(y, idx, inverse, idx).subList(0, c.numOutputs());
    }

    private static List<Type> oneHot(InferContext c) {
        checkNumeric(c, 0);
        checkNumeric(c, 1);
        DType t = c.dtype(2);
        Shape idx = c.shape(0), values = c.shape(2);
        if (values != null && values.isStatic() && values.numelOrMinus1() != 2)
            throw c.error("values must hold two elements [off, on], has shape " + values);
        if (idx == null) return List.of(Type.unranked(t));
        int r = idx.rank() + 1;
        long axis = c.attrInt("axis");
        int a = Infer.axis(axis, r, c);
        var depth = c.constant(1);
        Dim d = Dim.UNKNOWN;
        if (depth != null) {
            if (depth.numel() != 1) throw c.error("depth must hold one element, has " + depth.numel());
            long v = depth.dtype().isFloat() ? (long) depth.getDouble(0) : depth.getLong(0);
            if (v < 1) throw c.error("depth must be positive, is " + v);
            d = Dim.of(v);
        }
        List<Dim> out = new ArrayList<>(idx.dims());
        out.add(a, d);
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static void checkNumeric(InferContext c, int i) {
        if (!c.dtype(i).isNumeric()) throw c.error("input " + i + " must be numeric, is " + c.dtype(i));
    }
}
