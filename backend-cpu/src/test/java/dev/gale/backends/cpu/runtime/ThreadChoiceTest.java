package dev.gale.backends.cpu.runtime;

import org.junit.jupiter.api.Test;

import java.util.function.LongBinaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The choice between all threads and the caller alone, fed run times from a model of the machine (a function of the
 * run's number and of the mode asked for) instead of a clock, so that each decision can be checked.
 */
class ThreadChoiceTest {
    /** Runs {@code runs} runs; {@code time(run, serial ? 1 : 0)} gives each one's nanoseconds. Returns the serial runs. */
    private static int drive(ThreadChoice c, int runs, LongBinaryOperator time, boolean[] modes) {
        int serial = 0;
        for (int r = 0; r < runs; r++) {
            boolean s = c.nextSerial();
            if (modes != null) modes[r] = s;
            if (s) serial++;
            c.record(time.applyAsLong(r, s ? 1 : 0));
        }
        return serial;
    }

    @Test
    void staysOnEveryThreadWhileThatIsFaster() {
        ThreadChoice c = new ThreadChoice(2, true);
        boolean[] modes = new boolean[20_000];
        int serial = drive(c, modes.length, (r, s) -> s == 1 ? 440_000 : 270_000, modes);
        assertFalse(c.serial());
        for (int r = 0; r < ThreadChoice.WARMUP; r++) assertFalse(modes[r], "a trial during the warmup, run " + r);
        // losing trials are spaced so that they cost at most TRIAL_COST of the time
        double lost = serial * (440_000.0 - 270_000.0), total = (modes.length - serial) * 270_000.0 + serial * 440_000.0;
        assertTrue(lost / total <= ThreadChoice.TRIAL_COST, "trials cost " + lost / total + " of the time");
        assertTrue(serial >= ThreadChoice.TRIAL, "never tried the calling thread alone");
    }

    @Test
    void takesTheCallerAloneWhenTheSecondThreadLosesAndComesBack() {
        ThreadChoice c = new ThreadChoice(2, true);
        // runs 0-4999: both threads share one core (0.62 ms against 0.44 alone); from 5000 on: two cores (0.27)
        LongBinaryOperator machine = (r, s) -> s == 1 ? 440_000 : r < 5000 ? 620_000 : 270_000;
        boolean[] modes = new boolean[10_000];
        drive(c, modes.length, machine, modes);
        int serialBefore = 0, serialAfter = 0;
        for (int r = 1000; r < 5000; r++) if (modes[r]) serialBefore++;
        for (int r = 6000; r < 10_000; r++) if (modes[r]) serialAfter++;
        assertTrue(serialBefore > 3800, "only " + serialBefore + " of runs 1000-4999 on the caller alone");
        assertTrue(serialAfter < 200, serialAfter + " of runs 6000-9999 on the caller alone");
        assertFalse(c.serial());
    }

    /**
     * Long runs (a ResNet-18 step, 70 ms on two threads, 116 on one, 165 with both vCPUs on one core) start their trials
     * after about two seconds instead of 64 runs, and come back to every thread within a few seconds of the machine's
     * change.
     */
    @Test
    void longRunsAreTriedWithinSeconds() {
        ThreadChoice c = new ThreadChoice(2, true);
        boolean[] modes = new boolean[400];
        drive(c, modes.length, (r, s) -> s == 1 ? 116_000_000 : r < 200 ? 165_000_000 : 70_000_000, modes);
        int first = 0;
        while (!modes[first]) first++;
        assertTrue(first >= ThreadChoice.FEWEST && first <= 2_000_000_000L / 165_000_000 + 1, "first trial at run " + first);
        int serialSlow = 0;
        for (int r = 40; r < 200; r++) if (modes[r]) serialSlow++;
        assertTrue(serialSlow >= 150, "only " + serialSlow + " of runs 40-199 on the caller alone");
        int serialLate = 0;
        for (int r = 300; r < 400; r++) if (modes[r]) serialLate++;
        assertTrue(serialLate <= ThreadChoice.TRIAL * ThreadChoice.BLOCK, serialLate + " of runs 300-399 on the caller alone");
    }

    /**
     * Two vCPUs on different dies: the caller alone takes 0.44 ms a run once the data is in its cache and both threads
     * 0.53, but the first run after a change of mode fetches the data from the other die (+0.40 ms alone, +0.30 on
     * both). Trials that alternate single runs only ever see first runs (0.84 against 0.83) and kept both threads; the
     * trials' blocks time the steady runs.
     */
    @Test
    void aChangeOfModeThatCostsItsFirstRunIsJudgedByTheRunsAfter() {
        ThreadChoice c = new ThreadChoice(2, true);
        boolean[] last = {false};
        LongBinaryOperator machine = (r, s) -> {
            boolean serial = s == 1, changed = serial != last[0];
            last[0] = serial;
            return serial ? 440_000 + (changed ? 400_000 : 0) : 530_000 + (changed ? 300_000 : 0);
        };
        boolean[] modes = new boolean[5000];
        drive(c, modes.length, machine, modes);
        int serialLate = 0;
        for (int r = 1000; r < 5000; r++) if (modes[r]) serialLate++;
        assertTrue(serialLate > 3600, "only " + serialLate + " of runs 1000-4999 on the caller alone");
    }

    /** Run times that fall as the JIT compiles, alike in both modes: the alternating trials see no difference. */
    @Test
    void aDriftCommonToBothModesSwitchesNothing() {
        ThreadChoice c = new ThreadChoice(2, true);
        drive(c, 5000, (r, s) -> (s == 1 ? 300_000 : 280_000) + 20_000_000 / (r + 1), null);
        assertTrue(c.summary().endsWith(" 0 switches"), c.summary());
    }

    @Test
    void oneThreadOrTurnedOffNeverKeepsToTheCaller() {
        for (ThreadChoice c : new ThreadChoice[] {new ThreadChoice(1, true), new ThreadChoice(4, false)}) {
            assertEquals(0, drive(c, 2000, (r, s) -> s == 1 ? 1 : 1_000_000, null));
            assertEquals("all runs on every thread", c.summary());
        }
    }
}
