package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.ShapeFacts;

import java.util.List;

/**
 * The conditions pattern fusions check before they fire. Each answers a "provably" question and says no when a type
 * or constant is not known well enough: a fusion that fires on a near miss silently changes numerics (ONNX Runtime
 * has shipped such bugs), while one that declines only leaves the graph as it was.
 */
final class FusionFacts {
    /**
     * Option {@code fuse.recompute}: {@code cheap} (default) lets an elementwise or reduction intermediate that has
     * readers outside the pattern stay where it is while the fused op recomputes it (typical in training graphs,
     * where the backward reads forward intermediates); {@code none} fuses only when every intermediate disappears.
     * MatMul, Gemm, Conv and Softmax intermediates are never recomputed.
     */
    static final String RECOMPUTE = "fuse.recompute";

    private FusionFacts() {}

    /** An intermediate value of a match: read {@code reads} times by the pattern's own nodes. */
    record Inner(Value value, int reads, boolean heavy) {
        static Inner light(Node n, int reads) { return new Inner(n.output(0), reads, false); }

        static Inner heavy(Node n, int reads) { return new Inner(n.output(0), reads, true); }
    }

    /**
     * Whether replacing the match's root leaves no intermediate computed twice, except cheap ones the recompute
     * policy allows: each intermediate is either read only by the pattern (and not a graph output), so it disappears
     * with the root, or is light and may be recomputed.
     */
    static boolean intermediatesOk(Match m, List<Inner> inner) {
        boolean recompute = !m.view().option(RECOMPUTE, "cheap").equals("none");
        for (Inner i : inner) {
            boolean disappears = m.view().uses(i.value()) == i.reads() && !m.view().isGraphOutput(i.value());
            if (!disappears && (i.heavy() || !recompute)) return false;
        }
        return true;
    }

    /** The float tensor type of {@code v} with a known rank, or null. */
    static Type.TensorType floatTensor(Match m, Value v) {
        Type.TensorType t = m.tensorType(v);
        return t != null && t.dtype().isFloat() && t.shape() != null ? t : null;
    }

    /**
     * Whether constant {@code name} is a single number of {@code into}'s element type whose broadcasting against
     * {@code into} changes nothing (a [1, 1] constant would add dims to a vector).
     */
    static boolean scalarInto(Match m, String name, Type.TensorType into) {
        Tensor t = m.constant(name);
        return t != null && t.numel() == 1 && into != null && broadcastsInto(m.tensorType(name), into);
    }

    /**
     * Whether broadcasting {@code small} against {@code big} provably gives {@code big}'s shape and element type:
     * same element type, no more dims, and each dim 1 or the same as big's aligned dim (the same fixed size, or the
     * same symbol: one symbol names one size throughout a graph).
     */
    static boolean broadcastsInto(Type.TensorType small, Type.TensorType big) {
        if (small == null || big == null || small.dtype() != big.dtype() || small.shape() == null) return false;
        Shape s = small.shape();
        if (s.rank() == 0) return true;
        if (big.shape() == null || s.rank() > big.shape().rank()) return false;
        int off = big.shape().rank() - s.rank();
        for (int k = 0; k < s.rank(); k++) {
            Dim a = s.dim(k), b = big.shape().dim(off + k);
            if (!a.equals(Dim.of(1)) && (a instanceof Dim.Unknown || !a.equals(b))) return false;
        }
        return true;
    }

    /** Whether the single number in {@code t} is exactly {@code v}. */
    static boolean exactly(Tensor t, double v) { return t != null && t.numel() == 1 && t.getDouble(0) == v; }

    /**
     * Whether the single number in float tensor {@code t} is {@code v} to within one unit in the last place of its
     * element type: how an irrational constant such as sqrt(2) is written in a model.
     */
    static boolean near(Tensor t, double v) {
        if (t == null || t.numel() != 1 || !t.dtype().isFloat()) return false;
        return Math.abs(t.getDouble(0) - v) <= ulp(t.dtype(), v);
    }

    private static double ulp(DType t, double v) {
        return switch (t) {
            case FLOAT64 -> Math.ulp(v);
            case FLOAT32 -> Math.ulp((float) v);
            case FLOAT16 -> Math.abs(v) * 0x1p-10;
            case BFLOAT16 -> Math.abs(v) * 0x1p-7;
            default -> 0;
        };
    }

    /** An integer attribute of {@code n}, or {@code fallback} (the schema's default) when absent. */
    static long intAttr(Node n, String name, long fallback) {
        return n.attr(name) instanceof Attr.IntAttr a ? a.value() : fallback;
    }

    /** The constant axes of a reduction, normalized and sorted, or null when not constant or not valid. */
    static long[] axes(Match m, String name, int rank) {
        Tensor t = m.constant(name);
        if (t == null || t.dtype() != DType.INT64 || t.rank() > 1 || t.numel() == 0) return null;
        return ShapeFacts.normalizeAxes(t.toLongArray(), rank);
    }
}
