package dev.gale.backends.cpu.runtime;

import java.util.Arrays;

/**
 * Chooses, run by run, whether a plan's loops use all of the kernel pool's threads or the calling thread alone
 * ({@link dev.gale.backends.cpu.KernelPool#callerOnly}), by timing runs of both kinds: the plan runs in its current
 * mode and now and then tries a few runs in the other, taking it when their median is clearly faster than the median
 * of the last runs in the current one. Results are the same either way; only the time differs.
 *
 * <p>Why: on the 2-vCPU virtual machines Gale is benchmarked on, the host at times runs both vCPUs on one physical
 * core. Then two threads of multiply-adds each run at half speed (a register-only FMA loop on both vCPUs took 87 ms per
 * thread instead of 44, in phases of seconds, both threads on different vCPUs), a loop split over both takes as long
 * as on one thread plus the hand-offs, and the 784-256-10 MLP's training step took 0.61-0.66 ms on two threads
 * against 0.44 on one. At other times it runs them on different dies, where a cache line takes 320-400 ns to go to
 * the other core and back instead of about 70, and every tensor a loop's other thread wrote must cross (the MLP's step
 * 0.53-0.56 ms on two threads, about 0.46 on the caller alone). Such phases come and go within a process, so the
 * choice is remade all along.
 *
 * <p>A trial that loses costs its runs' extra time; trials are spaced so that losing ones cost at most
 * {@link #TRIAL_COST} of the time, and at least {@link #MIN_GAP} runs apart. Not thread-safe: one per plan, whose runs
 * do not overlap.
 */
final class ThreadChoice {
    /**
     * Runs before the first trial (the JIT compiles the plan's loops meanwhile), or fewer when they took
     * {@link #WARMUP_NANOS} (a ResNet-18 training step takes 70 ms), but at least {@link #FEWEST}.
     */
    static final int WARMUP = 64;
    static final long WARMUP_NANOS = 2_000_000_000L;
    /**
     * Timed runs of each mode in a trial: blocks of the two modes alternate, the other mode first. With two, the
     * "median" is the slower of them, for both modes alike.
     */
    static final int TRIAL = 2;
    /**
     * Runs in a block, of which only the last is timed: the first after a change of mode moves the plan's data between
     * the cores' caches (with two vCPUs on different dies, the MLP's step on the caller alone took 0.44 ms once its
     * data was there, more right after a run on both threads), and the steady mode is what a trial should compare.
     */
    static final int BLOCK = 2;
    /** Fewest runs between two trials: as many as take a second, within [FEWEST, MIN_GAP]. */
    static final int MIN_GAP = 64;
    static final int FEWEST = 8;
    /** Most runs between two trials, so that a change of the machine is noticed within a bounded number of runs. */
    static final int MAX_GAP = 1 << 14;
    /** The share of time that losing trials may cost at most. */
    static final double TRIAL_COST = 0.02;
    /** The other mode takes over when its median is below this share of the current mode's. */
    static final double MARGIN = 0.9;

    private final boolean enabled;
    private boolean serial;
    /** Runs into the current trial (0 to 2 TRIAL BLOCK - 1), or -1 outside one. */
    private int trialRun = -1;
    private final long[] other = new long[TRIAL], current = new long[TRIAL], sorted = new long[TRIAL];
    private long runs, nextTrial = WARMUP, serialRuns, switches, elapsed;
    private boolean tried;

    /** A choice for a pool of {@code threads} participants; with one there is nothing to choose. */
    ThreadChoice(int threads, boolean enabled) { this.enabled = enabled && threads > 1; }

    /** Whether the next run should keep to the calling thread. */
    boolean nextSerial() {
        if (!enabled) return false;
        if (trialRun < 0 && (runs >= nextTrial || !tried && runs >= FEWEST && elapsed >= WARMUP_NANOS)) {
            trialRun = 0;
            tried = true;
        }
        return trialRun >= 0 && trialRun / BLOCK % 2 == 0 ? !serial : serial;
    }

    /**
     * Records how long the run that {@link #nextSerial} was asked for took. Within a trial blocks of the two modes
     * alternate, so that a drift of the run time (the JIT still compiling, the machine getting busier) weighs on both
     * alike.
     */
    void record(long nanos) {
        if (!enabled) return;
        int block = trialRun / BLOCK;
        boolean trying = trialRun >= 0 && block % 2 == 0;
        runs++;
        elapsed += nanos;
        if (trying != serial) serialRuns++;
        if (trialRun < 0) return;
        if (trialRun % BLOCK == BLOCK - 1) (trying ? other : current)[block / 2] = nanos;
        if (++trialRun < 2 * TRIAL * BLOCK) return;
        trialRun = -1;
        long now = median(current), alt = median(other);
        long least = now > 0 ? Math.clamp(1_000_000_000L / now, FEWEST, MIN_GAP) : MIN_GAP, gap = least;
        if (alt < MARGIN * now) {
            serial = !serial;
            switches++;
        } else if (now > 0) {
            double lost = (double) (alt - now) * TRIAL * BLOCK;
            gap = (long) Math.clamp(lost / (TRIAL_COST * now), least, MAX_GAP);
        }
        nextTrial = runs + gap;
    }

    /** The mode runs take outside trials: true when the calling thread works alone. */
    boolean serial() { return serial; }

    /** Runs recorded, runs that kept to the calling thread, and switches of mode, for the profile's report. */
    String summary() {
        return enabled ? serialRuns + " of " + runs + " runs on the calling thread alone, " + switches + " switches"
                : "all runs on every thread";
    }

    /** The median of v, without allocating (runs are on the step path). */
    private long median(long[] v) {
        System.arraycopy(v, 0, sorted, 0, v.length);
        Arrays.sort(sorted);
        return sorted[v.length / 2];
    }
}
