package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Training ops. */
final class TrainingOps {
    private TrainingOps() {}

    static void register() {
    }
}
