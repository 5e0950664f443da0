package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Signal ops. */
final class SignalOps {
    private SignalOps() {}

    static void register() {
    }
}
