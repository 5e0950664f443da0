package dev.gale.backends;

import dev.gale.ir.Model;

/**
 * A way to run Gale graphs. Backends are found with {@link java.util.ServiceLoader} by name ({@code interp},
 * later {@code cpu}, {@code opencl}, {@code cuda}); each lives in its own package or module.
 */
public interface Backend {
    String name();

    /** Prepares {@code model} for repeated runs; throws a {@link dev.gale.ir.GaleException} if it cannot. */
    Session open(Model model);

    /**
     * Prepares a compiled graph (partitioned, scheduled) whose intermediates the memory planner laid out in one
     * arena. A backend that has no use for the layout runs the graph as {@link #open(Model)} does.
     */
    default Session open(Model model, dev.gale.ir.plan.BufferPlan plan) { return open(model); }
}
