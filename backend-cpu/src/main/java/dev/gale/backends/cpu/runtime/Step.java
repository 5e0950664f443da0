package dev.gale.backends.cpu.runtime;

/**
 * One unit of work of an execution plan: everything it touches (arena offsets, shapes, scratch, the kernel pool)
 * was fixed when the plan was built, so running it allocates nothing but what a kernel it calls may.
 */
@FunctionalInterface
interface Step {
    void run();
}
