package dev.gale.train.optim;

/**
 * Clipping by global norm as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm over all gradients;
 * every gradient is scaled by {@code min(1, max_norm / (norm + 1e-6))}.
 */
public final class GradClip {
    private GradClip() {}

    /** Clips float elements {@code [from, to)} of {@code grads} in place and returns the norm before clipping. */
    public static double clip(java.lang.foreign.MemorySegment grads, int from, int to, double maxNorm) {
        var f = java.lang.foreign.ValueLayout.JAVA_FLOAT;
        double sq = 0;
        for (int i = from; i < to; i++) {
            double g = grads.getAtIndex(f, i);
            sq += g * g;
        }
        double norm = Math.sqrt(sq);
        float coef = (float) Math.min(1.0, maxNorm / (norm + 1e-6));
        if (coef < 1f) for (int i = from; i < to; i++) grads.setAtIndex(f, i, grads.getAtIndex(f, i) * coef);
        return norm;
    }
}
