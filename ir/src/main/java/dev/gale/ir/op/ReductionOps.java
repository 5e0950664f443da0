package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: reductions (Reduce*, ArgMax/ArgMin), scans and selections (CumSum, TopK), the softmax family
 * (along one axis, opset-13 meaning) and the ONNX loss ops.
 */
final class ReductionOps {
    private ReductionOps() {}

    private static final List<String> REDUCE_OPS = List.of("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
            "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare");

    static void register() {
        // Opset-18 form: the axes come as an optional int64 input (the importer moves older `axes` attributes).
        for (String op : REDUCE_OPS)
            define(op).inputs(1, 2).outputs(1).attr("keepdims", 1L).attr("noop_with_empty_axes", 0L)
                    .category(REDUCTION).infer(ReductionOps::inferReduce).register();
        for (String op : List.of("ArgMax", "ArgMin"))
            define(op).inputs(1).outputs(1).attr("axis", 0L).attr("keepdims", 1L).attr("select_last_index", 0L)
                    .category(REDUCTION).infer(ReductionOps::inferArgReduce).register();

        // Each output element depends on a prefix of its row: not a plain reduction, so never fused.
        define("CumSum").inputs(2).outputs(1).attr("exclusive", 0L).attr("reverse", 0L)
                .category(OPAQUE).infer(ReductionOps::inferCumSum).register();
        define("TopK").inputs(2).outputs(2).attr("axis", -1L).attr("largest", 1L).attr("sorted", 1L)
                .category(OPAQUE).infer(ReductionOps::inferTopK).register();

        // A reduction along the axis followed by an elementwise pass: an elementwise consumer can fuse after it.
        for (String op : List.of("Softmax", "LogSoftmax", "Hardmax"))
            define(op).inputs(1).outputs(1).attr("axis", -1L)
                    .category(OUT_ELEMENTWISE_FUSABLE).infer(ReductionOps::inferSoftmax).register();

        define("SoftmaxCrossEntropyLoss").inputs(2, 3).outputs(1, 2)
                .optional("ignore_index", Attr.Kind.INT).attr("reduction", "mean")
                .category(OPAQUE).infer(ReductionOps::inferLoss).register();
        define("NegativeLogLikelihoodLoss").inputs(2, 3).outputs(1)
                .optional("ignore_index", Attr.Kind.INT).attr("reduction", "mean")
                .category(OPAQUE).infer(ReductionOps::inferLoss).register();
    }

    private static DType numeric(InferContext c, int i) {
        DType t = c.dtype(i);
        if (!t.isNumeric()) throw c.error("input " + i + " must be a numeric tensor, got " + t);
        return t;
    }

    private static DType floating(InferContext c, int i) {
        DType t = c.dtype(i);
        if (!t.isFloat()) throw c.error("input " + i + " must be a floating-point tensor, got " + t);
        return t;
    }

    /** Checks an index operand is int32 or int64 (when its type is known at all). */
    private static void integer(InferContext c, int i, String what) {
        if (c.tensorInput(i) == null) return;
        DType t = c.dtype(i);
        if (t != DType.INT32 && t != DType.INT64) throw c.error(what + " must be int32 or int64, got " + t);
    }

    /** The shape with the masked axes set to 1 (keepdims) or dropped. */
    private static Shape reduced(Shape s, boolean[] mask, boolean keepdims) {
        List<Dim> dims = new ArrayList<>();
        for (int k = 0; k < s.rank(); k++) {
            if (!mask[k]) dims.add(s.dim(k));
            else if (keepdims) dims.add(Dim.of(1));
        }
        return new Shape(dims);
    }

    private static List<Type> inferReduce(InferContext c) {
        DType t = numeric(c, 0);
        Shape s = c.shape(0);
        boolean keepdims = c.attrInt("keepdims") != 0;
        boolean noop = c.attrInt("noop_with_empty_axes") != 0;
        long[] axes = new long[0];
        if (c.hasInput(1)) {
            if (c.tensorInput(1) != null && c.dtype(1) != DType.INT64)
                throw c.error("axes must be an int64 tensor, got " + c.dtype(1));
            Tensor a = c.constant(1);
            if (a == null) {
                // Which axes go is known only at run time; with keepdims the rank survives, and so do size-1 dims.
                if (s == null || !keepdims) return List.of(Type.unranked(t));
                List<Dim> dims = new ArrayList<>();
                for (Dim d : s.dims()) dims.add(d.equals(Dim.of(1)) ? d : Dim.UNKNOWN);
                return List.of(Type.tensor(t, new Shape(dims)));
            }
            if (a.rank() > 1) throw c.error("axes must be a 1-D tensor, got rank " + a.rank());
            axes = a.toLongArray();
        }
        // Reducing every axis without keepdims leaves a scalar, whatever the input's rank.
        if (s == null)
            return List.of(axes.length == 0 && !noop && !keepdims ? Type.tensor(t, Shape.SCALAR) : Type.unranked(t));
        if (axes.length == 0 && noop) return List.of(Type.tensor(t, s));
        boolean[] mask = new boolean[s.rank()];
        if (axes.length == 0) Arrays.fill(mask, true);
        for (long a : axes) {
            int k = Infer.axis(a, s.rank(), c);
            if (mask[k]) throw c.error("axis " + a + " appears twice in axes");
            mask[k] = true;
        }
        return List.of(Type.tensor(t, reduced(s, mask, keepdims)));
    }

    private static List<Type> inferArgReduce(InferContext c) {
        numeric(c, 0);
        Shape s = c.shape(0);
        if (s == null) return List.of(Type.unranked(DType.INT64));
        boolean[] mask = new boolean[s.rank()];
        mask[Infer.axis(c.attrInt("axis"), s.rank(), c)] = true;
        return List.of(Type.tensor(DType.INT64, reduced(s, mask, c.attrInt("keepdims") != 0)));
    }

    private static List<Type> inferCumSum(InferContext c) {
        numeric(c, 0);
        integer(c, 1, "axis");
        Shape s = c.shape(0), as = c.shape(1);
        if (as != null && as.rank() > 1) throw c.error("axis must be a scalar or a 1-element 1-D tensor");
        Tensor axis = c.constant(1);
        if (s != null && axis != null) {
            if (axis.numel() != 1) throw c.error("axis must hold exactly one value, has " + axis.numel());
            Infer.axis(axis.getLong(0), s.rank(), c);
        }
        return List.of(c.inputType(0));
    }

    private static List<Type> inferTopK(InferContext c) {
        DType t = numeric(c, 0);
        if (c.tensorInput(1) != null && c.dtype(1) != DType.INT64) throw c.error("K must be an int64 tensor, got " + c.dtype(1));
        Shape s = c.shape(0);
        if (s == null) return List.of(Type.unranked(t), Type.unranked(DType.INT64));
        int axis = Infer.axis(c.attrInt("axis"), s.rank(), c);
        Dim kd = Dim.UNKNOWN;
        Tensor k = c.constant(1);
        if (k != null) {
            if (k.numel() != 1) throw c.error("K must hold exactly one value, has " + k.numel());
            long kv = k.getLong(0);
            long len = s.dim(axis).sizeOr(-1);
            if (kv < 0 || len >= 0 && kv > len)
                throw c.error("K = " + kv + " is out of range for axis " + axis + " of size " + s.dim(axis));
            kd = Dim.of(kv);
        }
        List<Dim> dims = new ArrayList<>(s.dims());
        dims.set(axis, kd);
        Shape out = new Shape(dims);
        return List.of(Type.tensor(t, out), Type.tensor(DType.INT64, out));
    }

    private static List<Type> inferSoftmax(InferContext c) {
        floating(c, 0);
        Shape s = c.shape(0);
        if (s != null) Infer.axis(c.attrInt("axis"), s.rank(), c);
        return List.of(c.inputType(0));
    }

    /**
     * Both losses read scores {@code (N, C, d1..dk)} and targets {@code (N, d1..dk)}; the loss has the target's
     * shape with reduction "none", else it is a scalar. SoftmaxCrossEntropyLoss's optional log_prob has the scores'
     * type.
     */
    private static List<Type> inferLoss(InferContext c) {
        DType t = floating(c, 0);
        integer(c, 1, "the target");
        if (c.hasInput(2) && c.tensorInput(2) != null && c.dtype(2) != t)
            throw c.error("the weight must have the scores' element type " + t + ", got " + c.dtype(2));
        Shape s = c.shape(0), ts = c.shape(1);
        if (s != null && s.rank() < 2) throw c.error("the scores need shape (N, C, ...), got " + s);
        if (s != null && ts != null && ts.rank() != s.rank() - 1)
            throw c.error("the target must have rank " + (s.rank() - 1) + " for scores of shape " + s
                    + ", got shape " + ts);
        String reduction = c.attrString("reduction");
        Type loss = switch (reduction) {
            case "mean", "sum" -> Type.tensor(t, Shape.SCALAR);
            case "none" -> Type.tensor(t, lossShape(s, ts));
            default -> throw c.error("reduction must be 'none', 'sum' or 'mean', got '" + reduction + "'");
        };
        return c.numOutputs() > 1 ? List.of(loss, c.inputType(0)) : List.of(loss);
    }

    /** The scores' shape without the class axis, each dimension refined by the target's where that is fixed. */
    private static Shape lossShape(Shape scores, Shape target) {
        if (scores == null) return target;
        List<Dim> dims = new ArrayList<>();
        for (int k = 0; k < scores.rank(); k++) {
            if (k == 1) continue;
            Dim d = scores.dim(k);
            if (!d.isFixed() && target != null) {
                Dim td = target.dim(k == 0 ? 0 : k - 1);
                if (td.isFixed() || d instanceof Dim.Unknown) d = td;
            }
            dims.add(d);
        }
        return new Shape(dims);
    }
}
