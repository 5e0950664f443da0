package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Random ops. */
final class RandomKernels {
    private RandomKernels() {}

    static void registerAll() {
    }
}
