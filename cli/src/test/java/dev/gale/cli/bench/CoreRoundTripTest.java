package dev.gale.cli.bench;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The round trip is a plausible figure, and its partner thread is gone once it returns (it would spin a core). */
class CoreRoundTripTest {
    @Test
    void aPlausibleFigureAndNoThreadLeftSpinning() throws InterruptedException {
        Assumptions.assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "one CPU: no figure");
        double ns = CoreRoundTrip.nanos();
        // a cache line between two cores takes tens to hundreds of ns; a microsecond or more means it was not passed
        // between two spinning threads (or the time was per loop, not per trip)
        assertTrue(ns > 5 && ns < 20_000, "round trip " + ns + " ns");
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (partnerAlive() && System.nanoTime() < deadline) Thread.sleep(10);
        assertFalse(partnerAlive(), "the partner thread still runs");
    }

    private static boolean partnerAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("gale-bench-round-trip") && t.isAlive());
    }
}
