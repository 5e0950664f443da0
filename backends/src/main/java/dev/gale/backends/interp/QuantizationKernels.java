package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: Quantization ops. */
final class QuantizationKernels {
    private QuantizationKernels() {}

    static void registerAll() {
    }
}
