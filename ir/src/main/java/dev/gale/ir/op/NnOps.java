package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Nn ops. */
final class NnOps {
    private NnOps() {}

    static void register() {
    }
}
