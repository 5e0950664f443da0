package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: elementwise math, activations, comparisons, logic, bit operations and casts. Floating-point
 * ops evaluate in float64 and round once to the element type; integer ops are exact with wrap-around. uint64 values
 * travel as raw 64-bit patterns, so its division, remainder, comparisons and shifts use the unsigned methods.
 */
final class ElementwiseKernels {
    private ElementwiseKernels() {}

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    static void registerAll() {
        unary("Acos", Math::acos);
        unary("Acosh", ScalarMath::acosh);
        unary("Asin", Math::asin);
        unary("Asinh", ScalarMath::asinh);
        unary("Atan", Math::atan);
        unary("Atanh", ScalarMath::atanh);
        unary("Ceil", Math::ceil);
        unary("Cos", Math::cos);
        unary("Cosh", Math::cosh);
        unary("Erf", ScalarMath::erf);
        unary("Exp", Math::exp);
        unary("Floor", Math::floor);
        unary("Log", Math::log);
        unary("Reciprocal", x -> 1 / x);
        unary("Round", Math::rint); // half to even
        unary("Sigmoid", ScalarMath::sigmoid);
        unary("Sin", Math::sin);
        unary("Sinh", Math::sinh);
        unary("Softplus", ScalarMath::softplus);
        unary("Softsign", x -> x / (1 + Math.abs(x)));
        unary("Sqrt", Math::sqrt);
        unary("Tan", Math::tan);
        unary("Tanh", Math::tanh);
        unary("HardSwish", x -> x * Math.max(0, Math.min(1, x / 6 + 0.5)));
        unary("Mish", x -> x * Math.tanh(ScalarMath.softplus(x)));

        register("Abs", Kernel.single(c -> {
            Tensor x = c.required(0);
            return x.dtype().isSigned() ? Elementwise.map(x, Math::abs, Math::abs) : x;
        }));
        register("Neg", Kernel.single(c -> Elementwise.map(c.required(0), x -> -x, x -> -x)));
        register("Relu", Kernel.single(c -> Elementwise.map(c.required(0), x -> x > 0 ? x : 0, x -> x > 0 ? x : 0)));
        register("Sign", Kernel.single(c -> {
            Tensor x = c.required(0);
            return Elementwise.map(x, Math::signum, x.dtype().isSigned() ? Long::signum : v -> v != 0 ? 1 : 0);
        }));
        register("Not", Kernel.single(c -> Elementwise.map(c.required(0), x -> x == 0 ? 1 : 0, x -> x == 0 ? 1 : 0)));
        register("BitwiseNot", Kernel.single(c -> {
            Tensor x = c.required(0);
            if (!x.dtype().isInteger()) throw c.error("needs an integer input, got " + x.dtype());
            return Elementwise.map(x, v -> v, v -> ~v);
        }));

        registerActivations();
        registerBinary();
        registerVariadic();

        register("IsNaN", Kernel.single(c -> Elementwise.test(c.required(0), Double::isNaN)));
        register("IsInf", Kernel.single(c -> {
            boolean neg = c.attrInt("detect_negative") != 0, pos = c.attrInt("detect_positive") != 0;
            return Elementwise.test(c.required(0), x -> x == Double.POSITIVE_INFINITY && pos
                    || x == Double.NEGATIVE_INFINITY && neg);
        }));
        register("Where", Kernel.single(c -> Elementwise.select(c.required(0), c.required(1), c.required(2))));
        register("Clip", Kernel.single(ElementwiseKernels::clip));
        register("Cast", Kernel.single(c -> {
            DType to;
            try {
                to = DType.fromOnnx((int) c.attrInt("to"));
            } catch (GaleException e) {
                throw c.error("attribute 'to' = " + c.attrInt("to") + " is not a supported element type");
            }
            return cast(c, c.required(0), to);
        }));
        register("CastLike", Kernel.single(c -> cast(c, c.required(0), c.required(1).dtype())));
    }

    /** Activations with attributes; formulas as in the ONNX operator docs. */
    private static void registerActivations() {
        register("Celu", Kernel.single(c -> {
            double alpha = c.attrFloat("alpha");
            return Elementwise.map(c.required(0), x -> Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha)));
        }));
        register("Elu", Kernel.single(c -> {
            double alpha = c.attrFloat("alpha");
            return Elementwise.map(c.required(0), x -> x < 0 ? alpha * Math.expm1(x) : x);
        }));
        register("Selu", Kernel.single(c -> {
            double alpha = c.attrFloat("alpha"), gamma = c.attrFloat("gamma");
            return Elementwise.map(c.required(0), x -> x > 0 ? gamma * x : gamma * alpha * Math.expm1(x));
        }));
        register("HardSigmoid", Kernel.single(c -> {
            double alpha = c.attrFloat("alpha"), beta = c.attrFloat("beta");
            return Elementwise.map(c.required(0), x -> Math.max(0, Math.min(1, alpha * x + beta)));
        }));
        register("LeakyRelu", Kernel.single(c -> {
            double alpha = c.attrFloat("alpha");
            return Elementwise.map(c.required(0), x -> x >= 0 ? x : alpha * x);
        }));
        register("ThresholdedRelu", Kernel.single(c -> {
            double alpha = c.attrFloat("alpha");
            return Elementwise.map(c.required(0), x -> x > alpha ? x : 0);
        }));
        register("Shrink", Kernel.single(c -> {
            double bias = c.attrFloat("bias"), lambd = c.attrFloat("lambd");
            return Elementwise.map(c.required(0), x -> x < -lambd ? x + bias : x > lambd ? x - bias : 0);
        }));
        register("Gelu", Kernel.single(c -> {
            String mode = c.attrString("approximate");
            DoubleUnaryOperator f = switch (mode) {
                // 0.5 x (1 + erf(x / sqrt 2)), written with erfc so that very negative x keeps its precision
                case "none" -> x -> 0.5 * x * ScalarMath.erfc(-x / Math.sqrt(2));
                case "tanh" -> x -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
                default -> throw c.error("attribute 'approximate' must be \"none\" or \"tanh\", got \"" + mode + "\"");
            };
            return Elementwise.map(c.required(0), f);
        }));
    }

    private static void registerBinary() {
        register("Add", Kernel.single(c -> zip(c, Double::sum, Long::sum)));
        register("Sub", Kernel.single(c -> zip(c, (a, b) -> a - b, (a, b) -> a - b)));
        register("Mul", Kernel.single(c -> zip(c, (a, b) -> a * b, (a, b) -> a * b)));
        register("Div", Kernel.single(c -> {
            boolean u64 = c.required(0).dtype() == DType.UINT64;
            return zip(c, (a, b) -> a / b, (a, b) -> {
                if (b == 0) throw c.error("integer division by zero");
                return u64 ? Long.divideUnsigned(a, b) : a / b; // truncates toward zero, like C
            });
        }));
        register("Mod", Kernel.single(c -> {
            // Floats should come with fmod=1 (C's fmod); fmod=0 on floats is read as numpy's np.mod (divisor's sign).
            boolean fmod = c.attrInt("fmod") != 0, u64 = c.required(0).dtype() == DType.UINT64;
            return zip(c, fmod ? (a, b) -> a % b : ElementwiseKernels::flooredMod, (a, b) -> {
                if (b == 0) throw c.error("integer modulo by zero");
                if (u64) return Long.remainderUnsigned(a, b);
                return fmod ? a % b : Math.floorMod(a, b); // fmod: sign of the dividend; else of the divisor
            });
        }));
        register("Pow", Kernel.single(ElementwiseKernels::pow));
        register("PRelu", Kernel.single(c -> {
            Tensor x = c.required(0), slope = c.required(1);
            if (!Arrays.equals(Broadcast.shape(x.shape(), slope.shape()), x.shape()))
                throw c.error("slope of shape " + Arrays.toString(slope.shape()) + " does not broadcast to X of shape "
                        + Arrays.toString(x.shape()));
            boolean signed = x.dtype().isSigned();
            return Elementwise.zip(x, slope, x.dtype(), (a, s) -> a < 0 ? s * a : a,
                    (a, s) -> signed && a < 0 ? s * a : a);
        }));

        register("And", Kernel.single(c -> zip(c, null, (a, b) -> a & b)));
        register("Or", Kernel.single(c -> zip(c, null, (a, b) -> a | b)));
        register("Xor", Kernel.single(c -> zip(c, null, (a, b) -> a ^ b)));
        register("BitwiseAnd", Kernel.single(c -> zip(c, null, (a, b) -> a & b)));
        register("BitwiseOr", Kernel.single(c -> zip(c, null, (a, b) -> a | b)));
        register("BitwiseXor", Kernel.single(c -> zip(c, null, (a, b) -> a ^ b)));
        register("BitShift", Kernel.single(c -> {
            String dir = c.attrString("direction");
            if (!dir.equals("LEFT") && !dir.equals("RIGHT"))
                throw c.error("attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \"" + dir + "\"");
            boolean left = dir.equals("LEFT");
            // Inputs are unsigned: values are zero-extended (uint64 raw), so >>> is the logical shift; bits shifted
            // past the type's width vanish when the result is wrapped.
            return zip(c, null, (a, s) -> Long.compareUnsigned(s, 64) >= 0 ? 0 : left ? a << s : a >>> s);
        }));

        register("Equal", Kernel.single(c -> {
            Tensor a = c.required(0), b = c.required(1);
            if (a.dtype() == DType.STRING) return stringsEqual(a, b);
            return Elementwise.compare(a, b, (x, y) -> x == y, (x, y) -> x == y);
        }));
        register("Greater", Kernel.single(c -> compare(c, r -> r > 0)));
        register("GreaterOrEqual", Kernel.single(c -> compare(c, r -> r >= 0)));
        register("Less", Kernel.single(c -> compare(c, r -> r < 0)));
        register("LessOrEqual", Kernel.single(c -> compare(c, r -> r <= 0)));
    }

    /** Max, Min, Sum, Mean over one or more broadcast inputs; NaN propagates through Max and Min. */
    private static void registerVariadic() {
        register("Max", Kernel.single(c -> {
            boolean u64 = inputs(c).getFirst().dtype() == DType.UINT64;
            return Elementwise.fold(inputs(c), Math::max,
                    u64 ? (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b : Math::max);
        }));
        register("Min", Kernel.single(c -> {
            boolean u64 = inputs(c).getFirst().dtype() == DType.UINT64;
            return Elementwise.fold(inputs(c), Math::min,
                    u64 ? (a, b) -> Long.compareUnsigned(a, b) <= 0 ? a : b : Math::min);
        }));
        register("Sum", Kernel.single(c -> Elementwise.fold(inputs(c), Double::sum, Long::sum)));
        register("Mean", Kernel.single(c -> {
            List<Tensor> xs = inputs(c);
            int n = xs.size();
            if (!xs.getFirst().dtype().isFloat()) throw c.error("Mean needs floating-point inputs");
            return Elementwise.fold(xs, Double::sum, null, s -> s / n);
        }));
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private static void unary(String op, DoubleUnaryOperator f) {
        register(op, Kernel.single(c -> Elementwise.map(c.required(0), f)));
    }

    private static Tensor zip(KernelCall c, java.util.function.DoubleBinaryOperator ff, LongBinaryOperator fi) {
        Tensor a = c.required(0), b = c.required(1);
        checkSameType(c, a, b);
        if (ff == null && a.dtype().isFloat()) throw c.error("needs integer or bool inputs, got " + a.dtype());
        return Elementwise.zip(a, b, a.dtype(), ff, fi);
    }

    /** A comparison: {@code holds} gets the sign of {@code a - b} (unsigned for uint64); NaN compares false. */
    private static Tensor compare(KernelCall c, java.util.function.IntPredicate holds) {
        Tensor a = c.required(0), b = c.required(1);
        checkSameType(c, a, b);
        boolean u64 = a.dtype() == DType.UINT64;
        return Elementwise.compare(a, b,
                (x, y) -> !Double.isNaN(x) && !Double.isNaN(y) && holds.test(x < y ? -1 : x > y ? 1 : 0),
                (x, y) -> holds.test(u64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)));
    }

    private static Tensor stringsEqual(Tensor a, Tensor b) {
        long[] shape = Broadcast.shape(a.shape(), b.shape());
        int[] ia = Broadcast.indexMap(shape, a.shape()), ib = Broadcast.indexMap(shape, b.shape());
        Tensor y = Tensor.zeros(DType.BOOL, shape);
        for (int i = 0; i < y.numel(); i++) y.setLong(i, a.getString(ia[i]).equals(b.getString(ib[i])) ? 1 : 0);
        return y;
    }

    private static void checkSameType(KernelCall c, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype())
            throw c.error("inputs must have the same element type, got " + a.dtype() + " and " + b.dtype());
    }

    private static List<Tensor> inputs(KernelCall c) {
        List<Tensor> xs = new ArrayList<>();
        for (int i = 0; i < c.numInputs(); i++) xs.add(c.required(i));
        for (Tensor x : xs) checkSameType(c, xs.getFirst(), x);
        return xs;
    }

    /** Python's float {@code %}: the result has the divisor's sign. */
    private static double flooredMod(double a, double b) {
        double r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    /**
     * Pow: the result has the base's type. A float base uses {@code Math.pow}; an integer base with an integer
     * exponent is raised exactly (wrapping like repeated multiplication); an integer base with a float exponent is
     * computed in float64 and truncated.
     */
    private static Tensor pow(KernelCall c) {
        Tensor x = c.required(0), e = c.required(1);
        long[] shape = Broadcast.shape(x.shape(), e.shape());
        int[] ix = Broadcast.indexMap(shape, x.shape()), ie = Broadcast.indexMap(shape, e.shape());
        Tensor y = Tensor.zeros(x.dtype(), shape);
        boolean exact = !x.dtype().isFloat() && !e.dtype().isFloat();
        boolean unsignedExp = !e.dtype().isSigned();
        for (int i = 0; i < y.numel(); i++) {
            if (exact) y.setLong(i, integerPow(c, x.getLong(ix[i]), e.getLong(ie[i]), unsignedExp));
            else Casts.storeDouble(y, i, Math.pow(x.getDouble(ix[i]), e.getDouble(ie[i])));
        }
        return y;
    }

    private static long integerPow(KernelCall c, long base, long exp, boolean unsignedExp) {
        if (exp < 0 && !unsignedExp) {
            if (base == 0) throw c.error("0 raised to the negative integer power " + exp);
            // 1 / base^|exp| truncated toward zero
            return base == 1 ? 1 : base == -1 ? ((exp & 1) == 0 ? 1 : -1) : 0;
        }
        long r = 1;
        for (long k = exp; k != 0; k >>>= 1) {
            if ((k & 1) != 0) r *= base;
            base *= base;
        }
        return r;
    }

    /** Clip with optional scalar min and max: {@code min(max(x, lo), hi)}, so lo > hi gives hi; NaN stays NaN. */
    private static Tensor clip(KernelCall c) {
        Tensor x = c.required(0), lo = c.in(1), hi = c.in(2);
        for (Tensor bound : new Tensor[] {lo, hi}) {
            if (bound == null) continue;
            checkSameType(c, x, bound);
            if (bound.numel() != 1)
                throw c.error((bound == lo ? "min" : "max") + " must be a scalar, got shape "
                        + Arrays.toString(bound.shape()));
        }
        if (x.dtype().isFloat()) {
            double l = lo == null ? Double.NEGATIVE_INFINITY : lo.getDouble(0);
            double h = hi == null ? Double.POSITIVE_INFINITY : hi.getDouble(0);
            return Elementwise.map(x, v -> Math.min(Math.max(v, l), h));
        }
        boolean u64 = x.dtype() == DType.UINT64;
        LongBinaryOperator max = u64 ? (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b : Math::max;
        LongBinaryOperator min = u64 ? (a, b) -> Long.compareUnsigned(a, b) <= 0 ? a : b : Math::min;
        return Elementwise.map(x, v -> v, v -> {
            long r = lo == null ? v : max.applyAsLong(v, lo.getLong(0));
            return hi == null ? r : min.applyAsLong(r, hi.getLong(0));
        });
    }

    private static Tensor cast(KernelCall c, Tensor x, DType to) {
        try {
            return Casts.cast(x, to);
        } catch (GaleException e) {
            throw c.error(e.getMessage());
        }
    }
}
