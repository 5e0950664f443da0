package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Sx;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.gale.codegen.kir.Sx.BinOp.*;
import static dev.gale.codegen.kir.Sx.UnOp.*;
import static dev.gale.codegen.kir.Sx.add;
import static dev.gale.codegen.kir.Sx.bin;
import static dev.gale.codegen.kir.Sx.div;
import static dev.gale.codegen.kir.Sx.mul;
import static dev.gale.codegen.kir.Sx.select;
import static dev.gale.codegen.kir.Sx.sub;
import static dev.gale.codegen.kir.Sx.un;

/**
 * The elementwise and broadcast ops of the op table as scalar expressions, one entry per op: the operands arrive
 * broadcast and loaded (null for an omitted optional input), the entry returns the element of the output. Formulas
 * follow the interpreter's kernels (ElementwiseKernels), which follow the ONNX operator docs. Float ops accept
 * {@code f32} and {@code f64}; ops that the interpreter also defines on integers accept {@code i32}/{@code i64} where
 * Java and C agree on the result (wrap-around arithmetic, comparisons); anything else is not lowerable.
 */
final class ScalarOps {
    private ScalarOps() {}

    /** One op: operands, the node (for attributes) and the output element type give the output element. */
    @FunctionalInterface
    interface Rule {
        Sx apply(List<Sx> x, Node n, DType out);
    }

    private record Entry(Rule rule, Kinds accepts) {}

    /** Element types an op's first operand may have. */
    private enum Kinds { FLOAT, NUMERIC, BOOL, ANY }

    private static final Map<String, Entry> OPS = new HashMap<>();

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    static {
        // arithmetic
        op("Add", Kinds.NUMERIC, (x, n, t) -> add(x.get(0), x.get(1)));
        op("Sub", Kinds.NUMERIC, (x, n, t) -> sub(x.get(0), x.get(1)));
        op("Mul", Kinds.NUMERIC, (x, n, t) -> mul(x.get(0), x.get(1)));
        op("Div", Kinds.FLOAT, (x, n, t) -> div(x.get(0), x.get(1))); // integer division by zero would throw
        op("Neg", Kinds.NUMERIC, (x, n, t) -> un(NEG, x.get(0)));
        op("Abs", Kinds.NUMERIC, (x, n, t) -> un(ABS, x.get(0)));
        op("Reciprocal", Kinds.FLOAT, (x, n, t) -> div(c(t, 1), x.get(0)));
        op("Pow", Kinds.FLOAT, ScalarOps::pow);
        op("Max", Kinds.NUMERIC, (x, n, t) -> fold(MAX, x));
        op("Min", Kinds.NUMERIC, (x, n, t) -> fold(MIN, x));
        op("Sum", Kinds.FLOAT, (x, n, t) -> fold(ADD, x));
        op("Mean", Kinds.FLOAT, (x, n, t) -> div(fold(ADD, x), c(t, x.size())));
        // float math
        op("Exp", Kinds.FLOAT, (x, n, t) -> un(EXP, x.get(0)));
        op("Log", Kinds.FLOAT, (x, n, t) -> un(LOG, x.get(0)));
        op("Sqrt", Kinds.FLOAT, (x, n, t) -> un(SQRT, x.get(0)));
        op("Tanh", Kinds.FLOAT, (x, n, t) -> un(TANH, x.get(0)));
        op("Erf", Kinds.FLOAT, (x, n, t) -> un(ERF, x.get(0)));
        op("Sin", Kinds.FLOAT, (x, n, t) -> un(SIN, x.get(0)));
        op("Cos", Kinds.FLOAT, (x, n, t) -> un(COS, x.get(0)));
        op("Floor", Kinds.FLOAT, (x, n, t) -> un(FLOOR, x.get(0)));
        op("Ceil", Kinds.FLOAT, (x, n, t) -> un(CEIL, x.get(0)));
        op("Round", Kinds.FLOAT, (x, n, t) -> un(RINT, x.get(0))); // half to even
        op("Sign", Kinds.FLOAT, (x, n, t) -> select(gt(x.get(0), c(t, 0)), c(t, 1),
                select(lt(x.get(0), c(t, 0)), c(t, -1), x.get(0)))); // NaN and -0 stay
        // activations
        op("Relu", Kinds.NUMERIC, (x, n, t) -> select(gt(x.get(0), c(t, 0)), x.get(0), c(t, 0)));
        op("LeakyRelu", Kinds.FLOAT, (x, n, t) -> select(bin(GE, x.get(0), c(t, 0)), x.get(0),
                mul(c(t, f(n, "alpha", 0.01f)), x.get(0))));
        op("PRelu", Kinds.FLOAT, (x, n, t) -> select(lt(x.get(0), c(t, 0)), mul(x.get(1), x.get(0)), x.get(0)));
        op("ThresholdedRelu", Kinds.FLOAT, (x, n, t) -> select(gt(x.get(0), c(t, f(n, "alpha", 1))), x.get(0), c(t, 0)));
        op("Sigmoid", Kinds.FLOAT, (x, n, t) -> div(c(t, 1), add(c(t, 1), un(EXP, un(NEG, x.get(0))))));
        op("HardSigmoid", Kinds.FLOAT, (x, n, t) -> clamp01(add(mul(c(t, f(n, "alpha", 0.2f)), x.get(0)),
                c(t, f(n, "beta", 0.5f)))));
        op("HardSwish", Kinds.FLOAT, (x, n, t) -> mul(x.get(0), clamp01(add(div(x.get(0), c(t, 6)), c(t, 0.5)))));
        op("Softplus", Kinds.FLOAT, (x, n, t) -> softplus(x.get(0)));
        op("Softsign", Kinds.FLOAT, (x, n, t) -> div(x.get(0), add(c(t, 1), un(ABS, x.get(0)))));
        op("Mish", Kinds.FLOAT, (x, n, t) -> mul(x.get(0), un(TANH, softplus(x.get(0)))));
        op("Elu", Kinds.FLOAT, (x, n, t) -> select(lt(x.get(0), c(t, 0)),
                mul(c(t, f(n, "alpha", 1)), un(EXPM1, x.get(0))), x.get(0)));
        op("Selu", Kinds.FLOAT, (x, n, t) -> {
            double alpha = f(n, "alpha", 1.67326319217681884765625f), gamma = f(n, "gamma", 1.05070102214813232421875f);
            return select(gt(x.get(0), c(t, 0)), mul(c(t, gamma), x.get(0)),
                    mul(c(t, gamma * alpha), un(EXPM1, x.get(0))));
        });
        op("Celu", Kinds.FLOAT, (x, n, t) -> {
            double alpha = f(n, "alpha", 1);
            return add(bin(MAX, c(t, 0), x.get(0)),
                    bin(MIN, c(t, 0), mul(c(t, alpha), un(EXPM1, div(x.get(0), c(t, alpha))))));
        });
        op("Gelu", Kinds.FLOAT, ScalarOps::gelu);
        op("Shrink", Kinds.FLOAT, (x, n, t) -> {
            double bias = f(n, "bias", 0), lambd = f(n, "lambd", 0.5f);
            return select(lt(x.get(0), c(t, -lambd)), add(x.get(0), c(t, bias)),
                    select(gt(x.get(0), c(t, lambd)), sub(x.get(0), c(t, bias)), c(t, 0)));
        });
        op("Clip", Kinds.NUMERIC, (x, n, t) -> {
            Sx v = x.get(0);
            if (x.size() > 1 && x.get(1) != null) v = bin(MAX, v, x.get(1));
            if (x.size() > 2 && x.get(2) != null) v = bin(MIN, v, x.get(2));
            return v;
        });
        // comparisons and logic
        op("Equal", Kinds.ANY, (x, n, t) -> bin(EQ, x.get(0), x.get(1)));
        op("Less", Kinds.NUMERIC, (x, n, t) -> bin(LT, x.get(0), x.get(1)));
        op("LessOrEqual", Kinds.NUMERIC, (x, n, t) -> bin(LE, x.get(0), x.get(1)));
        op("Greater", Kinds.NUMERIC, (x, n, t) -> bin(GT, x.get(0), x.get(1)));
        op("GreaterOrEqual", Kinds.NUMERIC, (x, n, t) -> bin(GE, x.get(0), x.get(1)));
        op("Not", Kinds.BOOL, (x, n, t) -> un(NOT, x.get(0)));
        op("And", Kinds.BOOL, (x, n, t) -> bin(AND, x.get(0), x.get(1)));
        op("Or", Kinds.BOOL, (x, n, t) -> bin(OR, x.get(0), x.get(1)));
        op("Xor", Kinds.BOOL, (x, n, t) -> bin(XOR, x.get(0), x.get(1)));
        op("IsNaN", Kinds.FLOAT, (x, n, t) -> bin(NE, x.get(0), x.get(0)));
        op("IsInf", Kinds.FLOAT, (x, n, t) -> {
            DType in = x.get(0).type();
            Sx pos = bin(EQ, x.get(0), c(in, Double.POSITIVE_INFINITY)), neg = bin(EQ, x.get(0), c(in, Double.NEGATIVE_INFINITY));
            boolean p = i(n, "detect_positive", 1) != 0, m = i(n, "detect_negative", 1) != 0;
            return p && m ? bin(OR, pos, neg) : p ? pos : m ? neg : c(DType.BOOL, 0);
        });
        // selection and conversion
        op("Where", Kinds.BOOL, (x, n, t) -> select(x.get(0), x.get(1), x.get(2)));
        op("Cast", Kinds.ANY, (x, n, t) -> Sx.cast(x.get(0), t));
        op("CastLike", Kinds.ANY, (x, n, t) -> Sx.cast(x.get(0), t));
        op("Identity", Kinds.ANY, (x, n, t) -> x.get(0));
    }

    private static void op(String name, Kinds kinds, Rule rule) { OPS.put(name, new Entry(rule, kinds)); }

    static boolean supports(Node n) { return n.domain().isEmpty() && OPS.containsKey(n.op()); }

    /** The output element of {@code n}; null (with the reason in {@code why}) when the element types do not fit. */
    static Sx apply(Node n, List<Sx> x, DType out) {
        Entry e = OPS.get(n.op());
        DType t = x.getFirst().type();
        boolean ok = switch (e.accepts()) {
            case FLOAT -> t.isFloat();
            case NUMERIC -> t.isFloat() || t.isInteger();
            case BOOL -> t == DType.BOOL;
            case ANY -> true;
        };
        if (!ok) throw new NotLowerable(n.describe() + ": element type " + t + " is not supported in kernels");
        return e.rule().apply(x, n, out);
    }

    // ---- formulas ---------------------------------------------------------------------------------------------------

    /** Gelu: {@code 0.5 x (1 + erf(x / sqrt 2))}, or the tanh approximation. */
    private static Sx gelu(List<Sx> x, Node n, DType t) {
        Sx v = x.get(0);
        Attr a = n.attr("approximate");
        String mode = a instanceof Attr.StringAttr s ? s.value() : "none";
        Sx inner = switch (mode) {
            case "none" -> un(ERF, mul(v, c(t, Math.sqrt(0.5))));
            case "tanh" -> un(TANH, mul(c(t, SQRT_2_OVER_PI), add(v, mul(c(t, 0.044715), mul(v, mul(v, v))))));
            default -> throw new NotLowerable(n.describe() + ": unknown Gelu approximation '" + mode + "'");
        };
        return mul(mul(c(t, 0.5), v), add(c(t, 1), inner));
    }

    /** Pow with a float base; an exponent of constant 2 becomes a multiplication. */
    private static Sx pow(List<Sx> x, Node n, DType t) {
        Sx base = x.get(0), e = x.get(1);
        if (e.type() != base.type()) {
            if (!e.type().isFloat() && !e.type().isInteger())
                throw new NotLowerable(n.describe() + ": exponent of type " + e.type() + " is not supported in kernels");
            e = Sx.cast(e, base.type());
        }
        if (e instanceof Sx.Const k && k.value() == 2) return mul(base, base);
        if (e instanceof Sx.Const k && k.value() == 1) return base;
        return bin(POW, base, e);
    }

    /** {@code log(1 + e^x)} as {@code max(x, 0) + log1p(e^-|x|)}, which neither overflows nor loses small values. */
    private static Sx softplus(Sx x) {
        DType t = x.type();
        return add(bin(MAX, x, c(t, 0)), un(LOG1P, un(EXP, un(NEG, un(ABS, x)))));
    }

    private static Sx clamp01(Sx x) {
        DType t = x.type();
        return bin(MAX, c(t, 0), bin(MIN, c(t, 1), x));
    }

    private static Sx fold(Sx.BinOp op, List<Sx> x) {
        Sx acc = x.getFirst();
        for (int i = 1; i < x.size(); i++) acc = bin(op, acc, x.get(i));
        return acc;
    }

    private static Sx gt(Sx a, Sx b) { return bin(GT, a, b); }

    private static Sx lt(Sx a, Sx b) { return bin(LT, a, b); }

    private static Sx c(DType t, double v) { return Sx.c(t, t.isFloat() || t == DType.BOOL ? v : Math.rint(v)); }

    private static double f(Node n, String name, double dflt) {
        Attr a = n.attr(name);
        return a instanceof Attr.FloatAttr f ? f.value() : dflt;
    }

    private static long i(Node n, String name, long dflt) {
        Attr a = n.attr(name);
        return a instanceof Attr.IntAttr i ? i.value() : dflt;
    }
}
