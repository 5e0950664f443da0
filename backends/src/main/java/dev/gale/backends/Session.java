package dev.gale.backends;

import java.util.List;
import java.util.Map;

/**
 * A model prepared by a backend. Run-time values are {@link dev.gale.ir.Tensor}, {@link dev.gale.ir.TensorSequence}
 * or {@link dev.gale.ir.OptionalValue}.
 */
public interface Session extends AutoCloseable {
    /** Runs the graph on {@code feeds} (by input name) and returns the graph outputs in declaration order. */
    List<Object> run(Map<String, Object> feeds);

    /** Seeds the random ops (Dropout in training mode, RandomNormal, ...) for the next runs. */
    default void seed(long seed) {}

    @Override
    default void close() {}
}
