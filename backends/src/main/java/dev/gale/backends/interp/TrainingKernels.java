package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Training ops. */
final class TrainingKernels {
    private TrainingKernels() {}

    static void registerAll() {
    }
}
