package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Reduction ops. */
final class ReductionKernels {
    private ReductionKernels() {}

    static void registerAll() {
    }
}
