package dev.gale.train.optim;

import dev.gale.ir.GaleException;
import dev.gale.train.TrainingState;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adagrad as {@code torch.optim.Adagrad}: {@code g += wd * p}; {@code clr = lr / (1 + (t - 1) * lr_decay)};
 * {@code sum += g^2}; {@code p -= clr * g / (sqrt(sum) + eps)}. The accumulator starts at
 * {@code initial_accumulator_value}.
 */
public final class Adagrad implements Optimizer {
    private final double lrDecay, weightDecay, initialAccumulator, eps;

    public Adagrad(double lrDecay, double weightDecay, double initialAccumulator, double eps) {
        if (lrDecay < 0 || weightDecay < 0 || initialAccumulator < 0 || eps < 0)
            throw new GaleException("Adagrad hyper-parameters must be >= 0");
        this.lrDecay = lrDecay;
        this.weightDecay = weightDecay;
        this.initialAccumulator = initialAccumulator;
        this.eps = eps;
    }

    @Override
    public String name() { return "adagrad"; }

    @Override
    public void update(TrainingState s, int from, int to, long step, double lr) {
        boolean fresh = !s.hasMoment("sum");
        var p = s.params();
        var g = s.grads();
        var sum = s.moment("sum");
        if (fresh && initialAccumulator != 0)
            for (long i = 0; i < s.layout().size(); i++) sum.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) initialAccumulator);
        float clr = (float) (lr / (1 + (step - 1) * lrDecay)), wd = (float) weightDecay, e = (float) eps;
        VectorUpdates.adagrad(p, g, sum, from, to, clr, wd, e);
    }

    @Override
    public Map<String, Double> hyperParameters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("lr_decay", lrDecay);
        m.put("weight_decay", weightDecay);
        m.put("initial_accumulator_value", initialAccumulator);
        m.put("eps", eps);
        return m;
    }
}
