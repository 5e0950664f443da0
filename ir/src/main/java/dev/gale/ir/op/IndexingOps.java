package dev.gale.ir.op;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: Indexing ops. */
final class IndexingOps {
    private IndexingOps() {}

    static void register() {
    }
}
