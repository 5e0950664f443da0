package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.OptionalValue;
import dev.gale.ir.Tensor;
import dev.gale.ir.TensorSequence;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: sequences of tensors and optionals. */
final class SequenceKernels {
    private SequenceKernels() {}

    static void registerAll() {
        register("SequenceEmpty", Kernel.single(c -> new TensorSequence(
                c.hasAttr("dtype") ? DType.fromOnnx((int) c.attrInt("dtype")) : DType.FLOAT32, List.of())));
        register("SequenceConstruct", Kernel.single(SequenceKernels::construct));
        register("SequenceInsert", Kernel.single(SequenceKernels::insert));
        register("SequenceAt", Kernel.single(c -> {
            TensorSequence s = sequence(c, 0);
            return s.tensors().get(position(c, 1, s.tensors().size(), false));
        }));
        register("SequenceErase", Kernel.single(c -> {
            TensorSequence s = sequence(c, 0);
            List<Tensor> ts = new ArrayList<>(s.tensors());
            ts.remove(c.has(1) ? position(c, 1, ts.size(), false) : lastOf(ts, c));
            return new TensorSequence(s.elementType(), ts);
        }));
        register("SequenceLength", Kernel.single(c -> Tensor.ofLongs(new long[0], sequence(c, 0).tensors().size())));
        register("SplitToSequence", Kernel.single(SequenceKernels::splitToSequence));
        register("ConcatFromSequence", Kernel.single(SequenceKernels::concatFromSequence));
        register("SequenceMap", SequenceKernels::sequenceMap);

        register("Optional", Kernel.single(c -> {
            Type element = c.node().output(0).type() instanceof Type.OptionalType o ? o.element()
                    : c.attr("type") instanceof Attr.TypeAttr t ? t.value() : typeOf(c.value(0));
            return new OptionalValue(element, c.value(0));
        }));
        register("OptionalGetElement", Kernel.single(c -> {
            Object v = c.value(0);
            if (v instanceof OptionalValue o) {
                if (!o.isPresent()) throw c.error("the optional input is empty");
                return o.value();
            }
            if (v == null) throw c.error("the optional input is empty");
            return v;
        }));
        register("OptionalHasElement", Kernel.single(c -> {
            Object v = c.value(0);
            return Tensor.ofBools(new long[0], v instanceof OptionalValue o ? o.isPresent() : v != null);
        }));
    }

    private static TensorSequence sequence(KernelCall c, int i) {
        if (c.value(i) instanceof TensorSequence s) return s;
        throw c.error("input " + i + " must be a sequence, got "
                + (c.value(i) == null ? "nothing" : c.value(i).getClass().getSimpleName()));
    }

    private static Type typeOf(Object v) {
        return switch (v) {
            case Tensor t -> Type.unranked(t.dtype());
            case TensorSequence s -> new Type.SequenceType(Type.unranked(s.elementType()));
            case null, default -> null;
        };
    }

    private static int lastOf(List<Tensor> ts, KernelCall c) {
        if (ts.isEmpty()) throw c.error("cannot erase from an empty sequence");
        return ts.size() - 1;
    }

    /**
     * A position input, negative counting from the end: in {@code [-n, n-1]}, or {@code [-n, n]} when it may point
     * one past the end (an insertion point).
     */
    private static int position(KernelCall c, int i, int n, boolean insertion) {
        Tensor p = c.required(i);
        if (p.numel() != 1) throw c.error("position must be a scalar");
        long pos = p.getLong(0);
        long hi = insertion ? n : n - 1;
        if (pos < -n || pos > hi)
            throw c.error("position " + pos + " is out of range [" + -n + ", " + hi + "] for a sequence of length " + n);
        return (int) (pos < 0 ? pos + n : pos);
    }

    private static TensorSequence construct(KernelCall c) {
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < c.numInputs(); i++) ts.add(c.required(i));
        DType t = ts.get(0).dtype();
        for (Tensor x : ts) if (x.dtype() != t) throw c.error("sequence elements must share one type, got " + t + " and " + x.dtype());
        return new TensorSequence(t, ts);
    }

    private static TensorSequence insert(KernelCall c) {
        TensorSequence s = sequence(c, 0);
        Tensor x = c.required(1);
        if (x.dtype() != s.elementType())
            throw c.error("cannot insert a " + x.dtype() + " tensor into a sequence of " + s.elementType());
        List<Tensor> ts = new ArrayList<>(s.tensors());
        ts.add(c.has(2) ? position(c, 2, ts.size(), true) : ts.size(), x);
        return new TensorSequence(s.elementType(), ts);
    }

    /**
     * Without {@code split}: one piece per position of the axis (squeezed when keepdims=0). A scalar split: pieces
     * of that length, the last one shorter if needed. A 1-D split: the listed lengths, which must add up to the axis.
     */
    private static TensorSequence splitToSequence(KernelCall c) {
        Tensor x = c.required(0);
        if (x.rank() == 0) throw c.error("cannot split a scalar");
        long a = c.attrInt("axis");
        if (a < -x.rank() || a >= x.rank()) throw c.error("axis " + a + " is out of range for rank " + x.rank());
        int axis = (int) (a < 0 ? a + x.rank() : a);
        long len = x.dim(axis);
        List<Tensor> parts = new ArrayList<>();
        if (!c.has(1)) {
            boolean keep = c.attrInt("keepdims") != 0;
            for (long i = 0; i < len; i++)
                parts.add(keep ? AxisSlices.narrow(x, axis, i, 1) : AxisSlices.select(x, axis, i));
            return new TensorSequence(x.dtype(), parts);
        }
        Tensor split = c.required(1);
        List<Long> lengths = new ArrayList<>();
        if (split.rank() == 0) {
            long chunk = split.getLong(0);
            if (chunk <= 0) throw c.error("split must be positive, got " + chunk);
            for (long start = 0; start < len; start += chunk) lengths.add(Math.min(chunk, len - start));
        } else if (split.rank() == 1) {
            long sum = 0;
            for (int i = 0; i < split.numel(); i++) {
                long v = split.getLong(i);
                if (v < 0) throw c.error("split entries must not be negative, got " + v);
                lengths.add(v);
                sum += v;
            }
            if (sum != len) throw c.error("split lengths add up to " + sum + ", but the axis has length " + len);
        } else {
            throw c.error("split must be a scalar or a 1-D tensor");
        }
        long start = 0;
        for (long l : lengths) {
            parts.add(AxisSlices.narrow(x, axis, start, l));
            start += l;
        }
        return new TensorSequence(x.dtype(), parts);
    }

    private static Tensor concatFromSequence(KernelCall c) {
        TensorSequence s = sequence(c, 0);
        if (s.tensors().isEmpty()) throw c.error("cannot concatenate an empty sequence");
        boolean newAxis = c.attrInt("new_axis") != 0;
        int rank = s.tensors().get(0).rank() + (newAxis ? 1 : 0);
        long a = c.attrInt("axis");
        if (a < -rank || a >= rank) throw c.error("axis " + a + " is out of range for rank " + rank);
        int axis = (int) (a < 0 ? a + rank : a);
        try {
            return newAxis ? AxisSlices.stack(s.tensors(), axis, s.elementType())
                    : AxisSlices.concat(s.tensors(), axis, s.elementType());
        } catch (dev.gale.ir.GaleException e) {
            throw c.error(e.getMessage());
        }
    }

    /** Runs the body once per element of the first sequence; other sequences are indexed alongside. */
    private static List<Object> sequenceMap(KernelCall c) {
        Graph body = c.attrGraph("body");
        int n = sequence(c, 0).tensors().size();
        for (int i = 1; i < c.numInputs(); i++)
            if (c.value(i) instanceof TensorSequence s && s.tensors().size() != n)
                throw c.error("sequence input " + i + " has " + s.tensors().size() + " elements, input 0 has " + n);
        List<List<Tensor>> outs = new ArrayList<>();
        for (int j = 0; j < c.numOutputs(); j++) outs.add(new ArrayList<>());
        for (int k = 0; k < n; k++) {
            List<Object> in = new ArrayList<>();
            for (int i = 0; i < c.numInputs(); i++)
                in.add(c.value(i) instanceof TensorSequence s ? s.tensors().get(k) : c.value(i));
            List<Object> out = c.runGraph(body, in);
            for (int j = 0; j < c.numOutputs(); j++) {
                if (!(out.get(j) instanceof Tensor t)) throw c.error("body output " + j + " must be a tensor");
                outs.get(j).add(t);
            }
        }
        List<Object> result = new ArrayList<>();
        for (int j = 0; j < c.numOutputs(); j++) {
            DType t = !outs.get(j).isEmpty() ? outs.get(j).get(0).dtype() : declaredElement(c, j, body);
            result.add(new TensorSequence(t, outs.get(j)));
        }
        return result;
    }

    /** The element type of an empty output sequence: from the node's or the body's declared types. */
    private static DType declaredElement(KernelCall c, int j, Graph body) {
        if (c.node().output(j).type() instanceof Type.SequenceType s && s.element() instanceof Type.TensorType t)
            return t.dtype();
        if (body.outputs().get(j).tensorType() != null) return body.outputs().get(j).tensorType().dtype();
        return DType.FLOAT32;
    }
}
