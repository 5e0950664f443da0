package dev.gale.ir.op;

import static dev.gale.ir.op.Gradients.rule;

/** Gradient rules: Reduction ops. Each rule reads as forward / backward. */
final class ReductionGradients {
    private ReductionGradients() {}

    static void attach() {
    }
}
