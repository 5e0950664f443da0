package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Value;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.Gradients.rule;

/**
 * Gradient rules: elementwise math and activations. Each rule reads as forward / backward.
 *
 * <p>Conventions are PyTorch's (its {@code derivatives.yaml} and backward kernels), including at the points where the
 * forward function has no derivative: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = alpha, elu-family ops take the
 * negative branch at 0, clip passes the gradient at its bounds, hard_swish'(3) = 1.5, hard_sigmoid and shrink give 0 at
 * their corners, ties of Max/Min split the gradient evenly, pow gives 0 to the base where the exponent is 0 and 0 to
 * the exponent where the base is 0 and the exponent non-negative. Sign, Floor, Ceil and Round have zero gradient.
 * Ops with bool or integer outputs (comparisons, logic, IsNaN, IsInf, bit operations) carry no gradient at all.
 * A rule returns null for inputs that do not need a gradient, so it emits no backward nodes for them.
 */
final class ElementwiseGradients {
    private ElementwiseGradients() {}

    static final Map<String, Attr> NONE = Map.of();

    static List<Value> list(Value... v) { return Arrays.asList(v); }

    static Value mul(GradContext c, Value a, Value b) { return c.op("Mul", NONE, a, b); }

    static Value div(GradContext c, Value a, Value b) { return c.op("Div", NONE, a, b); }

    static Value add(GradContext c, Value a, Value b) { return c.op("Add", NONE, a, b); }

    static Value sub(GradContext c, Value a, Value b) { return c.op("Sub", NONE, a, b); }

    static Value neg(GradContext c, Value a) { return c.op("Neg", NONE, a); }

    static Value sqrt(GradContext c, Value a) { return c.op("Sqrt", NONE, a); }

    static Value greater(GradContext c, Value a, Value b) { return c.op("Greater", NONE, a, b); }

    static Value less(GradContext c, Value a, Value b) { return c.op("Less", NONE, a, b); }

    static Value equal(GradContext c, Value a, Value b) { return c.op("Equal", NONE, a, b); }

    static Value and(GradContext c, Value a, Value b) { return c.op("And", NONE, a, b); }

    static Value or(GradContext c, Value a, Value b) { return c.op("Or", NONE, a, b); }

    /** {@code dy * f} for a unary op whose derivative is {@code f}. */
    static List<Value> unary(GradContext c, Value derivative) { return list(mul(c, c.dOut(0), derivative)); }

    /** {@code where(cond, a, b)} with a bool condition. */
    static Value where(GradContext c, Value cond, Value a, Value b) { return c.op("Where", NONE, cond, a, b); }

    /** {@code dy where cond, else 0}. */
    static Value pass(GradContext c, Value cond, Value dy) { return where(c, cond, dy, c.scalar(0, dy)); }

    static Value cast(GradContext c, Value v, DType to) { return c.op("Cast", Map.of("to", Attr.of((long) to.onnxCode())), v); }

    /** {@code x * x}. */
    static Value square(GradContext c, Value x) { return mul(c, x, x); }

    /** {@code sum_to(g, in(i))} when input i needs a gradient, else null (and no nodes). */
    static Value reduced(GradContext c, int i, java.util.function.Supplier<Value> g) {
        return c.needs(i) ? c.sumToShapeOf(g.get(), c.in(i)) : null;
    }

    static void attach() {
        arithmetic();
        activations();
        transcendental();
        selection();
    }

    private static void arithmetic() {
        // y = a + b  /  da = sum_to(dy, a), db = sum_to(dy, b)
        rule("Add", c -> list(reduced(c, 0, () -> c.dOut(0)), reduced(c, 1, () -> c.dOut(0))));
        // y = a - b  /  da = sum_to(dy, a), db = sum_to(-dy, b)
        rule("Sub", c -> list(reduced(c, 0, () -> c.dOut(0)), reduced(c, 1, () -> neg(c, c.dOut(0)))));
        // y = a * b  /  da = sum_to(dy * b, a), db = sum_to(dy * a, b)
        rule("Mul", c -> list(reduced(c, 0, () -> mul(c, c.dOut(0), c.in(1))),
                reduced(c, 1, () -> mul(c, c.dOut(0), c.in(0)))));
        // y = a / b  /  da = sum_to(dy / b, a), db = sum_to(-dy * y / b, b)
        rule("Div", c -> list(reduced(c, 0, () -> div(c, c.dOut(0), c.in(1))),
                reduced(c, 1, () -> neg(c, div(c, mul(c, c.dOut(0), c.out(0)), c.in(1))))));
        // y = fmod(a, b) = a - b trunc(a / b)  /  da = sum_to(dy, a), db = sum_to(-dy trunc(a / b), b)
        // y = mod(a, b) = a - b floor(a / b) (fmod = 0, numpy's mod)  /  likewise with floor (torch.remainder)
        rule("Mod", c -> {
            if (!c.dtypeOf(c.in(0)).isFloat()) return list(null, null);
            boolean fmod = c.attrInt("fmod") != 0;
            return list(reduced(c, 0, () -> c.dOut(0)), reduced(c, 1, () -> {
                Value q = div(c, c.in(0), c.in(1));
                Value whole = fmod ? where(c, less(c, q, c.scalar(0, q)), c.op("Ceil", NONE, q), c.op("Floor", NONE, q))
                        : c.op("Floor", NONE, q);
                return neg(c, mul(c, c.dOut(0), whole));
            }));
        });
        // y = a^b  /  da = sum_to(dy b a^(b-1), a), 0 where b == 0; db = sum_to(dy y ln a, b), 0 where a == 0, b >= 0
        rule("Pow", c -> {
            Value a = c.in(0), b = c.in(1), dy = c.dOut(0);
            DType t = c.dtypeOf(a);
            Value bf = c.dtypeOf(b) == t ? b : cast(c, b, t);
            Value zero = c.scalar(0, a);
            Value da = reduced(c, 0, () -> where(c, equal(c, bf, zero), c.scalar(0, dy),
                    mul(c, dy, mul(c, bf, c.op("Pow", NONE, a, sub(c, bf, c.scalar(1, bf)))))));
            Value db = reduced(c, 1, () -> {
                Value baseZero = and(c, equal(c, a, zero), c.op("GreaterOrEqual", NONE, bf, zero));
                Value g = where(c, baseZero, c.scalar(0, dy), mul(c, dy, mul(c, c.out(0), c.op("Log", NONE, a))));
                return c.dtypeOf(b) == t ? g : cast(c, g, c.dtypeOf(b));
            });
            return list(da, db);
        });
        // y = -x  /  dx = -dy
        rule("Neg", c -> list(neg(c, c.dOut(0))));
        // y = x  /  dx = dy
        rule("Identity", c -> list(c.dOut(0)));
        // y = |x|  /  dx = dy sign(x)  (0 at x = 0)
        rule("Abs", c -> unary(c, c.op("Sign", NONE, c.in(0))));
        // y = sign(x), floor(x), ceil(x), round(x)  /  dx = 0 (torch: zeros_like)
        for (String op : List.of("Sign", "Floor", "Ceil", "Round"))
            rule(op, c -> list(c.zerosLike(c.in(0))));
        // y = sum(x_i)  /  dx_i = sum_to(dy, x_i) ; y = mean(x_i) / dx_i = sum_to(dy / n, x_i)
        rule("Sum", c -> {
            Value[] r = new Value[c.node().inputs().size()];
            for (int i = 0; i < r.length; i++) r[i] = reduced(c, i, () -> c.dOut(0));
            return list(r);
        });
        rule("Mean", c -> {
            int n = c.node().inputs().size();
            Value d = div(c, c.dOut(0), c.scalar(n, c.dOut(0)));
            Value[] r = new Value[n];
            for (int i = 0; i < n; i++) r[i] = reduced(c, i, () -> d);
            return list(r);
        });
    }

    private static void activations() {
        // y = relu(x)  /  dx = dy where y > 0, else 0 (relu'(0) = 0). From y, not x (y > 0 exactly where x > 0, and
        // a NaN fails both): the backward pass then keeps only y, so x has Relu as its one use and a GEMM or
        // convolution before it can take the Relu into its epilogue in training graphs too
        rule("Relu", c -> list(pass(c, greater(c, c.out(0), c.scalar(0, c.out(0))), c.dOut(0))));
        // y = x if x > 0 else alpha x  /  dx = dy if x > 0 else alpha dy
        rule("LeakyRelu", c -> list(where(c, greater(c, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                mul(c, c.dOut(0), c.scalar(c.attrFloat("alpha"), c.dOut(0))))));
        // y = x if x > alpha else 0  /  dx = dy if x > alpha else 0
        rule("ThresholdedRelu", c -> list(pass(c, greater(c, c.in(0), c.scalar(c.attrFloat("alpha"), c.in(0))),
                c.dOut(0))));
        // y = x > 0 ? x : alpha (e^x - 1)  /  dx = dy if x > 0 else dy (y + alpha)
        rule("Elu", c -> list(where(c, greater(c, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                mul(c, c.dOut(0), add(c, c.out(0), c.scalar(c.attrFloat("alpha"), c.in(0)))))));
        // y = gamma (x > 0 ? x : alpha (e^x - 1))  /  dx = dy gamma if x > 0 else dy (y + gamma alpha)
        rule("Selu", c -> {
            double a = c.attrFloat("alpha"), g = c.attrFloat("gamma");
            return list(where(c, greater(c, c.in(0), c.scalar(0, c.in(0))), mul(c, c.dOut(0), c.scalar(g, c.in(0))),
                    mul(c, c.dOut(0), add(c, c.out(0), c.scalar(g * a, c.in(0))))));
        });
        // y = max(0, x) + min(0, alpha (e^(x/alpha) - 1))  /  dx = dy if x > 0 else dy e^(x/alpha)
        rule("Celu", c -> list(where(c, greater(c, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                mul(c, c.dOut(0), c.op("Exp", NONE, div(c, c.in(0), c.scalar(c.attrFloat("alpha"), c.in(0))))))));
        // y = x < 0 ? slope x : x  /  dx = dy where x > 0 else slope dy; dslope = sum_to(dy x where x <= 0, slope)
        rule("PRelu", c -> {
            Value pos = greater(c, c.in(0), c.scalar(0, c.in(0)));
            Value dx = c.needs(0) ? where(c, pos, c.dOut(0), mul(c, c.dOut(0), c.in(1))) : null;
            Value ds = reduced(c, 1, () -> where(c, pos, c.scalar(0, c.dOut(0)), mul(c, c.dOut(0), c.in(0))));
            return list(dx, ds);
        });
        // y = sigmoid(x)  /  dx = dy y (1 - y)
        rule("Sigmoid", c -> unary(c, mul(c, c.out(0), sub(c, c.scalar(1, c.out(0)), c.out(0)))));
        // y = ln(1 + e^x)  /  dx = dy sigmoid(x)
        rule("Softplus", c -> unary(c, c.op("Sigmoid", NONE, c.in(0))));
        // y = x / (1 + |x|)  /  dx = dy / (1 + |x|)^2
        rule("Softsign", c -> {
            Value d = add(c, c.scalar(1, c.in(0)), c.op("Abs", NONE, c.in(0)));
            return list(div(c, c.dOut(0), mul(c, d, d)));
        });
        // y = x tanh(softplus(x))  /  dx = dy (t + x sigmoid(x) (1 - t^2)), t = tanh(softplus(x))
        rule("Mish", c -> {
            Value x = c.in(0);
            Value t = c.op("Tanh", NONE, c.op("Softplus", NONE, x));
            Value s = c.op("Sigmoid", NONE, x);
            return unary(c, add(c, t, mul(c, mul(c, x, s), sub(c, c.scalar(1, x), square(c, t)))));
        });
        // y = max(0, min(1, alpha x + beta))  /  dx = dy alpha where 0 < alpha x + beta < 1 (0 at the corners)
        rule("HardSigmoid", c -> {
            Value z = add(c, mul(c, c.in(0), c.scalar(c.attrFloat("alpha"), c.in(0))), c.scalar(c.attrFloat("beta"), c.in(0)));
            Value inside = and(c, greater(c, z, c.scalar(0, z)), less(c, z, c.scalar(1, z)));
            return list(pass(c, inside, mul(c, c.dOut(0), c.scalar(c.attrFloat("alpha"), c.in(0)))));
        });
        // y = x hardsigmoid(x; 1/6, 1/2)  /  dx = 0 for x < -3, dy (x/3 + 1/2) for -3 <= x <= 3, dy above
        // (torch's hardswish_backward: hard_swish'(-3) = -1/2, hard_swish'(3) = 3/2)
        rule("HardSwish", c -> {
            Value x = c.in(0);
            Value mid = add(c, div(c, x, c.scalar(3, x)), c.scalar(0.5, x));
            Value d = where(c, less(c, x, c.scalar(-3, x)), c.scalar(0, x),
                    where(c, c.op("LessOrEqual", NONE, x, c.scalar(3, x)), mid, c.scalar(1, x)));
            return unary(c, d);
        });
        // y = x - bias if x > lambd, x + bias if x < -lambd, else 0  /  dx = dy where |x| > lambd (0 at +-lambd)
        rule("Shrink", c -> {
            Value x = c.in(0);
            double lambd = c.attrFloat("lambd");
            return list(pass(c, or(c, less(c, x, c.scalar(-lambd, x)), greater(c, x, c.scalar(lambd, x))), c.dOut(0)));
        });
        // y = gelu(x)  /  dx = dy (Phi(x) + x phi(x)); tanh form: derivative of 0.5 x (1 + tanh(k (x + 0.044715 x^3)))
        rule("Gelu", c -> {
            Value x = c.in(0);
            if (c.attrString("approximate").equals("tanh")) {
                double k = Math.sqrt(2 / Math.PI);
                Value x2 = square(c, x);
                Value inner = mul(c, c.scalar(k, x), add(c, x, mul(c, c.scalar(0.044715, x), mul(c, x2, x))));
                Value t = c.op("Tanh", NONE, inner);
                Value dinner = mul(c, c.scalar(k, x), add(c, c.scalar(1, x), mul(c, c.scalar(3 * 0.044715, x), x2)));
                Value d = add(c, mul(c, c.scalar(0.5, x), add(c, c.scalar(1, x), t)),
                        mul(c, mul(c, c.scalar(0.5, x), x), mul(c, sub(c, c.scalar(1, x), square(c, t)), dinner)));
                return unary(c, d);
            }
            Value cdf = mul(c, c.scalar(0.5, x), add(c, c.scalar(1, x), c.op("Erf", NONE, mul(c, x, c.scalar(1 / Math.sqrt(2), x)))));
            Value pdf = mul(c, c.scalar(1 / Math.sqrt(2 * Math.PI), x),
                    c.op("Exp", NONE, mul(c, c.scalar(-0.5, x), square(c, x))));
            return unary(c, add(c, cdf, mul(c, x, pdf)));
        });
    }

    private static void transcendental() {
        // y = tanh(x)  /  dx = dy (1 - y^2)
        rule("Tanh", c -> unary(c, sub(c, c.scalar(1, c.out(0)), square(c, c.out(0)))));
        // y = e^x  /  dx = dy y
        rule("Exp", c -> unary(c, c.out(0)));
        // y = ln x  /  dx = dy / x
        rule("Log", c -> list(div(c, c.dOut(0), c.in(0))));
        // y = sqrt x  /  dx = dy / (2 y)
        rule("Sqrt", c -> list(div(c, c.dOut(0), mul(c, c.out(0), c.scalar(2, c.out(0))))));
        // y = 1 / x  /  dx = -dy y^2
        rule("Reciprocal", c -> list(neg(c, mul(c, c.dOut(0), square(c, c.out(0))))));
        // y = sin x / dx = dy cos x ; y = cos x / dx = -dy sin x ; y = tan x / dx = dy (1 + y^2)
        rule("Sin", c -> unary(c, c.op("Cos", NONE, c.in(0))));
        rule("Cos", c -> unary(c, neg(c, c.op("Sin", NONE, c.in(0)))));
        rule("Tan", c -> unary(c, add(c, c.scalar(1, c.out(0)), square(c, c.out(0)))));
        // y = asin x / dx = dy / sqrt(1 - x^2) ; y = acos x / dx = -dy / sqrt(1 - x^2) ; y = atan x / dx = dy / (1 + x^2)
        rule("Asin", c -> list(div(c, c.dOut(0), sqrt(c, sub(c, c.scalar(1, c.in(0)), square(c, c.in(0)))))));
        rule("Acos", c -> list(neg(c, div(c, c.dOut(0), sqrt(c, sub(c, c.scalar(1, c.in(0)), square(c, c.in(0))))))));
        rule("Atan", c -> list(div(c, c.dOut(0), add(c, c.scalar(1, c.in(0)), square(c, c.in(0))))));
        // y = sinh x / dx = dy cosh x ; y = cosh x / dx = dy sinh x
        rule("Sinh", c -> unary(c, c.op("Cosh", NONE, c.in(0))));
        rule("Cosh", c -> unary(c, c.op("Sinh", NONE, c.in(0))));
        // y = asinh x / dx = dy / sqrt(x^2 + 1) ; y = acosh x / dx = dy / sqrt(x^2 - 1) ; y = atanh x / dx = dy / (1 - x^2)
        rule("Asinh", c -> list(div(c, c.dOut(0), sqrt(c, add(c, square(c, c.in(0)), c.scalar(1, c.in(0)))))));
        rule("Acosh", c -> list(div(c, c.dOut(0), sqrt(c, sub(c, square(c, c.in(0)), c.scalar(1, c.in(0)))))));
        rule("Atanh", c -> list(div(c, c.dOut(0), sub(c, c.scalar(1, c.in(0)), square(c, c.in(0))))));
        // y = erf x  /  dx = dy 2/sqrt(pi) e^(-x^2)
        rule("Erf", c -> unary(c, mul(c, c.scalar(2 / Math.sqrt(Math.PI), c.in(0)),
                c.op("Exp", NONE, neg(c, square(c, c.in(0)))))));
    }

    private static void selection() {
        // y = where(cond, a, b)  /  da = sum_to(where(cond, dy, 0), a), db = sum_to(where(cond, 0, dy), b)
        rule("Where", c -> {
            Value zero = c.scalar(0, c.dOut(0));
            return list(null, reduced(c, 1, () -> where(c, c.in(0), c.dOut(0), zero)),
                    reduced(c, 2, () -> where(c, c.in(0), zero, c.dOut(0))));
        });
        // y = clip(x, lo, hi) = min(max(x, lo), hi)  /  torch.clamp's convention:
        //   dx = dy where lo <= x <= hi (the bounds pass the gradient)
        //   dlo = sum(dy where x < lo and lo < hi), dhi = sum(dy where x > hi or hi < lo); one bound alone: x < lo, x > hi
        rule("Clip", c -> {
            Value x = c.in(0), dy = c.dOut(0);
            boolean hasLo = c.node().hasInput(1), hasHi = c.node().hasInput(2);
            Value lo = hasLo ? c.in(1) : null, hi = hasHi ? c.in(2) : null;
            Value dx = null;
            if (c.needs(0)) {
                Value keep = hasLo ? c.op("GreaterOrEqual", NONE, x, lo) : null;
                if (hasHi) {
                    Value le = c.op("LessOrEqual", NONE, x, hi);
                    keep = keep == null ? le : and(c, keep, le);
                }
                dx = keep == null ? dy : pass(c, keep, dy);
            }
            Value dlo = reduced(c, 1, () -> pass(c, hasHi ? and(c, less(c, x, lo), less(c, lo, hi)) : less(c, x, lo), dy));
            Value dhi = reduced(c, 2, () -> pass(c, hasLo ? or(c, greater(c, x, hi), less(c, hi, lo)) : greater(c, x, hi), dy));
            return list(dx, dlo, dhi);
        });
        // y = cast(x)  /  dx = cast(dy) back to x's type (float to float only)
        rule("Cast", c -> list(floatToFloat(c) ? cast(c, c.dOut(0), c.dtypeOf(c.in(0))) : null));
        // y = castlike(x, like)  /  dx = cast(dy) back to x's type (float to float only); like gives only a type
        rule("CastLike", c -> list(floatToFloat(c) ? cast(c, c.dOut(0), c.dtypeOf(c.in(0))) : null, null));
        // y = max(a, b)  /  da = dy where a > b, dy/2 where a == b (torch.maximum), likewise db; min mirrors it;
        // more inputs: the tied winners share dy evenly (as torch's amax does)
        rule("Max", c -> extremum(c, "Less", "Greater"));
        rule("Min", c -> extremum(c, "Greater", "Less"));
    }

    private static boolean floatToFloat(GradContext c) {
        return c.dtypeOf(c.in(0)).isFloat() && c.dtypeOf(c.out(0)).isFloat();
    }

    /**
     * Max ({@code loses} = Less) and Min ({@code loses} = Greater). Two inputs follow torch.maximum exactly:
     * {@code da = where(a == b, dy / 2, dy).masked_fill(a loses to b, 0)} (a NaN input receives dy, as in torch). More
     * inputs: {@code dx_i = sum_to(dy [x_i == y] / #{j : x_j == y}, x_i)}.
     */
    private static List<Value> extremum(GradContext c, String loses, String wins) {
        int n = c.node().inputs().size();
        Value dy = c.dOut(0);
        if (n == 1) return list(dy);
        Value zero = c.scalar(0, dy);
        if (n == 2) {
            Value a = c.in(0), b = c.in(1);
            Value eq = equal(c, a, b);
            Value half = div(c, dy, c.scalar(2, dy));
            return list(reduced(c, 0, () -> where(c, c.op(loses, NONE, a, b), zero, where(c, eq, half, dy))),
                    reduced(c, 1, () -> where(c, c.op(wins, NONE, a, b), zero, where(c, eq, half, dy))));
        }
        Value y = c.out(0);
        DType t = c.dtypeOf(y);
        Value[] hit = new Value[n];
        Value count = null;
        for (int i = 0; i < n; i++) {
            hit[i] = cast(c, equal(c, c.in(i), y), t);
            count = count == null ? hit[i] : add(c, count, hit[i]);
        }
        Value share = div(c, dy, count);
        Value[] r = new Value[n];
        for (int i = 0; i < n; i++) {
            Value h = hit[i];
            r[i] = reduced(c, i, () -> mul(c, share, h));
        }
        return list(r);
    }
}
