package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Shape ops. */
final class ShapeKernels {
    private ShapeKernels() {}

    static void registerAll() {
    }
}
