package dev.gale.train.optim;

/**
 * Clipping by global norm as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm over all gradients;
 * every gradient is scaled by {@code min(1, max_norm / (norm + 1e-6))}.
 */
public final class GradClip {
    private GradClip() {}

    /** Clips {@code grads[from, to)} in place and returns the norm before clipping. */
    public static double clip(float[] grads, int from, int to, double maxNorm) {
        double sq = 0;
        for (int i = from; i < to; i++) sq += (double) grads[i] * grads[i];
        double norm = Math.sqrt(sq);
        float coef = (float) Math.min(1.0, maxNorm / (norm + 1e-6));
        if (coef < 1f) for (int i = from; i < to; i++) grads[i] *= coef;
        return norm;
    }
}
