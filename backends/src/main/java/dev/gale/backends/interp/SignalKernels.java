package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Signal ops. */
final class SignalKernels {
    private SignalKernels() {}

    static void registerAll() {
    }
}
