package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Vision ops. */
final class VisionOps {
    private VisionOps() {}

    static void register() {
    }
}
