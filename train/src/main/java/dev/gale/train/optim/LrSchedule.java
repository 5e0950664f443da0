package dev.gale.train.optim;

import dev.gale.ir.GaleException;

/**
 * Learning rate per step (1-based): {@code constant}; {@code linear-warmup} (rises linearly to the base rate over
 * the warmup steps, then stays); {@code cosine} (linear warmup, then cosine decay to {@code minLr} at the last step).
 */
public record LrSchedule(String kind, double base, long warmupSteps, long totalSteps, double minLr) {
    public LrSchedule {
        if (!kind.equals("constant") && !kind.equals("linear-warmup") && !kind.equals("cosine"))
            throw new GaleException("unknown learning-rate schedule '" + kind + "' (use constant, linear-warmup or cosine)");
        if (base <= 0 || !Double.isFinite(base)) throw new GaleException("learning rate must be positive, got " + base);
        if (warmupSteps < 0) throw new GaleException("warmup steps must be >= 0");
    }

    public static LrSchedule constant(double lr) { return new LrSchedule("constant", lr, 0, 0, 0); }

    public double at(long step) {
        if (kind.equals("constant")) return base;
        if (warmupSteps > 0 && step <= warmupSteps) return base * step / warmupSteps;
        if (kind.equals("linear-warmup")) return base;
        long decay = Math.max(1, totalSteps - warmupSteps);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decay);
        return minLr + (base - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
