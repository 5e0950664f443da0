package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: elementwise math, activations, comparisons and logic. */
final class ElementwiseOps {
    private ElementwiseOps() {}

    static void register() {
        define("Relu").inputs(1).outputs(1).category(ELEMENTWISE).infer(Infer.sameAs(0)).register();
        define("Add").inputs(2).outputs(1).category(BROADCAST).infer(Infer.broadcast()).register();
    }
}
