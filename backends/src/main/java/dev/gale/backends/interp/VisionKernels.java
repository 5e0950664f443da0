package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Vision ops. */
final class VisionKernels {
    private VisionKernels() {}

    static void registerAll() {
    }
}
