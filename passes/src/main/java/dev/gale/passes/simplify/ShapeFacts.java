package dev.gale.passes.simplify;

import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

/**
 * The checks that keep rewrites honest: a rule may drop an operand only when that cannot change the result's
 * shape or element type, so these answer "provably" questions and say no when a type is not known well enough.
 */
public final class ShapeFacts {
    private ShapeFacts() {}

    /** Whether every element of numeric tensor {@code t} equals {@code v} (an empty tensor qualifies). */
    public static boolean isAll(Tensor t, double v) {
        if (t == null || !t.dtype().isNumeric()) return false;
        for (int i = 0; i < t.numel(); i++) if (t.getDouble(i) != v) return false;
        return true;
    }

    /**
     * Whether broadcasting {@code small} against {@code big} provably gives {@code big}'s shape and element type:
     * same element type, and {@code small} is a scalar or has no more dims than {@code big}, each 1 or the same
     * fixed size as {@code big}'s aligned dim.
     */
    public static boolean broadcastsInto(Type.TensorType small, Type.TensorType big) {
        if (small == null || big == null || small.dtype() != big.dtype() || small.shape() == null) return false;
        Shape s = small.shape();
        if (s.rank() == 0) return true;
        if (big.shape() == null || s.rank() > big.shape().rank()) return false;
        int off = big.shape().rank() - s.rank();
        for (int k = 0; k < s.rank(); k++) {
            long a = s.dim(k).sizeOr(-1), b = big.shape().dim(off + k).sizeOr(-1);
            if (a != 1 && (a < 0 || a != b)) return false;
        }
        return true;
    }

    /**
     * Whether two shapes are provably equal at run time: same rank, and each pair of dims the same fixed size or the
     * same symbol (one symbol names one size throughout a graph).
     */
    public static boolean sameShape(Shape a, Shape b) {
        if (a == null || b == null || a.rank() != b.rank()) return false;
        for (int k = 0; k < a.rank(); k++) {
            Dim x = a.dim(k), y = b.dim(k);
            if (x instanceof Dim.Unknown || !x.equals(y)) return false;
        }
        return true;
    }

    /** Whether two tensor types provably describe the same element type and shape. */
    public static boolean sameType(Type.TensorType a, Type.TensorType b) {
        return a != null && b != null && a.dtype() == b.dtype() && sameShape(a.shape(), b.shape());
    }

    /** {@code axes} made non-negative for {@code rank} and sorted; null when one is out of range or repeated. */
    public static long[] normalizeAxes(long[] axes, int rank) {
        long[] r = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            long a = axes[i] < 0 ? axes[i] + rank : axes[i];
            if (a < 0 || a >= rank) return null;
            r[i] = a;
        }
        java.util.Arrays.sort(r);
        for (int i = 1; i < r.length; i++) if (r[i] == r[i - 1]) return null;
        return r;
    }

    /** The rank of a tensor type, or -1 when unknown. */
    public static int rank(Type.TensorType t) { return t == null || t.shape() == null ? -1 : t.shape().rank(); }
}
