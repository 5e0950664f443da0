package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Indexing ops. */
final class IndexingKernels {
    private IndexingKernels() {}

    static void registerAll() {
    }
}
