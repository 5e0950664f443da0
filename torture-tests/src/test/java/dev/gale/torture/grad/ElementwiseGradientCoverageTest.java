package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.AttrSpec;
import dev.gale.ir.op.FusionCategory;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every floating-point elementwise op has a gradient rule, or is on {@link #NON_DIFFERENTIABLE} with the reason.
 *
 * <p>"Elementwise" is the op table's ELEMENTWISE and BROADCAST categories (ai.onnx domain). "Floating-point" is
 * decided by type inference: the op, given float32 tensors for all its required inputs (of shape [2, 3], or the first
 * so and the rest scalars; required attributes get Cast's {@code to} = FLOAT, BitShift's LEFT), infers a
 * floating-point output. Ops that reject float inputs
 * (bit operations, logic, shape-taking ops such as Expand) or give bool/integer outputs (comparisons, IsNaN, IsInf,
 * QuantizeLinear) carry no gradient and need no entry. The test prints the ops without rules and why they need none.
 */
class ElementwiseGradientCoverageTest {
    /** Floating-point elementwise ops that deliberately have no gradient rule, with the reason. */
    static final Map<String, String> NON_DIFFERENTIABLE = Map.of(
            "DequantizeLinear", "quantized graphs do not train: x holds integers (type inference also lets a float x"
                    + " through), and gradients for scale and zero point (learned step size) are out of scope");

    /**
     * Elementwise-category ops whose rules another family's companion file owns: a missing rule is reported, not a
     * failure of this test (the owning family's own cases check the rule). Drop an entry once its rule is merged.
     */
    static final Map<String, String> OWNED_ELSEWHERE = Map.of(
            "Expand", "shape family: ShapeGradients (from branch misc)");

    @Test
    void everyFloatingPointElementwiseOpHasAGradientRule() {
        Map<String, String> withoutRules = new TreeMap<>();
        List<String> missing = new ArrayList<>();
        int rules = 0;
        for (OpSchema s : OpTable.all()) {
            if (!elementwise(s)) continue;
            if (s.gradient() != null) {
                rules++;
                continue;
            }
            String whyNot = nonFloat(s);
            if (whyNot == null && NON_DIFFERENTIABLE.containsKey(s.name()))
                whyNot = "allow-listed: " + NON_DIFFERENTIABLE.get(s.name());
            if (whyNot == null && OWNED_ELSEWHERE.containsKey(s.name()))
                whyNot = "rule not merged yet, owned by the " + OWNED_ELSEWHERE.get(s.name());
            if (whyNot == null) missing.add(s.name());
            withoutRules.put(s.name(), whyNot == null ? "MISSING a gradient rule" : whyNot);
        }
        System.out.println("Elementwise ops with gradient rules: " + rules + "; without:");
        withoutRules.forEach((op, why) -> System.out.println("  " + op + ": " + why));
        assertTrue(missing.isEmpty(), "floating-point elementwise ops without a gradient rule (add one to "
                + "ElementwiseGradients, or list the op in NON_DIFFERENTIABLE with the reason): " + missing);
    }

    @Test
    void allowListHasNoStaleEntries() {
        for (Map.Entry<String, String> e : NON_DIFFERENTIABLE.entrySet()) {
            OpSchema s = OpTable.lookup("", e.getKey());
            assertTrue(s != null && elementwise(s), e.getKey() + " is not an elementwise op of the table");
            assertTrue(s.gradient() == null, e.getKey() + " has a gradient rule now; drop it from NON_DIFFERENTIABLE");
            assertTrue(nonFloat(s) == null, e.getKey() + " is not a floating-point op; it needs no allow-list entry");
        }
    }

    /** The rules this family owns are all attached (guards against a rule keyed by a misspelled op name). */
    @Test
    void rulesOfTheElementwiseFamilyAreAttached() {
        for (String op : List.of("Abs", "Acos", "Acosh", "Add", "Asin", "Asinh", "Atan", "Atanh", "Cast", "CastLike",
                "Ceil", "Celu", "Clip", "Cos", "Cosh", "Div", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid",
                "HardSwish", "Identity", "LeakyRelu", "Log", "Max", "Mean", "Min", "Mish", "Mod", "Mul", "Neg", "PRelu",
                "Pow", "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus",
                "Softsign", "Sqrt", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Where")) {
            OpSchema s = OpTable.lookup("", op);
            assertTrue(s != null && s.gradient() != null, op + " should have a gradient rule");
        }
    }

    private static boolean elementwise(OpSchema s) {
        return s.domain().isEmpty()
                && (s.category() == FusionCategory.ELEMENTWISE || s.category() == FusionCategory.BROADCAST);
    }

    /**
     * Null when the op infers a floating-point output from float32 inputs, else why it is not a float op. Two layouts
     * are tried: every input of shape [2, 3], and the first of shape [2, 3] with scalars after it (scales, bounds).
     */
    private static String nonFloat(OpSchema s) {
        String why = null;
        for (boolean scalarsAfterFirst : new boolean[] {false, true}) {
            GraphBuilder g = Graph.builder("probe_" + s.name());
            List<Value> in = new ArrayList<>();
            for (int i = 0; i < Math.max(1, s.minInputs()); i++)
                in.add(i > 0 && scalarsAfterFirst ? g.input("x" + i, DType.FLOAT32) : g.input("x" + i, DType.FLOAT32, 2, 3));
            Map<String, Attr> attrs = new HashMap<>();
            for (AttrSpec a : s.attrs().values())
                if (a.required()) attrs.put(a.name(), probeValue(a));
            List<Value> out;
            try {
                out = g.op("", s.name(), in, attrs, Math.max(1, s.minOutputs()));
            } catch (RuntimeException e) {
                if (why == null) why = "rejects float32 inputs (" + e.getMessage() + ")";
                continue;
            }
            List<String> types = new ArrayList<>();
            for (Value v : out) {
                if (!(v.type() instanceof Type.TensorType t)) return null; // unknown output type: treat as float
                if (t.dtype().isFloat()) return null;
                types.add(t.dtype().toString());
            }
            why = "non-float output " + types;
        }
        return why;
    }

    private static Attr probeValue(AttrSpec a) {
        return switch (a.kind()) {
            case INT -> Attr.of((long) DType.FLOAT32.onnxCode()); // Cast's `to`
            case FLOAT -> Attr.of(1f);
            case STRING -> Attr.of("LEFT"); // BitShift's `direction`
            default -> throw new IllegalStateException("no probe value for required attribute " + a);
        };
    }
}
