package dev.gale.backends.interp;

import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: constants, identity and control flow. */
final class ControlFlowKernels {
    private ControlFlowKernels() {}

    static void registerAll() {
        // The op table resolves which attribute holds the value; the type inference already validated it.
        register("Constant", c -> List.of(dev.gale.ir.op.ControlFlowOps.constantValue(c.node().attrs(), null)));
        register("Identity", c -> List.of(c.value(0)));
    }
}
