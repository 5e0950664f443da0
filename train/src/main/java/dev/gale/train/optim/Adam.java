package dev.gale.train.optim;

import dev.gale.ir.GaleException;
import dev.gale.train.TrainingState;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam and AdamW as {@code torch.optim.Adam} / {@code torch.optim.AdamW}:
 * Adam folds weight decay into the gradient ({@code g += wd * p}); AdamW decays the parameter first
 * ({@code p *= 1 - lr * wd}). Then {@code m = b1 m + (1 - b1) g}, {@code v = b2 v + (1 - b2) g^2},
 * {@code p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)} (epsilon outside the square root).
 */
public final class Adam implements Optimizer {
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled;

    public Adam(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1)
            throw new GaleException("Adam needs 0 <= beta1, beta2 < 1 (got " + beta1 + ", " + beta2 + ")");
        if (eps < 0 || weightDecay < 0) throw new GaleException("Adam needs eps >= 0 and weight decay >= 0");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    @Override
    public String name() { return decoupled ? "adamw" : "adam"; }

    @Override
    public void update(TrainingState s, int from, int to, long step, double lr) {
        var p = s.params(); var g = s.grads(); var m = s.moment("exp_avg"); var v = s.moment("exp_avg_sq");
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2);
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        float e = (float) eps, wd = (float) weightDecay, decay = (float) (1 - lr * weightDecay);
        VectorUpdates.adam(p, g, m, v, from, to, stepSize, bc2Sqrt, b1, b2, c1, c2, e, wd, decay, decoupled);
    }

    @Override
    public Map<String, Double> hyperParameters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("eps", eps);
        m.put("weight_decay", weightDecay);
        return m;
    }
}
