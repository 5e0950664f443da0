package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.Gradients.rule;

/**
 * Gradient rules: reductions, the softmax family, CumSum, TopK and the losses. Each rule reads as forward / backward.
 *
 * <p>A reduction's gradient has the reduced shape of y; {@link #unreduce} gives it back the reduced axes as size 1
 * (an Unsqueeze by the forward's own axes input when keepdims is 0), so it broadcasts against x, and {@link #expand}
 * broadcasts it to x's shape. Nothing assumes static shapes: axes are reused as the forward node's input, x's shape
 * and element counts come from Shape/Size when they are not known at compile time.
 */
final class ReductionGradients {
    private ReductionGradients() {}

    private static final Map<String, Attr> NONE = Map.of();

    static List<Value> list(Value... v) { return Arrays.asList(v); }

    static void attach() {
        // y = sum(x, axes)  /  dx = expand(dy)
        reduction("ReduceSum", c -> list(expand(c, c.dOut(0)), null));
        // y = sum(x, axes) / n  /  dx = expand(dy) / n, n = numel(x) / numel(y)
        reduction("ReduceMean", c -> list(c.op("Div", NONE, expand(c, c.dOut(0)), count(c)), null));
        // y = sum(x^2)  /  dx = 2 x dy
        reduction("ReduceSumSquare", c ->
                list(mul(c, mul(c, c.scalar(2, c.in(0)), c.in(0)), unreduce(c, c.dOut(0))), null));
        // y = sum(|x|)  /  dx = sign(x) dy (0 at x = 0, as torch)
        reduction("ReduceL1", c -> list(mul(c, c.op("Sign", NONE, c.in(0)), unreduce(c, c.dOut(0))), null));
        // y = sqrt(sum(x^2))  /  dx = x dy / y, and 0 where y = 0 (torch's norm masks the zero norm)
        reduction("ReduceL2", c -> {
            Value y = c.out(0), zero = c.scalar(0, y);
            Value q = c.op("Where", NONE, c.op("Equal", NONE, y, zero), zero, c.op("Div", NONE, c.dOut(0), y));
            return list(mul(c, c.in(0), unreduce(c, q)), null);
        });
        // y = log(sum(x))  /  dx = dy / sum(x) = dy / exp(y)
        reduction("ReduceLogSum", c ->
                list(expand(c, c.op("Div", NONE, c.dOut(0), c.op("Exp", NONE, c.out(0)))), null));
        // y = log(sum(exp(x)))  /  dx = dy exp(x - y)
        reduction("ReduceLogSumExp", c -> list(mul(c, unreduce(c, c.dOut(0)),
                c.op("Exp", NONE, c.op("Sub", NONE, c.in(0), unreduce(c, c.out(0))))), null));
        // y = max(x)  /  dx = dy / k at the k elements equal to y, 0 elsewhere (ties split evenly, as torch.amax)
        reduction("ReduceMax", ReductionGradients::extremum);
        reduction("ReduceMin", ReductionGradients::extremum);
        // y = prod(x)  /  dx = dy y / x (for nonzero x)
        reduction("ReduceProd", c -> list(c.op("Div", NONE, unreduce(c, mul(c, c.dOut(0), c.out(0))), c.in(0)), null));

        // i = argmax(x, axis): integer indices carry no gradient; said here so that no op is left without a rule
        rule("ArgMax", c -> list((Value) null));
        rule("ArgMin", c -> list((Value) null));

        // y = softmax(x, axis)  /  dx = y (dy - sum(dy y, axis))
        rule("Softmax", c -> {
            Value y = c.out(0), dy = c.dOut(0);
            return list(mul(c, y, c.op("Sub", NONE, dy, sumAlong(c, mul(c, dy, y), c.attrInt("axis")))));
        });
        // y = log_softmax(x, axis)  /  dx = dy - exp(y) sum(dy, axis)
        rule("LogSoftmax", c -> list(logSoftmaxGrad(c, c.out(0), c.dOut(0), c.attrInt("axis"))));
        // y = hardmax(x, axis) is piecewise constant: like ArgMax, no gradient flows through it
        rule("Hardmax", c -> list((Value) null));

        // y = cumsum(x, axis)  /  dx = cumsum(dy, axis) in the other direction, same exclusivity
        rule("CumSum", c -> list(c.op("CumSum", Map.of("exclusive", Attr.of(c.attrInt("exclusive")),
                "reverse", Attr.of(1 - c.attrInt("reverse"))), c.dOut(0), c.in(1)), null));
        // (v, i) = topk(x, k, axis)  /  dx = zeros like x with dv scattered back to i along axis; i has no gradient
        rule("TopK", c -> {
            Value x = c.in(0);
            Value zero = c.zerosLike(x);
            return list(c.op("ScatterElements", Map.of("axis", Attr.of(c.attrInt("axis"))), zero, c.out(1), c.dOut(0)),
                    null);
        });

        // (loss, log_prob) = nll(log_softmax(s, 1), t, w)  /  ds = gale SoftmaxCrossEntropyLossGrad(dloss, s, t, w)
        //   = coef (softmax(s) - onehot(t)) per target, plus log_prob's own gradient dlp - exp(lp) sum(dlp, 1)
        rule("SoftmaxCrossEntropyLoss", c -> {
            if (!c.needs(0)) return list(null, null, null); // a trained weight: no rule for it
            Value ds = c.dOut(0) == null ? null : lossGrad(c, "SoftmaxCrossEntropyLossGrad");
            Value dlp = c.dOut(1);
            if (dlp != null) {
                Value g = logSoftmaxGrad(c, c.out(1), dlp, 1);
                ds = ds == null ? g : c.op("Add", NONE, ds, g);
            }
            return list(ds, null, null);
        });
        // loss = -w[t] x[n, t, ...] (reduced)  /  dx = gale NegativeLogLikelihoodLossGrad(dloss, x, t, w): -coef at t
        rule("NegativeLogLikelihoodLoss", c ->
                list(c.needs(0) ? lossGrad(c, "NegativeLogLikelihoodLossGrad") : null, null, null));
    }

    /**
     * Attaches a reduction's rule. Gale's kernels (the opset-18 text) make a reduction with empty axes and
     * noop_with_empty_axes = 1 an identity, for every Reduce op, so its gradient is then dy.
     */
    private static void reduction(String op, GradientRule rule) {
        rule(op, c -> isIdentity(c) ? list(c.dOut(0), null) : rule.apply(c));
    }

    private static boolean isIdentity(GradContext c) {
        if (c.attrInt("noop_with_empty_axes") == 0) return false;
        if (!c.node().hasInput(1)) return true;
        Shape axes = c.typeOf(c.in(1)).shape();
        if (axes == null || axes.rank() != 1 || !axes.dim(0).isFixed())
            throw c.error("with noop_with_empty_axes = 1 the axes need a known length, to tell whether the reduction"
                    + " is an identity; give the axes as a constant");
        return axes.dim(0).equals(Dim.of(0));
    }

    private static Value mul(GradContext c, Value a, Value b) { return c.op("Mul", NONE, a, b); }

    /** dx of y = max/min(x): the share dy / k of each of the k elements equal to y. */
    private static List<Value> extremum(GradContext c) {
        Value x = c.in(0);
        Value hit = c.op("Cast", Map.of("to", Attr.of((long) c.dtypeOf(x).onnxCode())),
                c.op("Equal", NONE, x, unreduce(c, c.out(0))));
        Value k = c.node().hasInput(1)
                ? c.op("ReduceSum", keepdims(c), hit, c.in(1)) : c.op("ReduceSum", keepdims(c), hit);
        return list(mul(c, hit, unreduce(c, c.op("Div", NONE, c.dOut(0), k))), null);
    }

    /** The forward reduction's keepdims, for a ReduceSum over the same axes (never a no-op here). */
    private static Map<String, Attr> keepdims(GradContext c) {
        return Map.of("keepdims", Attr.of(c.attrInt("keepdims")));
    }

    /**
     * {@code v} (shaped like the reduction's output) with the reduced axes back as size 1, so it broadcasts against
     * x. Only keepdims = 0 with a non-empty axes input dropped axes; reducing everything leaves a scalar, which
     * broadcasts as it is.
     */
    private static Value unreduce(GradContext c, Value v) {
        if (c.attrInt("keepdims") != 0 || !c.node().hasInput(1)) return v;
        Shape axes = c.typeOf(c.in(1)).shape();
        if (axes != null && axes.rank() == 1 && axes.dim(0).equals(Dim.of(0))) return v;
        return c.op("Unsqueeze", NONE, v, c.in(1));
    }

    /** {@code v} (shaped like the reduction's output) broadcast to x's shape. */
    private static Value expand(GradContext c, Value v) {
        Value x = c.in(0);
        Shape vs = c.typeOf(v).shape(), xs = c.typeOf(x).shape();
        if (vs != null && vs.isStatic() && vs.equals(xs)) return v;
        return c.op("Expand", NONE, unreduce(c, v), c.shapeOf(x));
    }

    /** The number of elements each output of the reduction summed: numel(x) / numel(y), at run time if need be. */
    private static Value count(GradContext c) {
        Value x = c.in(0), y = c.out(0);
        Shape xs = c.typeOf(x).shape(), ys = c.typeOf(y).shape();
        if (xs != null && ys != null && xs.isStatic() && ys.isStatic()) {
            long nx = xs.numelOrMinus1(), ny = ys.numelOrMinus1();
            return c.scalar(ny == 0 ? 1 : (double) nx / ny, x);
        }
        Map<String, Attr> toFloat = Map.of("to", Attr.of((long) c.dtypeOf(x).onnxCode()));
        Value nx = c.op("Cast", toFloat, c.op("Size", NONE, x)), ny = c.op("Cast", toFloat, c.op("Size", NONE, y));
        return c.op("Div", NONE, nx, ny);
    }

    /** sum(v, axis) with keepdims. */
    private static Value sumAlong(GradContext c, Value v, long axis) {
        return c.op("ReduceSum", Map.of("keepdims", Attr.of(1L)), v, c.constant(Tensor.vector(axis)));
    }

    /** dx of y = log_softmax(x, axis): dy - exp(y) sum(dy, axis). */
    private static Value logSoftmaxGrad(GradContext c, Value y, Value dy, long axis) {
        return c.op("Sub", NONE, dy, mul(c, c.op("Exp", NONE, y), sumAlong(c, dy, axis)));
    }

    /** The gale backward op of a loss: (dloss, scores, target[, weight]) with the forward node's attributes. */
    private static Value lossGrad(GradContext c, String op) {
        Value[] in = c.node().hasInput(2)
                ? new Value[] {c.dOut(0), c.in(0), c.in(1), c.in(2)}
                : new Value[] {c.dOut(0), c.in(0), c.in(1)};
        return c.gale(op, c.node().attrs(), in);
    }
}
