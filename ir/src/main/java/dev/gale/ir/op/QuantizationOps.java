package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Quantization ops. */
final class QuantizationOps {
    private QuantizationOps() {}

    static void register() {
    }
}
