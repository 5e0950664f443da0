package dev.gale.backends;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * A model prepared by a backend. Run-time values are {@link dev.gale.ir.Tensor}, {@link dev.gale.ir.TensorSequence}
 * or {@link dev.gale.ir.OptionalValue}.
 */
public interface Session extends AutoCloseable {
    /** Runs the graph on {@code feeds} (by input name) and returns the graph outputs in declaration order. */
    List<Object> run(Map<String, Object> feeds);

    /**
     * Asks the backend to keep the values of {@code regions} in memory the caller reads and writes directly, for the
     * runs whose feeds have the types and shapes of {@code example} (a full set of feeds). Returns one segment per
     * region ({@code size} float32 elements, native byte order), or null when this backend cannot (the default), or
     * cannot for one of the values (not a float32 tensor of static shape, or not a graph input or output).
     *
     * <p>After a successful call, an input of a region may be left out of the feeds: runs read what the caller last
     * wrote at its place. A region's output is written at its place by every run, and its entry in the list
     * {@link #run} returns is null (no copy is made). Elements of a region that no value covers keep what the caller
     * writes there. The segments stay valid until the session closes; another call to {@code bind} replaces them.
     */
    default List<MemorySegment> bind(Map<String, Object> example, List<Region> regions) { return null; }

    /** Seeds the random ops (Dropout in training mode, RandomNormal, ...) for the next runs. */
    default void seed(long seed) {}

    /**
     * Nodes of the plans built so far that this backend runs on the reference interpreter's kernels instead of its
     * own (correct, but one thread in float64: much slower), by op; empty when there are none, or when the backend
     * is the interpreter.
     */
    default Map<String, Integer> fallbackOps() { return Map.of(); }

    /**
     * Runs {@code body.accept(i)} for every i in {@code [0, tasks)} on the threads that run this session's kernels (the
     * calling thread among them) and returns when all have finished; the first exception a task throws is rethrown.
     * For work between runs over the session's memory, such as the optimizer's update: threads of its own would
     * compete with the kernels' threads for the cores, and would not compute as those do (the cpu backend's flush
     * subnormals to zero). The default runs the tasks in order on the calling thread.
     */
    default void parallelFor(int tasks, java.util.function.IntConsumer body) {
        for (int i = 0; i < tasks; i++) body.accept(i);
    }

    /** How many threads {@link #parallelFor} runs tasks on (1 by default). */
    default int parallelism() { return 1; }

    @Override
    default void close() {}
}
