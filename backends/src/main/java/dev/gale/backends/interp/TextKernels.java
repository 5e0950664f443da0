package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Text ops. */
final class TextKernels {
    private TextKernels() {}

    static void registerAll() {
    }
}
