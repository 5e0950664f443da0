package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: sequences of tensors (Sequence*, SplitToSequence, ConcatFromSequence) and optionals. */
final class SequenceOps {
    private SequenceOps() {}

    static void register() {
        define("SequenceEmpty").inputs(0).outputs(1).category(OPAQUE).optional("dtype", Attr.Kind.INT)
                .infer(c -> List.of(new Type.SequenceType(Type.unranked(
                        c.hasAttr("dtype") ? DType.fromOnnx((int) c.attrInt("dtype")) : DType.FLOAT32))))
                .register();
        define("SequenceConstruct").inputs(1, OpSchema.VARIADIC).outputs(1).category(OPAQUE)
                .infer(SequenceOps::inferConstruct).register();
        define("SequenceInsert").inputs(2, 3).outputs(1).category(OPAQUE).infer(SequenceOps::inferInsert).register();
        define("SequenceAt").inputs(2).outputs(1).category(OPAQUE).infer(c -> {
            checkPosition(c, 1);
            return singleton(NestedGraphs.sequenceElement(c, 0));
        }).register();
        define("SequenceErase").inputs(1, 2).outputs(1).category(OPAQUE).infer(c -> {
            NestedGraphs.sequenceElement(c, 0);
            checkPosition(c, 1);
            return singleton(c.inputType(0));
        }).register();
        define("SequenceLength").inputs(1).outputs(1).category(OPAQUE).infer(c -> {
            NestedGraphs.sequenceElement(c, 0);
            return List.of(Type.tensor(DType.INT64));
        }).register();
        define("SplitToSequence").inputs(1, 2).outputs(1).category(OPAQUE).attr("axis", 0L).attr("keepdims", 1L)
                .infer(SequenceOps::inferSplitToSequence).register();
        define("ConcatFromSequence").inputs(1).outputs(1).category(OPAQUE).required("axis", Attr.Kind.INT)
                .attr("new_axis", 0L).infer(SequenceOps::inferConcatFromSequence).register();
        define("SequenceMap").inputs(1, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC).category(OPAQUE)
                .required("body", Attr.Kind.GRAPH).infer(SequenceOps::inferSequenceMap).register();

        define("Optional").inputs(0, 1).outputs(1).category(OPAQUE).optional("type", Attr.Kind.TYPE)
                .infer(SequenceOps::inferOptional).register();
        define("OptionalGetElement").inputs(1).outputs(1).category(OPAQUE)
                .infer(c -> singleton(c.inputType(0) instanceof Type.OptionalType o ? o.element() : c.inputType(0)))
                .register();
        // Since opset 18 the input may be omitted (an empty optional) or be a plain tensor or sequence.
        define("OptionalHasElement").inputs(0, 1).outputs(1).category(OPAQUE)
                .infer(c -> List.of(Type.tensor(DType.BOOL))).register();
    }

    private static List<Type> singleton(Type t) {
        List<Type> r = new ArrayList<>(1);
        r.add(t);
        return r;
    }

    private static List<Type> inferConstruct(InferContext c) {
        Type element = c.inputType(0);
        for (int i = 0; i < c.numInputs(); i++) {
            if (c.inputType(i) != null && !(c.inputType(i) instanceof Type.TensorType))
                throw c.error("input " + i + " must be a tensor, got " + c.inputType(i));
            element = i == 0 ? element : NestedGraphs.join(element, c.inputType(i), c);
        }
        return singleton(element == null ? null : new Type.SequenceType(element));
    }

    private static List<Type> inferInsert(InferContext c) {
        Type element = NestedGraphs.sequenceElement(c, 0);
        Type t = c.inputType(1);
        if (t != null && !(t instanceof Type.TensorType)) throw c.error("input 1 must be a tensor, got " + t);
        checkPosition(c, 2);
        // An empty sequence's element type has no shape, so the sequence's element type is the join of both.
        if (element instanceof Type.TensorType e && t instanceof Type.TensorType tt && e.dtype() != tt.dtype())
            throw c.error("cannot insert a " + tt.dtype() + " tensor into a sequence of " + e.dtype());
        if (element == null || t == null) return singleton(c.inputType(0));
        return List.of(new Type.SequenceType(NestedGraphs.join(element, t, c)));
    }

    /** A position input must be an int32 or int64 scalar (ONNX Runtime also takes a one-element tensor). */
    private static void checkPosition(InferContext c, int i) {
        Type.TensorType t = c.tensorInput(i);
        if (t == null) return;
        if (t.dtype() != DType.INT64 && t.dtype() != DType.INT32)
            throw c.error("position must be int32 or int64, got " + t.dtype());
        if (t.shape() != null && t.shape().numelOrMinus1() > 1)
            throw c.error("position must be a scalar, has shape " + t.shape());
    }

    /**
     * SplitToSequence: without {@code split}, pieces of length 1 along the axis (squeezed when keepdims=0);
     * with it, pieces whose lengths come from {@code split}, so the axis length is known only if they are all equal.
     */
    private static List<Type> inferSplitToSequence(InferContext c) {
        DType dtype = c.dtype(0);
        Shape s = c.shape(0);
        if (s == null) return List.of(new Type.SequenceType(Type.unranked(dtype)));
        int axis = Infer.axis(c.attrInt("axis"), s.rank(), c);
        List<Dim> dims = new ArrayList<>(s.dims());
        if (!c.hasInput(1)) {
            if (c.attrInt("keepdims") == 0) dims.remove(axis);
            else dims.set(axis, Dim.of(1));
            return List.of(new Type.SequenceType(Type.tensor(dtype, new Shape(dims))));
        }
        Type.TensorType split = c.tensorInput(1);
        if (split != null && split.dtype() != DType.INT64 && split.dtype() != DType.INT32)
            throw c.error("split must be int32 or int64, got " + split.dtype());
        if (split != null && split.shape() != null && split.shape().rank() > 1)
            throw c.error("split must be a scalar or a 1-D tensor, has shape " + split.shape());
        Tensor k = c.constant(1);
        dims.set(axis, Dim.UNKNOWN);
        if (k != null && k.numel() > 0) {
            long first = k.getLong(0);
            boolean equal = true;
            for (int i = 0; i < k.numel(); i++) {
                if (k.getLong(i) < 0) throw c.error("split entries must not be negative, got " + k.getLong(i));
                equal &= k.getLong(i) == first;
            }
            Dim len = s.dim(axis);
            // A scalar split leaves a shorter last piece unless it divides the axis length.
            if (k.rank() == 0) equal = len.isFixed() && first > 0 && len.sizeOr(0) % first == 0;
            if (equal) dims.set(axis, Dim.of(first));
        }
        return List.of(new Type.SequenceType(Type.tensor(dtype, new Shape(dims))));
    }

    /** ConcatFromSequence: like Concat (or Stack when new_axis=1) over a sequence whose length is not known. */
    private static List<Type> inferConcatFromSequence(InferContext c) {
        Type element = NestedGraphs.sequenceElement(c, 0);
        if (element == null) return singleton(null);
        if (!(element instanceof Type.TensorType t)) throw c.error("the sequence elements must be tensors");
        if (t.shape() == null) return List.of(Type.unranked(t.dtype()));
        boolean newAxis = c.attrInt("new_axis") != 0;
        int rank = t.shape().rank() + (newAxis ? 1 : 0);
        if (rank == 0) throw c.error("cannot concatenate scalars without new_axis=1");
        int axis = Infer.axis(c.attrInt("axis"), rank, c);
        List<Dim> dims = new ArrayList<>(t.shape().dims());
        if (newAxis) dims.add(axis, Dim.UNKNOWN);
        else dims.set(axis, Dim.UNKNOWN);
        return List.of(Type.tensor(t.dtype(), new Shape(dims)));
    }

    /** SequenceMap: the body sees one element of each sequence input (and tensor inputs whole) per iteration. */
    private static List<Type> inferSequenceMap(InferContext c) {
        Graph body = c.attrGraph("body");
        if (body.inputs().size() != c.numInputs())
            throw c.error("the body has " + body.inputs().size() + " inputs, the node " + c.numInputs());
        if (body.outputs().size() != c.numOutputs())
            throw c.error("the body has " + body.outputs().size() + " outputs, the node " + c.numOutputs());
        NestedGraphs.sequenceElement(c, 0);
        List<Type> in = new ArrayList<>();
        for (int i = 0; i < c.numInputs(); i++)
            in.add(c.inputType(i) instanceof Type.SequenceType s ? s.element() : c.inputType(i));
        List<Type> out = new ArrayList<>();
        for (Type t : NestedGraphs.outputTypes(body, in, c, "the SequenceMap body")) {
            if (t != null && !(t instanceof Type.TensorType)) throw c.error("body outputs must be tensors, got " + t);
            out.add(t == null ? null : new Type.SequenceType(t));
        }
        return out;
    }

    private static List<Type> inferOptional(InferContext c) {
        if (c.hasInput(0)) return singleton(c.inputType(0) == null ? null : new Type.OptionalType(c.inputType(0)));
        if (!(c.attr("type") instanceof Attr.TypeAttr t))
            throw c.error("an Optional without input needs the 'type' attribute");
        return List.of(new Type.OptionalType(t.value()));
    }
}
