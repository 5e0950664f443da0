package dev.gale.cli.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How far apart the cores that run two threads are: the time a cache line takes to go from this thread to another
 * and back, found by passing a counter between them. About 30 ns on one core's two hardware threads, about 70 where
 * two cores share a last-level cache, 300-400 ns where they do not (a virtual machine's two vCPUs placed on different
 * dies of an EPYC; the host may change the placement while a benchmark runs). Every multi-threaded side slows down on
 * one core (the two threads share its units) and on two dies (data crosses between them, Gale's memory-bound steps
 * most), so {@code gale bench} prints it beside each model to explain a ratio that moves between runs.
 *
 * <pre>{@code
 * double ns = CoreRoundTrip.nanos();   // NaN on a single CPU
 * }</pre>
 */
final class CoreRoundTrip {
    private static final int TRIPS = 20_000, ROUNDS = 5;

    private CoreRoundTrip() {}

    /** The median over a few rounds of the mean round trip in nanoseconds; NaN with fewer than two CPUs. */
    static double nanos() {
        if (Runtime.getRuntime().availableProcessors() < 2) return Double.NaN;
        AtomicLong ball = new AtomicLong();
        long deadline = System.nanoTime() + 2_000_000_000L;
        Thread partner = new Thread(() -> {
            for (long v = 1; v < 2L * TRIPS * ROUNDS; v += 2) {
                if (!await(ball, v, deadline)) return;
                ball.set(v + 1);
            }
        }, "gale-bench-round-trip");
        partner.setDaemon(true);
        partner.start();
        double[] rounds = new double[ROUNDS];
        long v = 0;
        for (int r = 0; r < ROUNDS; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < TRIPS; i++, v += 2) {
                ball.set(v + 1);
                if (!await(ball, v + 2, deadline)) return Double.NaN; // the partner did not run: no figure
            }
            rounds[r] = (System.nanoTime() - t0) / (double) TRIPS;
        }
        Arrays.sort(rounds);
        return rounds[ROUNDS / 2];
    }

    /** Spins until {@code ball} holds {@code value}; false once {@code deadline} (System.nanoTime) has passed. */
    private static boolean await(AtomicLong ball, long value, long deadline) {
        for (int spins = 1; ball.get() != value; spins++) {
            Thread.onSpinWait();
            if ((spins & 0xfff) == 0 && System.nanoTime() > deadline) return false;
        }
        return true;
    }
}
