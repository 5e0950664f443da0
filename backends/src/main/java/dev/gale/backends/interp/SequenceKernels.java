package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Sequence ops. */
final class SequenceKernels {
    private SequenceKernels() {}

    static void registerAll() {
    }
}
