package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: Softmax, LogSoftmax and Hardmax along one axis (opset-13 meaning), and the losses
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. Registered by {@link ReductionKernels}.
 */
final class SoftmaxKernels {
    private SoftmaxKernels() {}

    static void registerAll() {
        register("Softmax", Kernel.single(c -> softmax(c, c.required(0), axis(c), false)));
        register("LogSoftmax", Kernel.single(c -> softmax(c, c.required(0), axis(c), true)));
        register("Hardmax", Kernel.single(SoftmaxKernels::hardmax));
        register("NegativeLogLikelihoodLoss", Kernel.single(c -> nll(c, c.required(0), c.required(1), c.in(2))));
        register("SoftmaxCrossEntropyLoss", c -> {
            Tensor scores = c.required(0);
            if (scores.rank() < 2) throw c.error("the scores need shape (N, C, ...), got " + scores.type());
            Tensor logProb = softmax(c, scores, 1, true);
            Tensor loss = nll(c, logProb, c.required(1), c.in(2));
            return c.numOutputs() > 1 ? List.of(loss, logProb) : List.of(loss);
        });
    }

    private static int axis(KernelCall c) {
        Tensor x = c.required(0);
        if (!x.dtype().isFloat()) throw c.error("input must be a floating-point tensor, got " + x.dtype());
        return Reduce.axis(c.attrInt("axis"), x.rank(), c);
    }

    /**
     * exp(x - max) / sum(exp(x - max)) along the axis, or its log, (x - max) - log(sum(exp(x - max))): subtracting
     * the maximum keeps exp from overflowing; the sum runs in float64.
     */
    static Tensor softmax(KernelCall c, Tensor x, int axis, boolean log) {
        if (!x.dtype().isFloat()) throw c.error("input must be a floating-point tensor, got " + x.dtype());
        Reduce.Axis v = Reduce.Axis.of(x.shape(), axis);
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int o = 0; o < v.outer(); o++) {
            for (int i = 0; i < v.inner(); i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < v.len(); k++) max = Math.max(max, x.getDouble(v.at(o, k, i)));
                double sum = 0;
                for (int k = 0; k < v.len(); k++) sum += Math.exp(x.getDouble(v.at(o, k, i)) - max);
                double logSum = Math.log(sum);
                for (int k = 0; k < v.len(); k++) {
                    double d = x.getDouble(v.at(o, k, i)) - max;
                    y.setDouble(v.at(o, k, i), log ? d - logSum : Math.exp(d) / sum);
                }
            }
        }
        return y;
    }

    /** 1 at the first maximum along the axis, 0 elsewhere. */
    private static Tensor hardmax(KernelCall c) {
        Tensor x = c.required(0);
        Reduce.Axis v = Reduce.Axis.of(x.shape(), axis(c));
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int o = 0; o < v.outer(); o++) {
            for (int i = 0; i < v.inner(); i++) {
                int best = 0;
                for (int k = 1; k < v.len(); k++)
                    if (Reduce.compare(x, v.at(o, k, i), v.at(o, best, i)) > 0) best = k;
                if (v.len() > 0) y.setDouble(v.at(o, best, i), 1);
            }
        }
        return y;
    }

    /**
     * The targets of a loss over scores {@code (N, C, d1..dk)} and targets {@code (N, d1..dk)}, flattened to
     * {@code n * d} slots: {@code cls[s]} is the class of slot s, or -1 when it equals ignore_index; {@code w[s]} its
     * weight (0 when ignored) and {@code weightSum} the sum over the counted slots. Element (b, class, j) of the scores
     * is at {@code (b * classes + class) * d + j}.
     */
    record Targets(int classes, int d, int[] cls, double[] w, double weightSum) {
        int at(int slot, int k) { return (slot / d * classes + k) * d + slot % d; }

        static Targets of(KernelCall c, Tensor input, Tensor target, Tensor weight) {
            if (!input.dtype().isFloat()) throw c.error("the input must be floating-point, got " + input.dtype());
            if (target.dtype() != DType.INT32 && target.dtype() != DType.INT64)
                throw c.error("the target must be int32 or int64, got " + target.dtype());
            if (input.rank() < 2) throw c.error("the input needs shape (N, C, ...), got " + input.type());
            boolean shapesMatch = target.rank() == input.rank() - 1 && target.dim(0) == input.dim(0);
            for (int k = 1; shapesMatch && k < target.rank(); k++) shapesMatch = target.dim(k) == input.dim(k + 1);
            if (!shapesMatch)
                throw c.error("the target shape " + target.type() + " does not match the input " + input.type());
            int n = (int) input.dim(0), classes = (int) input.dim(1), d = n == 0 ? 1 : target.numel() / n;
            if (weight != null && (weight.rank() != 1 || weight.dim(0) != classes))
                throw c.error("the weight must have shape [" + classes + "], got " + weight.type());
            boolean hasIgnore = c.hasAttr("ignore_index");
            long ignore = hasIgnore ? c.attrInt("ignore_index") : 0;
            int[] cls = new int[target.numel()];
            double[] w = new double[target.numel()];
            double weightSum = 0;
            for (int s = 0; s < cls.length; s++) {
                long t = target.getLong(s);
                cls[s] = -1;
                if (hasIgnore && t == ignore) continue;
                if (t < 0 || t >= classes) throw c.error("target value " + t + " is out of range [0, " + classes + ")");
                cls[s] = (int) t;
                w[s] = weight == null ? 1 : weight.getDouble((int) t);
                weightSum += w[s];
            }
            return new Targets(classes, d, cls, w, weightSum);
        }
    }

    private static String reduction(KernelCall c) {
        String r = c.attrString("reduction");
        if (!List.of("none", "sum", "mean").contains(r))
            throw c.error("reduction must be 'none', 'sum' or 'mean', got '" + r + "'");
        return r;
    }

    /**
     * Negative log-likelihood of {@code input (N, C, d1..dk)} (log-probabilities) at the classes {@code target
     * (N, d1..dk)}: loss = -weight[t] * input[n, t, d]; targets equal to ignore_index contribute nothing and weigh 0.
     * "mean" divides the summed loss by the summed weights of the counted targets.
     */
    static Tensor nll(KernelCall c, Tensor input, Tensor target, Tensor weight) {
        Targets ts = Targets.of(c, input, target, weight);
        String reduction = reduction(c);
        double[] loss = new double[ts.cls().length];
        double lossSum = 0;
        for (int s = 0; s < loss.length; s++) {
            if (ts.cls()[s] < 0) continue;
            loss[s] = -ts.w()[s] * input.getDouble(ts.at(s, ts.cls()[s]));
            lossSum += loss[s];
        }
        return switch (reduction) {
            case "none" -> {
                Tensor y = Tensor.zeros(input.dtype(), target.shape());
                for (int i = 0; i < loss.length; i++) y.setDouble(i, loss[i]);
                yield y;
            }
            case "sum" -> Tensor.scalar(input.dtype(), lossSum);
            default -> Tensor.scalar(input.dtype(), lossSum / ts.weightSum());
        };
    }

    /**
     * The gale-domain backward of NegativeLogLikelihoodLoss ({@code softmax} false) or SoftmaxCrossEntropyLoss
     * (true): inputs (dloss, scores, target[, weight]), attributes as on the forward node; returns d loss / d scores.
     * A counted target slot s weighs coef = w[t] * g, g being dloss (sum), dloss / summed weights (mean) or
     * dloss[s] (none); NLL's gradient is -coef at the target class, the cross entropy's coef * (softmax - onehot(t)).
     * Ignored slots get 0, as in PyTorch.
     */
    static Tensor lossGrad(KernelCall c, boolean softmax) {
        Tensor dLoss = c.required(0), x = c.required(1), target = c.required(2);
        Targets ts = Targets.of(c, x, target, c.in(3));
        String reduction = reduction(c);
        boolean perSlot = reduction.equals("none");
        if (perSlot ? !java.util.Arrays.equals(dLoss.shape(), target.shape()) : dLoss.numel() != 1)
            throw c.error("the loss gradient has shape " + dLoss.type() + ", expected "
                    + (perSlot ? "the target's shape " + target.type() : "a scalar"));
        Tensor p = softmax ? softmax(c, x, 1, false) : null;
        Tensor dx = Tensor.zeros(x.dtype(), x.shape());
        for (int s = 0; s < ts.cls().length; s++) {
            int t = ts.cls()[s];
            if (t < 0) continue;
            double g = perSlot ? dLoss.getDouble(s) : dLoss.getDouble(0);
            double coef = ts.w()[s] * (reduction.equals("mean") ? g / ts.weightSum() : g);
            if (!softmax) {
                dx.setDouble(ts.at(s, t), -coef);
                continue;
            }
            for (int k = 0; k < ts.classes(); k++)
                dx.setDouble(ts.at(s, k), coef * (p.getDouble(ts.at(s, k)) - (k == t ? 1 : 0)));
        }
        return dx;
    }
}
