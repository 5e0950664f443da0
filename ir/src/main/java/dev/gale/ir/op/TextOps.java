package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Text ops. */
final class TextOps {
    private TextOps() {}

    static void register() {
    }
}
