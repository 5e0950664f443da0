package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Value;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.Gradients.rule;

/** Gradient rules: elementwise math and activations. Each rule reads as forward / backward. */
final class ElementwiseGradients {
    private ElementwiseGradients() {}

    static final Map<String, Attr> NONE = Map.of();

    static List<Value> list(Value... v) { return Arrays.asList(v); }

    static Value mul(GradContext c, Value a, Value b) { return c.op("Mul", NONE, a, b); }

    static Value div(GradContext c, Value a, Value b) { return c.op("Div", NONE, a, b); }

    static Value add(GradContext c, Value a, Value b) { return c.op("Add", NONE, a, b); }

    static Value sub(GradContext c, Value a, Value b) { return c.op("Sub", NONE, a, b); }

    static Value neg(GradContext c, Value a) { return c.op("Neg", NONE, a); }

    /** {@code dy * f} for a unary op whose derivative is {@code f}. */
    static List<Value> unary(GradContext c, Value derivative) { return list(mul(c, c.dOut(0), derivative)); }

    /** {@code where(cond, a, b)} with a bool condition. */
    static Value where(GradContext c, Value cond, Value a, Value b) { return c.op("Where", NONE, cond, a, b); }

    static Value cast(GradContext c, Value v, DType to) { return c.op("Cast", Map.of("to", Attr.of((long) to.onnxCode())), v); }

    static void attach() {
        // y = a + b  /  da = sum_to(dy, a), db = sum_to(dy, b)
        rule("Add", c -> list(c.sumToShapeOf(c.dOut(0), c.in(0)), c.sumToShapeOf(c.dOut(0), c.in(1))));
        // y = a - b  /  da = sum_to(dy, a), db = sum_to(-dy, b)
        rule("Sub", c -> list(c.sumToShapeOf(c.dOut(0), c.in(0)),
                c.needs(1) ? c.sumToShapeOf(neg(c, c.dOut(0)), c.in(1)) : null));
        // y = a * b  /  da = sum_to(dy * b, a), db = sum_to(dy * a, b)
        rule("Mul", c -> list(c.needs(0) ? c.sumToShapeOf(mul(c, c.dOut(0), c.in(1)), c.in(0)) : null,
                c.needs(1) ? c.sumToShapeOf(mul(c, c.dOut(0), c.in(0)), c.in(1)) : null));
        // y = a / b  /  da = sum_to(dy / b, a), db = sum_to(-dy * y / b, b)
        rule("Div", c -> list(c.needs(0) ? c.sumToShapeOf(div(c, c.dOut(0), c.in(1)), c.in(0)) : null,
                c.needs(1) ? c.sumToShapeOf(neg(c, div(c, mul(c, c.dOut(0), c.out(0)), c.in(1))), c.in(1)) : null));
        // y = -x  /  dx = -dy
        rule("Neg", c -> list(neg(c, c.dOut(0))));
        // y = x  /  dx = dy
        rule("Identity", c -> list(c.dOut(0)));
        // y = relu(x)  /  dx = dy where x > 0, else 0
        rule("Relu", c -> list(where(c, c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                c.scalar(0, c.dOut(0)))));
        // y = x if x > 0 else alpha x  /  dx = dy if x > 0 else alpha dy
        rule("LeakyRelu", c -> list(where(c, c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                mul(c, c.dOut(0), c.scalar(c.attrFloat("alpha"), c.dOut(0))))));
        // y = x if x > alpha else 0  /  dx = dy if x > alpha else 0
        rule("ThresholdedRelu", c -> list(where(c, c.op("Greater", NONE, c.in(0), c.scalar(c.attrFloat("alpha"), c.in(0))),
                c.dOut(0), c.scalar(0, c.dOut(0)))));
        // y = x > 0 ? x : alpha (e^x - 1)  /  dx = dy if x > 0 else dy (y + alpha)
        rule("Elu", c -> list(where(c, c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                mul(c, c.dOut(0), add(c, c.out(0), c.scalar(c.attrFloat("alpha"), c.in(0)))))));
        // y = gamma (x > 0 ? x : alpha (e^x - 1))  /  dx = dy gamma if x > 0 else dy (y + gamma alpha)
        rule("Selu", c -> {
            double a = c.attrFloat("alpha"), g = c.attrFloat("gamma");
            return list(where(c, c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0))), mul(c, c.dOut(0), c.scalar(g, c.in(0))),
                    mul(c, c.dOut(0), add(c, c.out(0), c.scalar(g * a, c.in(0))))));
        });
        // y = max(0, x) + min(0, alpha (e^(x/alpha) - 1))  /  dx = dy if x > 0 else dy e^(x/alpha)
        rule("Celu", c -> list(where(c, c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                mul(c, c.dOut(0), c.op("Exp", NONE, div(c, c.in(0), c.scalar(c.attrFloat("alpha"), c.in(0))))))));
        // y = x < 0 ? slope x : x  /  dx = dy where x > 0 else slope dy; dslope = sum_to(dy x where x <= 0)
        rule("PRelu", c -> {
            Value pos = c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0)));
            Value dx = c.needs(0) ? where(c, pos, c.dOut(0), mul(c, c.dOut(0), c.in(1))) : null;
            Value ds = c.needs(1) ? c.sumToShapeOf(where(c, pos, c.scalar(0, c.dOut(0)), mul(c, c.dOut(0), c.in(0))),
                    c.in(1)) : null;
            return list(dx, c.needs(1) ? ds : null);
        });
        // y = sigmoid(x)  /  dx = dy y (1 - y)
        rule("Sigmoid", c -> unary(c, mul(c, c.out(0), sub(c, c.scalar(1, c.out(0)), c.out(0)))));
        // y = tanh(x)  /  dx = dy (1 - y^2)
        rule("Tanh", c -> unary(c, sub(c, c.scalar(1, c.out(0)), mul(c, c.out(0), c.out(0)))));
        // y = e^x  /  dx = dy y
        rule("Exp", c -> unary(c, c.out(0)));
        // y = ln x  /  dx = dy / x
        rule("Log", c -> list(div(c, c.dOut(0), c.in(0))));
        // y = sqrt x  /  dx = dy / (2 y)
        rule("Sqrt", c -> list(div(c, c.dOut(0), mul(c, c.out(0), c.scalar(2, c.out(0))))));
        // y = 1 / x  /  dx = -dy y^2
        rule("Reciprocal", c -> list(neg(c, mul(c, c.dOut(0), mul(c, c.out(0), c.out(0))))));
        // y = |x|  /  dx = dy sign(x)
        rule("Abs", c -> unary(c, c.op("Sign", NONE, c.in(0))));
        // y = sin x  /  dx = dy cos x ; y = cos x / dx = -dy sin x ; y = tan x / dx = dy (1 + y^2)
        rule("Sin", c -> unary(c, c.op("Cos", NONE, c.in(0))));
        rule("Cos", c -> unary(c, neg(c, c.op("Sin", NONE, c.in(0)))));
        rule("Tan", c -> unary(c, add(c, c.scalar(1, c.out(0)), mul(c, c.out(0), c.out(0)))));
        // y = sinh x / dx = dy cosh x ; y = cosh x / dx = dy sinh x
        rule("Sinh", c -> unary(c, c.op("Cosh", NONE, c.in(0))));
        rule("Cosh", c -> unary(c, c.op("Sinh", NONE, c.in(0))));
        // y = erf x  /  dx = dy 2/sqrt(pi) e^(-x^2)
        rule("Erf", c -> unary(c, mul(c, c.scalar(2 / Math.sqrt(Math.PI), c.in(0)),
                c.op("Exp", NONE, neg(c, mul(c, c.in(0), c.in(0)))))));
        // y = ln(1 + e^x)  /  dx = dy sigmoid(x)
        rule("Softplus", c -> unary(c, c.op("Sigmoid", NONE, c.in(0))));
        // y = x / (1 + |x|)  /  dx = dy / (1 + |x|)^2
        rule("Softsign", c -> {
            Value d = add(c, c.scalar(1, c.in(0)), c.op("Abs", NONE, c.in(0)));
            return list(div(c, c.dOut(0), mul(c, d, d)));
        });
        // y = max(0, min(1, alpha x + beta))  /  dx = dy alpha where 0 < alpha x + beta < 1
        rule("HardSigmoid", c -> {
            Value z = add(c, mul(c, c.in(0), c.scalar(c.attrFloat("alpha"), c.in(0))), c.scalar(c.attrFloat("beta"), c.in(0)));
            Value inside = c.op("And", NONE, c.op("Greater", NONE, z, c.scalar(0, z)), c.op("Less", NONE, z, c.scalar(1, z)));
            return list(where(c, inside, mul(c, c.dOut(0), c.scalar(c.attrFloat("alpha"), c.in(0))), c.scalar(0, c.dOut(0))));
        });
        // y = x hardsigmoid(x; 1/6, 1/2)  /  dx = dy (x/3 + 1/2) on (-3, 3), dy for x >= 3, 0 below
        rule("HardSwish", c -> {
            Value x = c.in(0);
            Value mid = add(c, div(c, x, c.scalar(3, x)), c.scalar(0.5, x));
            Value d = where(c, c.op("Less", NONE, x, c.scalar(-3, x)), c.scalar(0, x),
                    where(c, c.op("Less", NONE, x, c.scalar(3, x)), mid, c.scalar(1, x)));
            return unary(c, d);
        });
        // y = gelu(x)  /  dx = dy (Phi(x) + x phi(x)); tanh form: derivative of 0.5 x (1 + tanh(k (x + 0.044715 x^3)))
        rule("Gelu", c -> {
            Value x = c.in(0);
            if (c.attrString("approximate").equals("tanh")) {
                double k = Math.sqrt(2 / Math.PI);
                Value x2 = mul(c, x, x);
                Value inner = mul(c, c.scalar(k, x), add(c, x, mul(c, c.scalar(0.044715, x), mul(c, x2, x))));
                Value t = c.op("Tanh", NONE, inner);
                Value dinner = mul(c, c.scalar(k, x), add(c, c.scalar(1, x), mul(c, c.scalar(3 * 0.044715, x), x2)));
                Value d = add(c, mul(c, c.scalar(0.5, x), add(c, c.scalar(1, x), t)),
                        mul(c, mul(c, c.scalar(0.5, x), x), mul(c, sub(c, c.scalar(1, x), mul(c, t, t)), dinner)));
                return unary(c, d);
            }
            Value cdf = mul(c, c.scalar(0.5, x), add(c, c.scalar(1, x), c.op("Erf", NONE, mul(c, x, c.scalar(1 / Math.sqrt(2), x)))));
            Value pdf = mul(c, c.scalar(1 / Math.sqrt(2 * Math.PI), x),
                    c.op("Exp", NONE, mul(c, c.scalar(-0.5, x), mul(c, x, x))));
            return unary(c, add(c, cdf, mul(c, x, pdf)));
        });
        // y = a^b  /  da = sum_to(dy b a^(b-1), a), db = sum_to(dy y ln a, b)
        rule("Pow", c -> {
            Value a = c.in(0), b = c.in(1);
            Value bf = c.dtypeOf(b) == c.dtypeOf(a) ? b : cast(c, b, c.dtypeOf(a));
            Value da = c.needs(0) ? c.sumToShapeOf(mul(c, c.dOut(0), mul(c, bf,
                    c.op("Pow", NONE, a, sub(c, bf, c.scalar(1, bf))))), a) : null;
            Value db = c.needs(1) ? c.sumToShapeOf(mul(c, c.dOut(0), mul(c, c.out(0), c.op("Log", NONE, a))), b) : null;
            return list(da, db);
        });
        // y = where(c, a, b)  /  da = sum_to(where(c, dy, 0), a), db = sum_to(where(c, 0, dy), b)
        rule("Where", c -> {
            Value zero = c.scalar(0, c.dOut(0));
            return list(null, c.needs(1) ? c.sumToShapeOf(where(c, c.in(0), c.dOut(0), zero), c.in(1)) : null,
                    c.needs(2) ? c.sumToShapeOf(where(c, c.in(0), zero, c.dOut(0)), c.in(2)) : null);
        });
        // y = clip(x, lo, hi)  /  dx = dy where lo <= x <= hi (torch.clamp's convention)
        rule("Clip", c -> {
            Value x = c.in(0);
            Value keep = null;
            if (c.node().hasInput(1)) keep = c.op("GreaterOrEqual", NONE, x, c.in(1));
            if (c.node().hasInput(2)) {
                Value le = c.op("LessOrEqual", NONE, x, c.in(2));
                keep = keep == null ? le : c.op("And", NONE, keep, le);
            }
            return list(keep == null ? c.dOut(0) : where(c, keep, c.dOut(0), c.scalar(0, c.dOut(0))));
        });
        // y = cast(x)  /  dx = cast(dy) back to x's type (float to float only)
        rule("Cast", c -> list(c.dtypeOf(c.in(0)).isFloat() ? cast(c, c.dOut(0), c.dtypeOf(c.in(0))) : null));
        // y = max(a, b)  /  da = dy where a > b, dy/2 where a == b (torch.maximum), likewise db; min mirrors it
        rule("Max", c -> extremum(c, "Greater"));
        rule("Min", c -> extremum(c, "Less"));
        // y = sum(x_i)  /  dx_i = sum_to(dy, x_i) ; y = mean(x_i) / dx_i = sum_to(dy / n, x_i)
        rule("Sum", c -> {
            Value[] r = new Value[c.node().inputs().size()];
            for (int i = 0; i < r.length; i++) r[i] = c.needs(i) ? c.sumToShapeOf(c.dOut(0), c.in(i)) : null;
            return list(r);
        });
        rule("Mean", c -> {
            int n = c.node().inputs().size();
            Value d = div(c, c.dOut(0), c.scalar(n, c.dOut(0)));
            Value[] r = new Value[n];
            for (int i = 0; i < n; i++) r[i] = c.needs(i) ? c.sumToShapeOf(d, c.in(i)) : null;
            return list(r);
        });
    }

    private static List<Value> extremum(GradContext c, String wins) {
        int n = c.node().inputs().size();
        if (n == 1) return list(c.dOut(0));
        if (n != 2) throw c.error("gradients of " + c.node().op() + " with more than two inputs are not supported");
        Value a = c.in(0), b = c.in(1), dy = c.dOut(0), zero = c.scalar(0, dy);
        Value half = div(c, dy, c.scalar(2, dy));
        Value eq = c.op("Equal", NONE, a, b);
        Value da = where(c, eq, half, where(c, c.op(wins, NONE, a, b), dy, zero));
        Value db = where(c, eq, half, where(c, c.op(wins, NONE, b, a), dy, zero));
        return list(c.needs(0) ? c.sumToShapeOf(da, a) : null, c.needs(1) ? c.sumToShapeOf(db, b) : null);
    }
}
