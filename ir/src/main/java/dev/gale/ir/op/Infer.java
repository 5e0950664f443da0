package dev.gale.ir.op;

import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

/** Reusable type inference rules and the shape arithmetic they share. */
public final class Infer {
    private Infer() {}

    /** Every output has the type of input {@code i}. */
    public static TypeInference sameAs(int i) {
        return c -> repeat(c.inputType(i), c.numOutputs());
    }

    /** Numpy broadcasting of all tensor inputs; the element type of input 0. */
    public static TypeInference broadcast() {
        return c -> List.of(Type.tensor(c.dtype(0), broadcastAll(c)));
    }

    /** Numpy broadcasting of all inputs, with a fixed output element type (comparisons give bool). */
    public static TypeInference broadcastTo(DType out) {
        return c -> List.of(Type.tensor(out, broadcastAll(c)));
    }

    /** Output 0 has input {@code i}'s element type and an unknown shape (for data-dependent shapes). */
    public static TypeInference unknownShape(int i) {
        return c -> repeat(Type.unranked(c.dtype(i)), c.numOutputs());
    }

    /** Output 0 has the given element type and an unknown shape. */
    public static TypeInference unknownShapeOf(DType t) {
        return c -> repeat(Type.unranked(t), c.numOutputs());
    }

    static List<Type> repeat(Type t, int n) {
        List<Type> r = new ArrayList<>(n);
        for (int k = 0; k < n; k++) r.add(t);
        return r;
    }

    private static Shape broadcastAll(InferContext c) {
        Shape acc = Shape.SCALAR;
        for (int i = 0; i < c.numInputs(); i++) {
            if (!c.hasInput(i)) continue;
            Shape s = c.shape(i);
            if (s == null) return null;
            acc = broadcast(acc, s, c);
        }
        return acc;
    }

    /** Numpy broadcast of two shapes; symbolic dimensions broadcast against 1 or their own name. */
    public static Shape broadcast(Shape a, Shape b, InferContext c) {
        int r = Math.max(a.rank(), b.rank());
        List<Dim> out = new ArrayList<>(r);
        for (int k = 0; k < r; k++) {
            int ia = k - (r - a.rank()), ib = k - (r - b.rank());
            Dim da = ia >= 0 ? a.dim(ia) : Dim.of(1);
            Dim db = ib >= 0 ? b.dim(ib) : Dim.of(1);
            out.add(broadcastDim(da, db, a, b, c));
        }
        return new Shape(out);
    }

    private static Dim broadcastDim(Dim da, Dim db, Shape a, Shape b, InferContext c) {
        if (da.equals(db)) return da;
        if (da.equals(Dim.of(1))) return db;
        if (db.equals(Dim.of(1))) return da;
        if (da.isFixed() && db.isFixed())
            throw c.error("shapes " + a + " and " + b + " do not broadcast");
        if (da.isFixed()) return da;
        if (db.isFixed()) return db;
        return Dim.UNKNOWN;
    }

    /** Normalizes a possibly negative axis against {@code rank}, with an error naming the node. */
    public static int axis(long axis, int rank, InferContext c) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw c.error("axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }
}
