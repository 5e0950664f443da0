package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Random ops. */
final class RandomOps {
    private RandomOps() {}

    static void register() {
    }
}
