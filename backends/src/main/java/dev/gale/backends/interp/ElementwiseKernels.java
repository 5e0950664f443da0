package dev.gale.backends.interp;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: elementwise math, activations, comparisons and logic. */
final class ElementwiseKernels {
    private ElementwiseKernels() {}

    static void registerAll() {
        register("Relu", Kernel.single(c -> Elementwise.map(c.required(0), x -> x > 0 ? x : 0)));
        register("Add", Kernel.single(c -> Elementwise.zip(c.required(0), c.required(1), c.required(0).dtype(),
                Double::sum, Long::sum)));
    }
}
