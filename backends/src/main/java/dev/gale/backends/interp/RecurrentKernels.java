package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Recurrent ops. */
final class RecurrentKernels {
    private RecurrentKernels() {}

    static void registerAll() {
    }
}
