package dev.gale.backends.interp;

import java.util.List;
import java.util.function.Function;

/** The interpreter's implementation of one op: reads a {@link KernelCall}, returns the output values in order. */
@FunctionalInterface
public interface Kernel {
    List<Object> run(KernelCall call);

    /** A kernel with a single output. */
    static Kernel single(Function<KernelCall, Object> f) {
        return c -> List.of(f.apply(c));
    }
}
