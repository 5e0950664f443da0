package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.torture.grad.GradientCheck.Operand;
import dev.gale.torture.grad.GradientRulesTest.Case;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.torture.grad.GradientCheck.*;

/**
 * Gradient-check cases: elementwise math and activations. Every rule of {@code ElementwiseGradients} is checked on
 * inputs kept 0.02 away from the points where the op is not differentiable (central differences there give the
 * average of the one-sided slopes, not torch's convention; {@code ElementwiseGradientKinksTest} checks those points
 * exactly), every binary rule with broadcasting on one and on both sides and with one input frozen, and every case
 * again in float32 (the check then uses a larger step and a looser tolerance).
 */
final class GradientCasesElementwise {
    private GradientCasesElementwise() {}

    private static final Map<String, Attr> NO_ATTRS = Map.of();

    static List<Case> cases(Random r) {
        List<Case> c = new ArrayList<>();
        unaries(c, r);
        activations(c, r);
        binaries(c, r);
        selections(c, r);
        List<Case> all = new ArrayList<>(c);
        for (Case k : c) {
            Case f = float32(k);
            if (f != null) all.add(f);
        }
        casts(all, r);
        return all;
    }

    private static void unaries(List<Case> c, Random r) {
        for (String op : List.of("Neg", "Identity", "Relu", "Abs", "Sigmoid", "Tanh", "Exp", "Sin", "Cos", "Tan",
                "Sinh", "Cosh", "Asinh", "Atan", "Erf", "Softplus", "Softsign", "Mish", "Elu", "Selu", "Celu"))
            c.add(unary(op, x(r, 3, 4)));
        for (String op : List.of("Asin", "Acos", "Atanh")) c.add(unary(op, smooth(r, -0.9, 0.9, 3, 3)));
        c.add(unary("Acosh", smooth(r, 1.2, 3, 3, 3)));
        for (String op : List.of("Log", "Sqrt", "Reciprocal")) c.add(unary(op, smooth(r, 0.5, 2, 2, 3)));
        // Zero-gradient ops, on inputs away from every integer and half-integer (where they jump).
        for (String op : List.of("Sign", "Floor", "Ceil", "Round"))
            c.add(unary(op, smooth(r, -2.9, 2.9, halves(), 2, 4)));
        c.add(unary("Exp scalar", "Exp", x(r)));
        c.add(unary("Tanh rank 3", "Tanh", x(r, 2, 1, 3)));
    }

    private static void activations(List<Case> c, Random r) {
        c.add(new Case("LeakyRelu default alpha", "LeakyRelu", NO_ATTRS, List.of(x(r, 6)), 1));
        c.add(new Case("LeakyRelu alpha", "LeakyRelu", Map.of("alpha", Attr.of(0.2f)), List.of(x(r, 5)), 1));
        c.add(new Case("ThresholdedRelu alpha 0.1", "ThresholdedRelu", Map.of("alpha", Attr.of(0.1f)),
                List.of(smooth(r, -1, 1, new double[] {0.1}, 6)), 1));
        c.add(new Case("ThresholdedRelu default", "ThresholdedRelu", NO_ATTRS,
                List.of(smooth(r, -2, 2, new double[] {1}, 6)), 1));
        c.add(new Case("Elu alpha", "Elu", Map.of("alpha", Attr.of(0.5f)), List.of(x(r, 6)), 1));
        c.add(new Case("Celu alpha", "Celu", Map.of("alpha", Attr.of(2f)), List.of(smooth(r, -3, 3, zero(), 6)), 1));
        c.add(new Case("Selu alpha gamma", "Selu", Map.of("alpha", Attr.of(1.5f), "gamma", Attr.of(0.8f)),
                List.of(x(r, 6)), 1));
        c.add(new Case("HardSigmoid", "HardSigmoid", NO_ATTRS,
                List.of(smooth(r, -3, 3, new double[] {-2.5, 2.5}, 8)), 1));
        c.add(new Case("HardSigmoid alpha beta", "HardSigmoid", Map.of("alpha", Attr.of(0.5f), "beta", Attr.of(0.3f)),
                List.of(smooth(r, -2, 2, new double[] {-0.6, 1.4}, 8)), 1));
        c.add(new Case("HardSwish", "HardSwish", NO_ATTRS, List.of(smooth(r, -4, 4, new double[] {-3, 3}, 10)), 1));
        c.add(new Case("Shrink default", "Shrink", NO_ATTRS, List.of(smooth(r, -1, 1, new double[] {-0.5, 0.5}, 8)), 1));
        c.add(new Case("Shrink bias lambd", "Shrink", Map.of("bias", Attr.of(0.2f), "lambd", Attr.of(0.3f)),
                List.of(smooth(r, -1, 1, new double[] {-0.3, 0.3}, 8)), 1));
        c.add(new Case("Gelu", "Gelu", NO_ATTRS, List.of(smooth(r, -3, 3, zero(), 2, 5)), 1));
        c.add(new Case("Gelu tanh", "Gelu", Map.of("approximate", Attr.of("tanh")),
                List.of(smooth(r, -3, 3, zero(), 2, 5)), 1));
        c.add(new Case("PRelu channel slope", "PRelu", NO_ATTRS, List.of(x(r, 2, 3, 2), x(r, 3, 1)), 1));
        c.add(new Case("PRelu slope [1]", "PRelu", NO_ATTRS, List.of(x(r, 2, 3), x(r, 1)), 1));
        c.add(new Case("PRelu slope scalar", "PRelu", NO_ATTRS, List.of(x(r, 4), x(r)), 1));
        c.add(new Case("PRelu same shape", "PRelu", NO_ATTRS, List.of(x(r, 2, 3), x(r, 2, 3)), 1));
        c.add(new Case("PRelu frozen slope", "PRelu", NO_ATTRS, List.of(x(r, 2, 3), frozen(x(r, 3))), 1));
        c.add(new Case("PRelu frozen x", "PRelu", NO_ATTRS, List.of(frozen(x(r, 2, 3)), x(r, 3)), 1));
    }

    private static void binaries(List<Case> c, Random r) {
        // Each arithmetic op: same shape, one side broadcast, both sides broadcast, a scalar, one input frozen.
        for (String op : List.of("Add", "Sub", "Mul", "Div")) {
            boolean div = op.equals("Div");
            c.add(binary(op + " same shape", op, x(r, 2, 3), rhs(r, div, 2, 3)));
            c.add(binary(op + " broadcast rhs", op, x(r, 2, 3), rhs(r, div, 3)));
            c.add(binary(op + " broadcast lhs", op, x(r, 1, 3), rhs(r, div, 2, 3)));
            c.add(binary(op + " broadcast both", op, x(r, 3, 1), rhs(r, div, 1, 4)));
            c.add(binary(op + " rank 3 by rank 2", op, x(r, 2, 1, 4), rhs(r, div, 3, 1)));
            c.add(binary(op + " scalar rhs", op, x(r, 2, 3), rhs(r, div)));
            c.add(binary(op + " scalar lhs", op, x(r), rhs(r, div, 2, 3)));
            c.add(binary(op + " frozen lhs", op, frozen(x(r, 2, 3)), rhs(r, div, 3)));
            c.add(binary(op + " frozen rhs", op, x(r, 2, 3), frozen(rhs(r, div, 3))));
        }
        c.add(binary("Pow", "Pow", positive(r, 2, 3), x(r, 2, 3)));
        c.add(binary("Pow broadcast exponent", "Pow", positive(r, 2, 3), x(r, 3)));
        c.add(binary("Pow broadcast both", "Pow", positive(r, 3, 1), x(r, 1, 2)));
        c.add(binary("Pow scalar base", "Pow", positive(r), x(r, 2, 2)));
        c.add(binary("Pow frozen exponent", "Pow", positive(r, 4), fixed(Tensor.scalar(DType.FLOAT64, 3))));
        c.add(binary("Pow frozen base", "Pow", frozen(positive(r, 3)), x(r, 2, 3)));
        c.add(binary("Pow int64 exponent, negative base", "Pow", signed(r, 2, 3),
                fixed(Tensor.ofLongs(new long[] {3}, 2, 3, -1))));
        c.add(binary("Pow int32 exponent", "Pow", signed(r, 4), fixed(Tensor.ofInts(new long[] {}, 4))));
        c.add(binary("Pow float32 exponent", "Pow", positive(r, 2, 3), new Operand(convert(x(r, 3).value(), DType.FLOAT32), true)));
        for (long fmod = 0; fmod <= 1; fmod++) {
            Map<String, Attr> a = Map.of("fmod", Attr.of(fmod));
            String n = "Mod fmod " + fmod;
            c.add(new Case(n, "Mod", a, mod(r, new long[] {2, 3}, new long[] {2, 3}), 1));
            c.add(new Case(n + " broadcast rhs", "Mod", a, mod(r, new long[] {2, 3}, new long[] {3}), 1));
            c.add(new Case(n + " broadcast both", "Mod", a, mod(r, new long[] {3, 1}, new long[] {1, 4}), 1));
            List<Operand> frozenB = mod(r, new long[] {2, 3}, new long[] {3});
            c.add(new Case(n + " frozen divisor", "Mod", a, List.of(frozenB.get(0), frozen(frozenB.get(1))), 1));
        }
        c.add(new Case("Sum of one", "Sum", NO_ATTRS, List.of(x(r, 2, 3)), 1));
        c.add(new Case("Sum broadcast", "Sum", NO_ATTRS, List.of(x(r, 2, 3), x(r, 3), x(r, 1)), 1));
        c.add(new Case("Sum broadcast, one frozen", "Sum", NO_ATTRS, List.of(x(r, 3, 1), frozen(x(r, 1, 4)), x(r)), 1));
        c.add(new Case("Mean of one", "Mean", NO_ATTRS, List.of(x(r, 4)), 1));
        c.add(new Case("Mean broadcast", "Mean", NO_ATTRS, List.of(x(r, 2, 3), x(r, 3)), 1));
        c.add(new Case("Mean broadcast both", "Mean", NO_ATTRS, List.of(x(r, 3, 1), x(r, 1, 2), x(r, 2, 1, 1)), 1));
    }

    private static void selections(List<Case> c, Random r) {
        Tensor cond = Tensor.ofBools(new long[] {2, 3}, true, false, true, false, false, true);
        c.add(new Case("Where", "Where", NO_ATTRS, List.of(fixed(cond), x(r, 2, 3), x(r, 2, 3)), 1));
        c.add(new Case("Where broadcast y", "Where", NO_ATTRS, List.of(fixed(cond), x(r, 2, 3), x(r, 3)), 1));
        c.add(new Case("Where broadcast all", "Where", NO_ATTRS,
                List.of(fixed(Tensor.ofBools(new long[] {3}, true, false, true)), x(r, 2, 1), x(r)), 1));
        c.add(new Case("Where frozen x", "Where", NO_ATTRS, List.of(fixed(cond), frozen(x(r, 2, 3)), x(r, 1, 3)), 1));

        double[] bounds = {-0.5, 0.5};
        Operand lo = fixed(Tensor.scalar(DType.FLOAT64, -0.5)), hi = fixed(Tensor.scalar(DType.FLOAT64, 0.5));
        c.add(new Case("Clip", "Clip", NO_ATTRS, List.of(smooth(r, -1, 1, bounds, 10), lo, hi), 1));
        c.add(new Case("Clip min only", "Clip", NO_ATTRS, List.of(smooth(r, -1, 1, bounds, 8), lo), 1));
        List<Operand> maxOnly = new ArrayList<>(Arrays.asList(smooth(r, -1, 1, bounds, 8), null, hi));
        c.add(new Case("Clip max only", "Clip", NO_ATTRS, maxOnly, 1));
        c.add(new Case("Clip no bounds", "Clip", NO_ATTRS, List.of(x(r, 5)), 1));
        c.add(new Case("Clip trainable bounds", "Clip", NO_ATTRS, List.of(smooth(r, -1, 1, bounds, 10),
                new Operand(Tensor.scalar(DType.FLOAT64, -0.5), true), new Operand(Tensor.scalar(DType.FLOAT64, 0.5), true)), 1));
        c.add(new Case("Clip trainable [1]-shaped min only", "Clip", NO_ATTRS, List.of(smooth(r, -1, 1, bounds, 8),
                new Operand(Tensor.ofDoubles(new long[] {1}, -0.5), true)), 1));
        List<Operand> trainMax = new ArrayList<>(Arrays.asList(smooth(r, -1, 1, bounds, 8), null,
                new Operand(Tensor.scalar(DType.FLOAT64, 0.5), true)));
        c.add(new Case("Clip trainable max only", "Clip", NO_ATTRS, trainMax, 1));
        c.add(new Case("Clip min above max", "Clip", NO_ATTRS, List.of(smooth(r, -1, 1, bounds, 8),
                new Operand(Tensor.scalar(DType.FLOAT64, 0.5), true), new Operand(Tensor.scalar(DType.FLOAT64, -0.5), true)), 1));

        for (String op : List.of("Max", "Min")) {
            c.add(new Case(op + " of one", op, NO_ATTRS, List.of(x(r, 2, 3)), 1));
            c.add(new Case(op + " same shape", op, NO_ATTRS, List.of(x(r, 2, 3), x(r, 2, 3)), 1));
            c.add(new Case(op + " broadcast rhs", op, NO_ATTRS, List.of(x(r, 2, 3), x(r, 3)), 1));
            c.add(new Case(op + " broadcast both", op, NO_ATTRS, List.of(x(r, 3, 1), x(r, 1, 4)), 1));
            c.add(new Case(op + " frozen rhs", op, NO_ATTRS, List.of(x(r, 2, 3), frozen(x(r, 3))), 1));
            c.add(new Case(op + " three inputs", op, NO_ATTRS, List.of(x(r, 2, 3), x(r, 3), x(r, 2, 1)), 1));
            c.add(new Case(op + " four inputs, one frozen", op, NO_ATTRS,
                    List.of(x(r, 2, 2), frozen(x(r, 2)), x(r, 2, 1), x(r)), 1));
            // Two-way ties: central differences give each tied input half, as the even split does.
            Tensor a = Tensor.ofDoubles(new long[] {2, 3}, 0.3, -0.2, 0.5, 0.1, 0.7, -0.4);
            Tensor b = Tensor.ofDoubles(new long[] {3}, 0.3, 0.7, 0.0);
            c.add(new Case(op + " two-way ties, broadcast", op, NO_ATTRS,
                    List.of(new Operand(a, true), new Operand(b, true)), 1));
            Tensor d = Tensor.ofDoubles(new long[] {2, 3}, 0.9, 0.7, -0.9, 0.2, -0.6, 0.6);
            c.add(new Case(op + " three inputs, two-way ties", op, NO_ATTRS,
                    List.of(new Operand(a, true), new Operand(b, true), new Operand(d, true)), 1));
        }
    }

    /** Casts between float types: the gradient is cast back; the narrower side uses the float32 tolerance. */
    private static void casts(List<Case> c, Random r) {
        for (DType from : List.of(DType.FLOAT64, DType.FLOAT32))
            for (DType to : List.of(DType.FLOAT64, DType.FLOAT32)) {
                String n = from + "->" + to;
                c.add(new Case("Cast " + n, "Cast", Map.of("to", Attr.of((long) to.onnxCode())),
                        List.of(new Operand(convert(x(r, 2, 3).value(), from), true)), 1));
                c.add(new Case("CastLike " + n, "CastLike", NO_ATTRS,
                        List.of(new Operand(convert(x(r, 2, 3).value(), from), true), fixed(Tensor.zeros(to, 1))), 1));
            }
    }

    // ---- operands ---------------------------------------------------------------------------------------------------

    private static Case unary(String op, Operand x) { return unary(op, op, x); }

    private static Case unary(String name, String op, Operand x) { return new Case(name, op, NO_ATTRS, List.of(x), 1); }

    private static Case binary(String name, String op, Operand a, Operand b) {
        return new Case(name, op, NO_ATTRS, List.of(a, b), 1);
    }

    private static double[] zero() { return new double[] {0}; }

    private static double[] halves() {
        double[] k = new double[13];
        for (int i = 0; i < k.length; i++) k[i] = -3 + 0.5 * i;
        return k;
    }

    /** A trainable float64 operand in [-1, 1], 0.02 away from 0. */
    private static Operand x(Random r, long... shape) { return smooth(r, -1, 1, zero(), shape); }

    private static Operand smooth(Random r, double lo, double hi, long... shape) {
        return smooth(r, lo, hi, new double[0], shape);
    }

    /** A trainable float64 operand in [lo, hi] with every element at least 0.02 away from each of {@code kinks}. */
    private static Operand smooth(Random r, double lo, double hi, double[] kinks, long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT64, shape);
        for (int i = 0; i < t.numel(); i++) {
            double v;
            do v = lo + (hi - lo) * r.nextDouble();
            while (near(v, kinks));
            t.setDouble(i, v);
        }
        return new Operand(t, true);
    }

    private static boolean near(double v, double[] kinks) {
        for (double k : kinks) if (Math.abs(v - k) < 0.02) return true;
        return false;
    }

    /** A trainable float64 operand with magnitudes in [0.5, 1.5] and random signs. */
    private static Operand signed(Random r, long... shape) {
        Tensor t = random(r, 0.5, 1.5, shape);
        for (int i = 0; i < t.numel(); i++) if (r.nextBoolean()) t.setDouble(i, -t.getDouble(i));
        return new Operand(t, true);
    }

    /** A divisor operand: positive for Div, else like {@link #x}. */
    private static Operand rhs(Random r, boolean div, long... shape) {
        return div ? smooth(r, 0.5, 2, shape) : x(r, shape);
    }

    private static Operand frozen(Operand o) { return fixed(o.value()); }

    /**
     * Mod operands a in [-3, 3] and divisors of either sign in [0.5, 2], redrawn until a / b is at least 0.05 away
     * from an integer for every broadcast pair (Mod jumps where a / b crosses one).
     */
    private static List<Operand> mod(Random r, long[] as, long[] bs) {
        while (true) {
            Tensor a = random(r, -3, 3, as), b = random(r, 0.5, 2, bs);
            for (int i = 0; i < b.numel(); i++) if (r.nextBoolean()) b.setDouble(i, -b.getDouble(i));
            if (smoothMod(a, b)) return List.of(new Operand(a, true), new Operand(b, true));
        }
    }

    /** Whether a / b stays 0.05 away from an integer for all pairs of the broadcast (ranks 2 here). */
    private static boolean smoothMod(Tensor a, Tensor b) {
        long[] sa = pad2(a.shape()), sb = pad2(b.shape());
        long rows = Math.max(sa[0], sb[0]), cols = Math.max(sa[1], sb[1]);
        for (long i = 0; i < rows; i++)
            for (long j = 0; j < cols; j++) {
                double q = a.getDouble((int) ((i % sa[0]) * sa[1] + j % sa[1]))
                        / b.getDouble((int) ((i % sb[0]) * sb[1] + j % sb[1]));
                if (Math.abs(q - Math.rint(q)) < 0.05) return false;
            }
        return true;
    }

    private static long[] pad2(long[] s) { return s.length == 2 ? s : new long[] {1, s.length == 1 ? s[0] : 1}; }

    /** The case with its float64 tensors in float32, or null when it already mixes types. */
    private static Case float32(Case k) {
        List<Operand> ops = new ArrayList<>();
        for (Operand o : k.operands()) {
            if (o == null) {
                ops.add(null);
                continue;
            }
            DType t = o.value().dtype();
            if (t.isFloat() && t != DType.FLOAT64) return null;
            ops.add(t == DType.FLOAT64 ? new Operand(convert(o.value(), DType.FLOAT32), o.trainable()) : o);
        }
        return new Case(k.name() + " f32", k.op(), k.attrs(), ops, k.outputs());
    }
}
