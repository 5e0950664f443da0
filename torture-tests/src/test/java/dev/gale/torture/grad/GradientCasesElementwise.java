package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.torture.grad.GradientCheck.*;

/** Gradient-check cases: elementwise math and activations. */
final class GradientCasesElementwise {
    private GradientCasesElementwise() {}

    private static GradientRulesTest.Case unary(String op, Operand x) {
        return new GradientRulesTest.Case(op, op, Map.of(), List.of(x), 1);
    }

    static List<GradientRulesTest.Case> cases(Random r) {
        List<GradientRulesTest.Case> c = new ArrayList<>();
        for (String op : List.of("Neg", "Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Sin", "Cos", "Sinh", "Cosh", "Erf",
                "Softplus", "Softsign", "HardSwish", "Elu", "Selu", "Celu"))
            c.add(unary(op, param(r, 3, 4)));
        for (String op : List.of("Log", "Sqrt", "Reciprocal", "Tan")) c.add(unary(op, positive(r, 2, 3)));
        c.add(new GradientRulesTest.Case("LeakyRelu alpha", "LeakyRelu", Map.of("alpha", Attr.of(0.2f)), List.of(param(r, 5)), 1));
        c.add(new GradientRulesTest.Case("ThresholdedRelu", "ThresholdedRelu", Map.of("alpha", Attr.of(0.1f)), List.of(param(r, 5)), 1));
        c.add(new GradientRulesTest.Case("HardSigmoid", "HardSigmoid", Map.of(), List.of(new Operand(random(r, -3, 3, 6), true)), 1));
        c.add(new GradientRulesTest.Case("Gelu", "Gelu", Map.of(), List.of(param(r, 2, 5)), 1));
        c.add(new GradientRulesTest.Case("Gelu tanh", "Gelu", Map.of("approximate", Attr.of("tanh")), List.of(param(r, 2, 5)), 1));
        c.add(new GradientRulesTest.Case("Sub broadcast", "Sub", Map.of(), List.of(param(r, 2, 3), param(r, 1, 3)), 1));
        c.add(new GradientRulesTest.Case("Mul broadcast", "Mul", Map.of(), List.of(param(r, 4, 1), param(r, 3)), 1));
        c.add(new GradientRulesTest.Case("Div broadcast", "Div", Map.of(), List.of(param(r, 2, 3), positive(r, 3)), 1));
        c.add(new GradientRulesTest.Case("Pow", "Pow", Map.of(), List.of(positive(r, 2, 3), param(r, 2, 3)), 1));
        c.add(new GradientRulesTest.Case("Pow const exponent", "Pow", Map.of(),
                List.of(positive(r, 4), fixed(Tensor.scalar(DType.FLOAT64, 3))), 1));
        c.add(new GradientRulesTest.Case("PRelu", "PRelu", Map.of(), List.of(param(r, 2, 3, 2), param(r, 3, 1)), 1));
        Tensor cond = Tensor.ofBools(new long[] {2, 3}, true, false, true, false, false, true);
        c.add(new GradientRulesTest.Case("Where", "Where", Map.of(), List.of(fixed(cond), param(r, 2, 3), param(r, 3)), 1));
        c.add(new GradientRulesTest.Case("Clip", "Clip", Map.of(), List.of(param(r, 8),
                fixed(Tensor.scalar(DType.FLOAT64, -0.5)), fixed(Tensor.scalar(DType.FLOAT64, 0.5))), 1));
        c.add(new GradientRulesTest.Case("Max", "Max", Map.of(), List.of(param(r, 2, 3), param(r, 3)), 1));
        c.add(new GradientRulesTest.Case("Min", "Min", Map.of(), List.of(param(r, 2, 3), param(r, 2, 3)), 1));
        c.add(new GradientRulesTest.Case("Sum", "Sum", Map.of(), List.of(param(r, 2, 3), param(r, 3), param(r, 1)), 1));
        c.add(new GradientRulesTest.Case("Mean", "Mean", Map.of(), List.of(param(r, 2, 3), param(r, 3)), 1));
        c.add(new GradientRulesTest.Case("Cast f64->f64", "Cast", Map.of("to", Attr.of(11L)), List.of(param(r, 3)), 1));
        return c;
    }
}
