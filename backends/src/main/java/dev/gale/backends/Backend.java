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
     * Whether this backend runs graphs compiled by Gale's standard pipeline (partitioned into {@code gale::Kernel}
     * nodes, scheduled) in the arena their memory plan lays out ({@link #open(Model, dev.gale.ir.plan.BufferPlan)}).
     * A backend that compiles models its own way (the {@code cpu} backend) says no, and callers such as
     * {@code gale train} hand it the graph as built.
     */
    default boolean runsPlannedGraphs() { return false; }

    /**
     * Prepares a compiled graph (partitioned, scheduled) whose intermediates the memory planner laid out in one
     * arena. A backend that has no use for the layout runs the graph as {@link #open(Model)} does.
     */
    default Session open(Model model, dev.gale.ir.plan.BufferPlan plan) { return open(model); }
}
