package dev.gale.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A Gale kernel and its reference (the FMA peak, a copy of the same bytes) run one after the other in every
 * invocation and timed each: a change of clock or a busy neighbour during the run then falls on both alike, where
 * two benchmarks seconds apart could see different machines (the 2-core machine's FMA peak moved between 340 and 406
 * GFLOP/s within one run). Counters, each an average over the iteration's invocations: {@code ownRate} and
 * {@code referenceRate} (work per nanosecond: GFLOP/s for flops, GB/s for bytes) and {@code share}, the first over the
 * second.
 *
 * <p>JMH divides an OPERATIONS counter by the iteration's time, so each is set at the iteration's end to its value
 * times the iteration's wall time: the reported figure is the value, and the summary averages it over iterations.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Interleaved {
    public double share;
    public double ownRate;
    public double referenceRate;
    private double ownWork, ownNanos, referenceWork, referenceNanos;
    private long start;

    @Setup(Level.Iteration)
    public void start() {
        share = ownRate = referenceRate = 0;
        ownWork = ownNanos = referenceWork = referenceNanos = 0;
        start = System.nanoTime();
    }

    /** One invocation: Gale's work and time, then the reference's. */
    void add(double own, long ownTime, double reference, long referenceTime) {
        ownWork += own;
        ownNanos += ownTime;
        referenceWork += reference;
        referenceNanos += referenceTime;
    }

    @TearDown(Level.Iteration)
    public void stop() {
        if (ownNanos == 0 || referenceNanos == 0) return;
        double seconds = (System.nanoTime() - start) / 1e9, own = ownWork / ownNanos, ref = referenceWork / referenceNanos;
        ownRate = own * seconds;
        referenceRate = ref * seconds;
        share = own / ref * seconds;
    }
}
