package dev.gale.ir.op;

import static dev.gale.ir.op.Gradients.rule;

/** Gradient rules: Shape ops. Each rule reads as forward / backward. */
final class ShapeGradients {
    private ShapeGradients() {}

    static void attach() {
    }
}
