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
     * Negative log-likelihood of {@code input (N, C, d1..dk)} (log-probabilities) at the classes {@code target
     * (N, d1..dk)}: loss = -weight[t] * input[n, t, d]; targets equal to ignore_index contribute nothing and weigh 0.
     * "mean" divides the summed loss by the summed weights of the counted targets.
     */
    static Tensor nll(KernelCall c, Tensor input, Tensor target, Tensor weight) {
        if (!input.dtype().isFloat()) throw c.error("the input must be floating-point, got " + input.dtype());
        if (target.dtype() != DType.INT32 && target.dtype() != DType.INT64)
            throw c.error("the target must be int32 or int64, got " + target.dtype());
        if (input.rank() < 2) throw c.error("the input needs shape (N, C, ...), got " + input.type());
        boolean shapesMatch = target.rank() == input.rank() - 1 && target.dim(0) == input.dim(0);
        for (int k = 1; shapesMatch && k < target.rank(); k++) shapesMatch = target.dim(k) == input.dim(k + 1);
        if (!shapesMatch)
            throw c.error("the target shape " + target.type() + " does not match the input " + input.type());
        int n = (int) input.dim(0), classes = (int) input.dim(1), d = n == 0 ? 0 : target.numel() / n;
        if (weight != null && (weight.rank() != 1 || weight.dim(0) != classes))
            throw c.error("the weight must have shape [" + classes + "], got " + weight.type());
        boolean hasIgnore = c.hasAttr("ignore_index");
        long ignore = hasIgnore ? c.attrInt("ignore_index") : 0;
        String reduction = c.attrString("reduction");
        double[] loss = new double[target.numel()];
        double lossSum = 0, weightSum = 0;
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < d; j++) {
                long t = target.getLong(b * d + j);
                if (hasIgnore && t == ignore) continue;
                if (t < 0 || t >= classes)
                    throw c.error("target value " + t + " is out of range [0, " + classes + ")");
                double w = weight == null ? 1 : weight.getDouble((int) t);
                loss[b * d + j] = -w * input.getDouble((b * classes + (int) t) * d + j);
                lossSum += loss[b * d + j];
                weightSum += w;
            }
        }
        return switch (reduction) {
            case "none" -> {
                Tensor y = Tensor.zeros(input.dtype(), target.shape());
                for (int i = 0; i < loss.length; i++) y.setDouble(i, loss[i]);
                yield y;
            }
            case "sum" -> Tensor.scalar(input.dtype(), lossSum);
            case "mean" -> Tensor.scalar(input.dtype(), lossSum / weightSum);
            default -> throw c.error("reduction must be 'none', 'sum' or 'mean', got '" + reduction + "'");
        };
    }
}
