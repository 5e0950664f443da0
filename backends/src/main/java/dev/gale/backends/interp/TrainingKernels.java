package dev.gale.backends.interp;

import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: the optimizers of ai.onnx.preview.training. Inputs are the learning rate R, the step count T,
 * then n tensors per group (X..., G..., state...); outputs are the new X... and new state groups. Every update is
 * elementwise and computed in float64; {@code g = norm_coefficient * x + g} adds the L2 regularization gradient.
 */
final class TrainingKernels {
    private TrainingKernels() {}

    /** One optimizer step on element values: x, g, then the states; returns the new x and the new states. */
    @FunctionalInterface
    private interface Update {
        double[] apply(double x, double g, double[] state);
    }

    static void registerAll() {
        register(OpsetInfo.TRAINING_DOMAIN, "Adam", c -> {
            double alpha = c.attrFloat("alpha"), beta = c.attrFloat("beta"), eps = c.attrFloat("epsilon");
            double norm = c.attrFloat("norm_coefficient"), post = c.attrFloat("norm_coefficient_post");
            double r = rate(c), t = step(c);
            // Bias correction of both moments folded into the rate; none on the first step (T = 0).
            double rAdjusted = t > 0 ? r * Math.sqrt(1 - Math.pow(beta, t)) / (1 - Math.pow(alpha, t)) : r;
            return run(c, 2, (x, g, s) -> {
                double gr = norm * x + g;
                double v = alpha * s[0] + (1 - alpha) * gr;
                double h = beta * s[1] + (1 - beta) * gr * gr;
                double xNew = x - rAdjusted * v / (Math.sqrt(h) + eps);
                return new double[] {(1 - post) * xNew, v, h};
            });
        });
        register(OpsetInfo.TRAINING_DOMAIN, "Adagrad", c -> {
            double decay = c.attrFloat("decay_factor"), eps = c.attrFloat("epsilon");
            double norm = c.attrFloat("norm_coefficient");
            double r = rate(c) / (1 + step(c) * decay);
            return run(c, 1, (x, g, s) -> {
                double gr = norm * x + g;
                double h = s[0] + gr * gr;
                return new double[] {x - r * gr / (Math.sqrt(h) + eps), h};
            });
        });
        register(OpsetInfo.TRAINING_DOMAIN, "Momentum", c -> {
            double alpha = c.attrFloat("alpha"), beta = c.attrFloat("beta"), norm = c.attrFloat("norm_coefficient");
            String mode = c.attrString("mode");
            if (!mode.equals("standard") && !mode.equals("nesterov"))
                throw c.error("mode must be 'standard' or 'nesterov', got '" + mode + "'");
            boolean nesterov = mode.equals("nesterov");
            double r = rate(c);
            double betaAdjusted = step(c) > 0 ? beta : 1; // the first step takes the whole gradient
            return run(c, 1, (x, g, s) -> {
                double gr = norm * x + g;
                double v = alpha * s[0] + betaAdjusted * gr;
                return new double[] {nesterov ? x - r * (gr + alpha * v) : x - r * v, v};
            });
        });
        // --- Gradient (control helper) ---
        // Gradient is a graph-level op: the passes module lowers it to explicit backward nodes before execution.
        register(OpsetInfo.TRAINING_DOMAIN, "Gradient", c -> {
            throw c.error("Gradient nodes must be lowered before execution: apply"
                    + " dev.gale.passes.LowerGradientOps.apply(model) first (gale run and gale conformance do;"
                    + " Gradient inside If/Loop/Scan bodies is not lowered)");
        });
    }

    private static double rate(KernelCall c) {
        Tensor r = c.required(0);
        if (r.numel() != 1) throw c.error("R must be a scalar, got shape " + Arrays.toString(r.shape()));
        return r.getDouble(0);
    }

    private static double step(KernelCall c) {
        Tensor t = c.required(1);
        if (t.numel() != 1) throw c.error("T must be a scalar, got shape " + Arrays.toString(t.shape()));
        return t.getLong(0);
    }

    /** Applies {@code u} to every element of each of the n (X, G, state...) tuples; outputs X..., then each state. */
    private static List<Object> run(KernelCall c, int states, Update u) {
        int groups = 2 + states, rest = c.numInputs() - 2;
        if (rest < groups || rest % groups != 0)
            throw c.error("expects R, T and " + groups + " groups of n >= 1 tensors, got " + c.numInputs() + " inputs");
        int n = rest / groups;
        if (c.numOutputs() != (1 + states) * n)
            throw c.error("with " + n + " tensor(s) per group expects " + (1 + states) * n + " outputs, got "
                    + c.numOutputs());
        Tensor[][] outs = new Tensor[1 + states][n];
        for (int i = 0; i < n; i++) {
            Tensor x = c.required(2 + i), g = c.required(2 + n + i);
            Tensor[] s = new Tensor[states];
            for (int k = 0; k < states; k++) s[k] = c.required(2 + (2 + k) * n + i);
            for (Tensor t : concat(g, s))
                if (!Arrays.equals(t.shape(), x.shape()))
                    throw c.error("tensor " + i + " of each group must share X's shape " + Arrays.toString(x.shape())
                            + ", got " + Arrays.toString(t.shape()));
            outs[0][i] = Tensor.zeros(x.dtype(), x.shape());
            for (int k = 0; k < states; k++) outs[1 + k][i] = Tensor.zeros(s[k].dtype(), x.shape());
            double[] state = new double[states];
            for (int e = 0; e < x.numel(); e++) {
                for (int k = 0; k < states; k++) state[k] = s[k].getDouble(e);
                double[] r = u.apply(x.getDouble(e), g.getDouble(e), state);
                for (int k = 0; k <= states; k++) outs[k][i].setDouble(e, r[k]);
            }
        }
        List<Object> result = new ArrayList<>();
        for (Tensor[] group : outs) result.addAll(Arrays.asList(group));
        return result;
    }

    private static Tensor[] concat(Tensor g, Tensor[] s) {
        Tensor[] all = Arrays.copyOf(s, s.length + 1);
        all[s.length] = g;
        return all;
    }
}
