package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Shape ops. */
final class ShapeOps {
    private ShapeOps() {}

    static void register() {
    }
}
