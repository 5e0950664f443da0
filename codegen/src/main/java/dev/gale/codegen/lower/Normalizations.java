package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.gale.codegen.kir.Sx.BinOp.*;
import static dev.gale.codegen.kir.Sx.UnOp.*;
import static dev.gale.codegen.kir.Sx.bin;
import static dev.gale.codegen.kir.Sx.cast;
import static dev.gale.codegen.kir.Sx.un;

/**
 * Softmax, LogSoftmax and LayerNormalization, which the op table files as out-elementwise-fusable anchors, written
 * as the reductions they are. Sums accumulate in f64 as in the interpreter (row maximum in the element type); the
 * per-element parts, softmax's exponentials included, compute in the element type, so the JVM renderer can vectorize
 * them:
 * <pre>
 *   softmax(x)    = exp(x - max) / sum(exp(x - max))        along one axis
 *   logsoftmax(x) = (x - max) - log(sum(exp(x - max)))
 *   layernorm(x)  = (x - mean) * 1/sqrt(var + eps) * scale + bias   over the axes from `axis` on
 * </pre>
 */
final class Normalizations {
    private Normalizations() {}

    static Sx softmax(KernelLowering l, Node n, List<Ix> at, boolean log) {
        String x = n.input(0).name();
        List<Ix> in = l.dims(x);
        int axis = axis(n, -1, in.size());
        DType t = l.elementType(x);
        if (!t.isFloat()) throw new NotLowerable(n.describe() + ": needs a floating-point input");
        Folds.Context c = new Folds.Context(l, x, kept(at, axis, axis + 1), in, Set.of(axis), t);
        Sx max = l.fold(c, Sx.c(t, Double.NEGATIVE_INFINITY), (acc, v) -> bin(MAX, acc, v), v -> v);
        // Exponentials in the element type (vectorizable), their sum in f64.
        Sx sum = l.fold(c, Sx.c(DType.FLOAT64, 0), (acc, v) -> bin(ADD, acc, v),
                v -> cast(un(EXP, bin(SUB, v, max)), DType.FLOAT64));
        Sx d = l.let(bin(SUB, l.valueAt(x, at), max));
        if (log) return l.let(bin(SUB, d, l.let(cast(un(LOG, sum), t))));
        return l.let(bin(DIV, un(EXP, d), l.let(cast(sum, t))));
    }

    /** Output {@code output} of LayerNormalization: Y, or the Mean or InvStdDev statistics (in stash_type). */
    static Sx layerNorm(KernelLowering l, Node n, int output, List<Ix> at) {
        String x = n.input(0).name();
        List<Ix> in = l.dims(x);
        int axis = axis(n, -1, in.size());
        DType t = l.elementType(x);
        if (!t.isFloat()) throw new NotLowerable(n.describe() + ": needs a floating-point input");
        Set<Integer> reduced = new HashSet<>();
        for (int k = axis; k < in.size(); k++) reduced.add(k);
        Folds.Context c = new Folds.Context(l, x, kept(at, axis, in.size()), in, reduced, t);
        DType w = DType.FLOAT64;
        Sx count = cast(c.count(), w);
        // Y, Mean and InvStdDev share the statistics: computed once per row, remembered under the node's name.
        List<Ix> row = c.kept();
        Sx mean = l.remembered(n.output(0).name() + "#mean", row, () -> l.let(bin(DIV,
                l.fold(c, Sx.c(w, 0), (acc, v) -> bin(ADD, acc, v), v -> cast(v, w)), count)));
        double eps = n.attr("epsilon") instanceof Attr.FloatAttr e ? e.value() : 1e-5f;
        Sx inv = l.remembered(n.output(0).name() + "#inv", row, () -> {
            Sx var = l.let(bin(DIV, l.fold(c, Sx.c(w, 0), (acc, v) -> bin(ADD, acc, v), v -> {
                Sx dv = bin(SUB, cast(v, w), mean);
                return bin(MUL, dv, dv);
            }), count));
            return l.let(bin(DIV, Sx.c(w, 1), un(SQRT, bin(ADD, var, Sx.c(w, eps)))));
        });
        if (output > 0) return l.let(cast(output == 1 ? mean : inv, l.elementType(n.output(output).name())));
        Sx y = bin(MUL, bin(SUB, l.valueAt(x, at), l.let(cast(mean, t))), l.let(cast(inv, t)));
        y = bin(MUL, l.let(y), l.valueAt(n.input(1).name(), l.broadcast(n, at, in, n.input(1).name())));
        if (n.hasInput(2)) y = bin(ADD, l.let(y), l.valueAt(n.input(2).name(), l.broadcast(n, at, in, n.input(2).name())));
        return l.let(y);
    }

    /** Output coordinates with the axes {@code [from, to)} reduced (null). */
    private static List<Ix> kept(List<Ix> at, int from, int to) {
        List<Ix> r = new ArrayList<>(at);
        for (int k = from; k < to; k++) r.set(k, null);
        return r;
    }

    private static int axis(Node n, long dflt, int rank) {
        long a = n.attr("axis") instanceof Attr.IntAttr i ? i.value() : dflt;
        if (a < -rank || a >= rank) throw new NotLowerable(n.describe() + ": axis " + a + " is out of range");
        return (int) (a < 0 ? a + rank : a);
    }
}
