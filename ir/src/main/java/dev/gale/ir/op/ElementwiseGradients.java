package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.Value;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.Gradients.rule;

/** Gradient rules: elementwise math and activations. Each rule reads as forward / backward. */
final class ElementwiseGradients {
    private ElementwiseGradients() {}

    private static final Map<String, Attr> NONE = Map.of();

    static List<Value> list(Value... v) { return Arrays.asList(v); }

    static void attach() {
        // y = a + b  /  da = sum_to(dy, a), db = sum_to(dy, b)
        rule("Add", c -> list(c.sumToShapeOf(c.dOut(0), c.in(0)), c.sumToShapeOf(c.dOut(0), c.in(1))));
        // y = relu(x)  /  dx = dy where x > 0, else 0
        rule("Relu", c -> list(c.op("Where", NONE, c.op("Greater", NONE, c.in(0), c.scalar(0, c.in(0))), c.dOut(0),
                c.scalar(0, c.dOut(0)))));
        // y = x  /  dx = dy
        rule("Identity", c -> list(c.dOut(0)));
    }
}
