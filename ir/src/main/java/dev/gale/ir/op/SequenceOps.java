package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Sequence ops. */
final class SequenceOps {
    private SequenceOps() {}

    static void register() {
    }
}
