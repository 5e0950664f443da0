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
}
