package dev.gale.ir.op;

import static dev.gale.ir.op.Gradients.rule;

/** Gradient rules: Nn ops. Each rule reads as forward / backward. */
final class NnGradients {
    private NnGradients() {}

    static void attach() {
    }
}
