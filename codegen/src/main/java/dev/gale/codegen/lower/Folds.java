package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.DType;
import dev.gale.ir.Node;

import java.util.List;
import java.util.Set;

import static dev.gale.codegen.kir.Sx.BinOp.*;
import static dev.gale.codegen.kir.Sx.UnOp.*;
import static dev.gale.codegen.kir.Sx.bin;
import static dev.gale.codegen.kir.Sx.cast;
import static dev.gale.codegen.kir.Sx.un;

/**
 * The Reduce* ops as folds: an accumulator's type and initial value, the step that adds one element, and the
 * finishing expression. As in the interpreter, float sums and products accumulate in f64 and integer ones in i64,
 * rounded once to the output type; extrema accumulate in the element type. LogSumExp folds twice: the maximum, then
 * the sum of {@code exp(x - max)}.
 */
final class Folds {
    private Folds() {}

    /** What a fold needs: the lowering, the reduced value, kept coordinates (null where reduced), input dims. */
    record Context(KernelLowering lowering, String x, List<Ix> kept, List<Ix> in, Set<Integer> reduced, DType t) {
        /** The number of elements folded into one output element. */
        Sx count() {
            Ix n = Ix.ONE;
            for (int k : reduced) n = Ix.mul(n, in.get(k));
            return n instanceof Ix.Lit(long v) ? Sx.c(DType.INT64, v) : new Sx.Index(n);
        }
    }

    @FunctionalInterface
    interface Fold {
        Sx lower(Context c);
    }

    static Fold of(Node n, DType t) {
        if (t == DType.BOOL) throw new NotLowerable(n.describe() + ": reductions of bool are not supported in kernels");
        boolean f = t.isFloat();
        return switch (n.op()) {
            case "ReduceSum" -> sum(t);
            case "ReduceSumSquare" -> c -> finish(c, sumOf(c, x -> bin(MUL, x, x)), s -> s);
            case "ReduceL1" -> c -> finish(c, sumOf(c, x -> un(ABS, x)), s -> s);
            case "ReduceProd" -> c -> {
                DType a = wide(c.t());
                return finish(c, c.lowering().fold(c, Sx.c(a, 1), (acc, x) -> bin(MUL, acc, x), x -> cast(x, a)), s -> s);
            };
            case "ReduceMax" -> extremum(MAX, Double.NEGATIVE_INFINITY, t);
            case "ReduceMin" -> extremum(MIN, Double.POSITIVE_INFINITY, t);
            case "ReduceMean" -> {
                if (!f) throw new NotLowerable(n.describe() + ": integer means are not supported in kernels");
                yield c -> finish(c, sumOf(c, x -> x), s -> bin(DIV, s, cast(c.count(), DType.FLOAT64)));
            }
            case "ReduceL2" -> floatOnly(n, f, c -> finish(c, sumOf(c, x -> bin(MUL, x, x)), s -> un(SQRT, s)));
            case "ReduceLogSum" -> floatOnly(n, f, c -> finish(c, sumOf(c, x -> x), s -> un(LOG, s)));
            case "ReduceLogSumExp" -> floatOnly(n, f, Folds::logSumExp);
            default -> throw new NotLowerable(n.describe() + ": kernels cannot express " + n.op() + " yet");
        };
    }

    static Fold sum(DType t) {
        if (t == DType.BOOL) throw new NotLowerable("sums of bool are not supported in kernels");
        return c -> finish(c, sumOf(c, x -> x), s -> s);
    }

    private static Fold floatOnly(Node n, boolean isFloat, Fold f) {
        if (!isFloat) throw new NotLowerable(n.describe() + ": needs a floating-point input in kernels");
        return f;
    }

    /** Max or min in the element type; the identity is -inf/+inf (or the integer type's extreme). */
    private static Fold extremum(Sx.BinOp op, double floatInit, DType t) {
        double init = t.isFloat() ? floatInit
                : t == DType.INT32 ? (op == MAX ? Integer.MIN_VALUE : Integer.MAX_VALUE)
                : (op == MAX ? Long.MIN_VALUE : Long.MAX_VALUE);
        return c -> c.lowering().fold(c, Sx.c(t, init), (acc, x) -> bin(op, acc, x), x -> x);
    }

    /** Sum of {@code f(x)} in the wide type. */
    private static Sx sumOf(Context c, java.util.function.UnaryOperator<Sx> f) {
        DType a = wide(c.t());
        return c.lowering().fold(c, Sx.c(a, 0), (acc, x) -> bin(ADD, acc, x), x -> f.apply(cast(x, a)));
    }

    /** log(sum(exp(x - m))) + m with m the maximum; an infinite maximum (empty, all -inf, some +inf) is the result. */
    private static Sx logSumExp(Context c) {
        DType a = wide(c.t());
        Sx m = cast(c.lowering().fold(c, Sx.c(c.t(), Double.NEGATIVE_INFINITY), (acc, x) -> bin(MAX, acc, x), x -> x), a);
        Sx mw = c.lowering().let(m);
        Sx s = c.lowering().fold(c, Sx.c(a, 0), (acc, x) -> bin(ADD, acc, x), x -> un(EXP, bin(SUB, cast(x, a), mw)));
        Sx r = Sx.select(bin(EQ, un(ABS, mw), Sx.c(a, Double.POSITIVE_INFINITY)), mw, bin(ADD, mw, un(LOG, s)));
        return c.lowering().let(cast(r, c.t()));
    }

    private static Sx finish(Context c, Sx acc, java.util.function.UnaryOperator<Sx> f) {
        return c.lowering().let(cast(f.apply(acc), c.t()));
    }

    private static DType wide(DType t) { return t.isFloat() ? DType.FLOAT64 : DType.INT64; }
}
