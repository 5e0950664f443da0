package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Recurrent ops. */
final class RecurrentOps {
    private RecurrentOps() {}

    static void register() {
    }
}
