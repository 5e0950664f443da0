package dev.gale.train.optim;

import dev.gale.ir.GaleException;
import dev.gale.train.TrainingState;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD}: {@code g += wd * p}; with momentum,
 * {@code buf = g} on the first step, then {@code buf = momentum * buf + (1 - dampening) * g}; Nesterov uses
 * {@code g + momentum * buf}; {@code p -= lr * update}.
 */
public final class Sgd implements Optimizer {
    private final double momentum, dampening, weightDecay;
    private final boolean nesterov;

    public Sgd(double momentum, double dampening, double weightDecay, boolean nesterov) {
        if (momentum < 0 || weightDecay < 0) throw new GaleException("SGD needs momentum >= 0 and weight decay >= 0");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new GaleException("Nesterov momentum needs momentum > 0 and dampening 0");
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    @Override
    public String name() { return "sgd"; }

    @Override
    public void update(TrainingState s, int from, int to, long step, double lr) {
        var p = s.params();
        var g = s.grads();
        var buf = momentum != 0 ? s.moment("momentum_buffer") : null;
        float wd = (float) weightDecay, mom = (float) momentum, damp = (float) (1 - dampening), rate = (float) lr;
        VectorUpdates.sgd(p, g, buf, from, to, wd, mom, damp, rate, step == 1, nesterov);
    }

    @Override
    public Map<String, Double> hyperParameters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("momentum", momentum);
        m.put("dampening", dampening);
        m.put("weight_decay", weightDecay);
        m.put("nesterov", nesterov ? 1.0 : 0.0);
        return m;
    }
}
