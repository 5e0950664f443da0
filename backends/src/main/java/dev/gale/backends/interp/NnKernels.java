package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Nn ops. */
final class NnKernels {
    private NnKernels() {}

    static void registerAll() {
    }
}
