package dev.gale.train.optim;

import dev.gale.ir.GaleException;

/**
 * Builds optimizers by name with PyTorch's defaults for any hyper-parameter left unset (null): SGD momentum 0;
 * Adam and AdamW betas (0.9, 0.999), eps 1e-8, weight decay 0 for Adam and 1e-2 for AdamW; Adagrad eps 1e-10.
 */
public final class Optimizers {
    private Optimizers() {}

    public static Optimizer create(String name, Double momentum, Boolean nesterov, Double beta1, Double beta2,
                                   Double eps, Double weightDecay) {
        return switch (name) {
            case "sgd" -> new Sgd(or(momentum, 0), 0, or(weightDecay, 0), nesterov != null && nesterov);
            case "adam" -> new Adam(or(beta1, 0.9), or(beta2, 0.999), or(eps, 1e-8), or(weightDecay, 0), false);
            case "adamw" -> new Adam(or(beta1, 0.9), or(beta2, 0.999), or(eps, 1e-8), or(weightDecay, 1e-2), true);
            case "adagrad" -> new Adagrad(0, or(weightDecay, 0), 0, or(eps, 1e-10));
            default -> throw new GaleException("unknown optimizer '" + name + "' (use sgd, adam, adamw or adagrad)");
        };
    }

    private static double or(Double v, double def) { return v == null ? def : v; }
}
