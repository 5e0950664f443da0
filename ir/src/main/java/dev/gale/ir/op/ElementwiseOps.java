package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: elementwise math, activations, comparisons, logic, bit operations and casts (ai.onnx up to opset
 * 18, plus Gelu from opset 20). Unary ops are ELEMENTWISE; ops that broadcast several inputs are BROADCAST.
 *
 * <p>Type inference checks the element types each op accepts (by kind: floating, integer, bool; widths a later opset
 * adds are let through) and that inputs meant to share a type do. When an input's type is unknown, outputs keep the
 * types the model declares.
 */
final class ElementwiseOps {
    private ElementwiseOps() {}

    /** A kind of element type an op accepts, named for error messages. */
    private record Kinds(String what, Predicate<DType> accepts) {}

    private static final Kinds FLOAT = new Kinds("a floating-point", DType::isFloat);
    private static final Kinds NUMERIC = new Kinds("a numeric", DType::isNumeric);
    private static final Kinds SIGNED = new Kinds("a signed numeric", t -> t.isNumeric() && t.isSigned());
    private static final Kinds INTEGER = new Kinds("an integer", DType::isInteger);
    private static final Kinds UNSIGNED = new Kinds("an unsigned integer", t -> t.isInteger() && !t.isSigned());
    private static final Kinds BOOL = new Kinds("a bool", t -> t == DType.BOOL);
    private static final Kinds CASTABLE = new Kinds("a real, bool or string",
            t -> t != DType.COMPLEX64 && t != DType.COMPLEX128);
    private static final Kinds COMPARABLE = new Kinds("a numeric, bool or string",
            t -> t.isNumeric() || t == DType.BOOL || t == DType.STRING);

    static void register() {
        for (String op : List.of("Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Exp",
                "Floor", "HardSwish", "Log", "Mish", "Reciprocal", "Round", "Sigmoid", "Sin", "Sinh", "Softplus",
                "Softsign", "Sqrt", "Tan", "Tanh"))
            unary(op, FLOAT).register();
        for (String op : List.of("Abs", "Erf", "Sign")) unary(op, NUMERIC).register();
        for (String op : List.of("Neg", "Relu")) unary(op, SIGNED).register();
        unary("Not", BOOL).register();
        unary("BitwiseNot", INTEGER).register();

        // Activations with parameters; defaults are the ONNX schema's.
        unary("Celu", FLOAT).attr("alpha", 1.0f).register();
        unary("Elu", FLOAT).attr("alpha", 1.0f).register();
        unary("Gelu", FLOAT).attr("approximate", "none").register();
        unary("HardSigmoid", FLOAT).attr("alpha", 0.2f).attr("beta", 0.5f).register();
        unary("LeakyRelu", FLOAT).attr("alpha", 0.01f).register();
        unary("Selu", FLOAT).attr("alpha", 1.67326319217681884765625f).attr("gamma", 1.05070102214813232421875f)
                .register();
        unary("Shrink", NUMERIC).attr("bias", 0.0f).attr("lambd", 0.5f).register();
        unary("ThresholdedRelu", FLOAT).attr("alpha", 1.0f).register();

        define("IsNaN").inputs(1).outputs(1).category(ELEMENTWISE).infer(predicate(FLOAT)).register();
        define("IsInf").inputs(1).outputs(1).attr("detect_negative", 1L).attr("detect_positive", 1L)
                .category(ELEMENTWISE).infer(predicate(FLOAT)).register();

        for (String op : List.of("Add", "Sub", "Mul", "Div")) binary(op, NUMERIC, null);
        define("Mod").inputs(2).outputs(1).attr("fmod", 0L).category(BROADCAST).infer(broadcasting(NUMERIC, null))
                .register();
        for (String op : List.of("And", "Or", "Xor")) binary(op, BOOL, null);
        for (String op : List.of("BitwiseAnd", "BitwiseOr", "BitwiseXor")) binary(op, INTEGER, null);
        define("BitShift").inputs(2).outputs(1).required("direction", Attr.Kind.STRING).category(BROADCAST)
                .infer(broadcasting(UNSIGNED, null)).register();
        binary("Equal", COMPARABLE, DType.BOOL);
        for (String op : List.of("Greater", "GreaterOrEqual", "Less", "LessOrEqual")) binary(op, NUMERIC, DType.BOOL);
        define("Pow").inputs(2).outputs(1).category(BROADCAST).infer(ElementwiseOps::pow).register();
        define("PRelu").inputs(2).outputs(1).category(BROADCAST).infer(ElementwiseOps::prelu).register();

        for (String op : List.of("Max", "Min")) variadic(op, NUMERIC);
        for (String op : List.of("Sum", "Mean")) variadic(op, FLOAT);

        define("Where").inputs(3).outputs(1).category(BROADCAST).infer(ElementwiseOps::where).register();
        define("Clip").inputs(1, 3).outputs(1).category(ELEMENTWISE).infer(ElementwiseOps::clip).register();
        define("Cast").inputs(1).outputs(1).required("to", Attr.Kind.INT).category(ELEMENTWISE)
                .infer(ElementwiseOps::cast).register();
        define("CastLike").inputs(2).outputs(1).category(ELEMENTWISE).infer(ElementwiseOps::castLike).register();
    }

    // ---- entry shapes ---------------------------------------------------------------------------------------------

    /** One input, one output of the same type. */
    private static OpSchema unary(String op, Kinds kinds) {
        return define(op).inputs(1).outputs(1).category(ELEMENTWISE).infer(c -> {
            Type.TensorType x = c.tensorInput(0);
            if (x == null) return unknown();
            check(c, 0, kinds);
            return List.of(x);
        });
    }

    /** Two inputs of one element type, broadcast; the output has that type, or {@code out} when given. */
    private static void binary(String op, Kinds kinds, DType out) {
        define(op).inputs(2).outputs(1).category(BROADCAST).infer(broadcasting(kinds, out)).register();
    }

    /** One or more inputs of one element type, broadcast together (Max, Min, Sum, Mean). */
    private static void variadic(String op, Kinds kinds) {
        define(op).inputs(1, OpSchema.VARIADIC).outputs(1).category(BROADCAST).infer(broadcasting(kinds, null))
                .register();
    }

    private static TypeInference broadcasting(Kinds kinds, DType out) {
        return c -> {
            if (!allKnown(c, 0, c.numInputs())) return unknown();
            for (int i = 0; i < c.numInputs(); i++) {
                check(c, i, kinds);
                sameType(c, 0, i);
            }
            return List.of(Type.tensor(out != null ? out : c.dtype(0), broadcastShapes(c, 0, c.numInputs())));
        };
    }

    /** IsNaN, IsInf: a bool tensor of the input's shape. */
    private static TypeInference predicate(Kinds kinds) {
        return c -> {
            if (!allKnown(c, 0, 1)) return unknown();
            check(c, 0, kinds);
            return List.of(Type.tensor(DType.BOOL, c.shape(0)));
        };
    }

    // ---- ops with their own rules ---------------------------------------------------------------------------------

    /** Pow: the base's type (float, or an integer raised exactly), any numeric exponent; shapes broadcast. */
    private static List<Type> pow(InferContext c) {
        if (!allKnown(c, 0, 2)) return unknown();
        check(c, 0, NUMERIC);
        check(c, 1, NUMERIC);
        return List.of(Type.tensor(c.dtype(0), broadcastShapes(c, 0, 2)));
    }

    /** PRelu: the slope broadcasts to X's shape (one direction only); the output is X's type. */
    private static List<Type> prelu(InferContext c) {
        if (!allKnown(c, 0, 2)) return unknown();
        check(c, 0, NUMERIC);
        sameType(c, 0, 1);
        Shape x = c.shape(0), slope = c.shape(1);
        if (x != null && slope != null) {
            if (slope.rank() > x.rank())
                throw c.error("slope of shape " + slope + " has a higher rank than X of shape " + x);
            Shape b = Infer.broadcast(x, slope, c);
            for (int k = 0; k < x.rank(); k++)
                if (x.dim(k).isFixed() && !b.dim(k).equals(x.dim(k)))
                    throw c.error("slope of shape " + slope + " does not broadcast to X of shape " + x);
        }
        return List.of(c.tensorInput(0));
    }

    /** Where: a bool condition chooses between X and Y (one type, any); all three broadcast. */
    private static List<Type> where(InferContext c) {
        if (!allKnown(c, 0, 3)) return unknown();
        check(c, 0, BOOL);
        sameType(c, 1, 2);
        return List.of(Type.tensor(c.dtype(1), broadcastShapes(c, 0, 3)));
    }

    /** Clip: optional scalar min and max of X's type; the output is X's type. */
    private static List<Type> clip(InferContext c) {
        if (!allKnown(c, 0, c.numInputs())) return unknown();
        check(c, 0, NUMERIC);
        for (int i = 1; i < c.numInputs(); i++) {
            if (!c.hasInput(i)) continue;
            sameType(c, 0, i);
            Shape s = c.shape(i);
            long n = s == null ? -1 : s.numelOrMinus1();
            if (n >= 0 && n != 1)
                throw c.error((i == 1 ? "min" : "max") + " must be a scalar, got shape " + s);
        }
        return List.of(c.tensorInput(0));
    }

    private static List<Type> cast(InferContext c) {
        DType to;
        try {
            to = DType.fromOnnx((int) c.attrInt("to"));
        } catch (GaleException e) {
            throw c.error("attribute 'to' = " + c.attrInt("to") + " is not a supported element type");
        }
        if (!CASTABLE.accepts().test(to)) throw c.error("cannot cast to " + to + ": complex types are not supported");
        if (!allKnown(c, 0, 1)) return List.of(Type.unranked(to));
        check(c, 0, CASTABLE);
        return List.of(Type.tensor(to, c.shape(0)));
    }

    /** CastLike: X's shape, the element type of the second input. */
    private static List<Type> castLike(InferContext c) {
        if (!allKnown(c, 0, 2)) return unknown();
        check(c, 0, CASTABLE);
        check(c, 1, CASTABLE);
        return List.of(Type.tensor(c.dtype(1), c.shape(0)));
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    /** "Unknown": the output keeps whatever type the model declares. */
    private static List<Type> unknown() { return Collections.singletonList(null); }

    /** Whether every given input in {@code [from, to)} has a known tensor type. */
    private static boolean allKnown(InferContext c, int from, int to) {
        for (int i = from; i < to; i++)
            if (c.hasInput(i) && c.tensorInput(i) == null) return false;
        return true;
    }

    private static void check(InferContext c, int i, Kinds kinds) {
        if (!c.hasInput(i)) return;
        DType t = c.dtype(i);
        if (!kinds.accepts().test(t))
            throw c.error("input " + i + " must have " + kinds.what() + " element type, got " + t);
    }

    private static void sameType(InferContext c, int i, int j) {
        if (!c.hasInput(i) || !c.hasInput(j)) return;
        if (c.dtype(i) != c.dtype(j))
            throw c.error("inputs " + i + " and " + j + " must have the same element type, got " + c.dtype(i)
                    + " and " + c.dtype(j));
    }

    /** Numpy broadcast of the shapes of inputs {@code [from, to)}; null (unknown rank) if any rank is unknown. */
    private static Shape broadcastShapes(InferContext c, int from, int to) {
        List<Shape> shapes = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (!c.hasInput(i)) continue;
            Shape s = c.shape(i);
            if (s == null) return null;
            shapes.add(s);
        }
        Shape acc = Shape.SCALAR;
        for (Shape s : shapes) acc = Infer.broadcast(acc, s, c);
        return acc;
    }
}
