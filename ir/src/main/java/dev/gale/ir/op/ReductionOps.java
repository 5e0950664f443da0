package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Reduction ops. */
final class ReductionOps {
    private ReductionOps() {}

    static void register() {
    }
}
