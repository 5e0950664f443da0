package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.Pattern;
import dev.gale.passes.simplify.RewriteRule;
import dev.gale.passes.simplify.Rewriter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.fuse.FusionFacts.Inner.light;
import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.constant;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Layer normalization as exporters decompose it (PyTorch below opset 17, Keras, ONNX's own function body),
 * fused into {@code LayerNormalization}:
 *
 * <pre>
 * mean = ReduceMean(x, axes),  d = x - mean
 * var  = ReduceMean(d^2, axes)                or by moments: ReduceMean(x^2, axes) - mean^2
 * n    = d / Sqrt(var + eps)                  each ^2 a Pow(_, 2) or a product; / s may be * Reciprocal(s)
 * n * gamma + beta  ->  LayerNormalization(x, gamma, beta) {axis = axes[0], epsilon = eps}
 * n * gamma         ->  LayerNormalization(x, gamma)
 * n                 ->  LayerNormalization(x, ones)
 * </pre>
 *
 * The three forms are separate rule lists ({@link #WITH_SHIFT}, {@link #WITH_SCALE}, {@link #BARE}) that the pass
 * applies in that order, so the largest form fuses before a smaller one can claim its inner nodes. The moments form
 * loses precision to cancellation when the mean is large against the spread (and can take the square root of a
 * negative number); the fused kernel computes the centered variance, so it is only ever closer to the true value.
 *
 * <p>Conditions: x is a float tensor of known rank r; both ReduceMeans take constant axes that are the same
 * contiguous run of trailing axes {a..r-1} (a mean over a middle or leading axis is not a layer norm) and keep the
 * reduced dims (keepdims = 1, so Sub and Div broadcast back along exactly those axes); every exponent is exactly 2
 * and does not widen; eps is a single non-negative number that does not widen the variance; gamma and beta have
 * x's element type, broadcast into x without widening it and are 1 along every axis before a (a scale that varies
 * along the batch is not a layer norm's); the bare form needs fixed normalized dims for its scale of ones; in the
 * centered form the {@code d} of the numerator is the very node squared (one node after CSE); intermediates
 * disappear or are cheap to recompute.
 */
final class LayerNormFusion {
    private LayerNormFusion() {}

    static final List<RewriteRule> WITH_SHIFT = rules(2);
    static final List<RewriteRule> WITH_SCALE = rules(1);
    static final List<RewriteRule> BARE = rules(0);

    /**
     * One spelling: the variance centered (mean of d^2) or by moments (mean of x^2 minus the mean squared), each
     * square a Pow(_, 2) or a product, and the normalization a Div or a product with a Reciprocal.
     */
    private record Form(boolean centered, boolean powSquare, boolean powMeanSquare, boolean div) {}

    /** The rules for one form: 0 bare, 1 with gamma, 2 with gamma and beta. */
    private static List<RewriteRule> rules(int affine) {
        List<RewriteRule> rules = new ArrayList<>();
        for (boolean centered : List.of(true, false))
            for (boolean pow : List.of(true, false))
                for (boolean powMean : centered ? List.of(false) : List.of(true, false))
                    for (boolean div : List.of(true, false)) {
                        Form f = new Form(centered, pow, powMean, div);
                        Pattern.Op root = normalized(f);
                        if (affine >= 1) root = op("Mul", root, any("gamma")).commutative().as("scaled");
                        if (affine == 2) root = op("Add", root, any("beta")).commutative();
                        rules.add(RewriteRule.of("fuse.layer-norm", root, m -> fits(m, f, affine),
                                (m, r) -> fuse(m, r, affine)));
                    }
        return List.copyOf(rules);
    }

    private static Pattern.Op square(Pattern p, boolean pow, String exponent, String node) {
        return pow ? op("Pow", p, constant(exponent)).as(node) : op("Mul", p, p).as(node);
    }

    /** (x - mean) / sqrt(var + eps) in one of its spellings. */
    private static Pattern.Op normalized(Form f) {
        Pattern.Op mean = op("ReduceMean", any("x"), constant("axes1")).as("mean");
        Pattern.Op d = op("Sub", any("x"), mean).as("d");
        Pattern.Op var;
        if (f.centered()) {
            var = op("ReduceMean", square(d, f.powSquare(), "two", "sq"), constant("axes2")).as("ms");
        } else {
            Pattern.Op ms = op("ReduceMean", square(any("x"), f.powSquare(), "two", "sq"), constant("axes2")).as("ms");
            var = op("Sub", ms, square(mean, f.powMeanSquare(), "two2", "mean2")).as("var");
        }
        Pattern.Op std = op("Sqrt", op("Add", var, constant("eps")).commutative().as("veps")).as("std");
        return f.div() ? op("Div", d, std).as("norm")
                : op("Mul", d, op("Reciprocal", std).as("recip")).commutative().as("norm");
    }

    private static boolean fits(Match m, Form f, int affine) {
        Type.TensorType x = FusionFacts.floatTensor(m, m.value("x"));
        if (x == null) return false;
        int rank = x.shape().rank(), axis = axis(m, rank);
        if (axis < 0) return false;
        if (f.powSquare() && !isTwo(m, "two", rank) || !f.centered() && f.powMeanSquare() && !isTwo(m, "two2", rank))
            return false;
        Node var = f.centered() ? m.node("ms") : m.node("var");
        Tensor eps = m.constant("eps");
        if (!FusionFacts.scalarInto(m, "eps", m.tensorType(var.output(0))) || !(eps.getDouble(0) >= 0)
                || Double.isInfinite(eps.getDouble(0)))
            return false;
        if (affine == 0) // the scale made of ones needs the normalized dims
            for (int k = axis; k < rank; k++) if (!x.shape().dim(k).isFixed()) return false;
        if (affine >= 1 && !scalesNormalizedAxes(m, "gamma", x, axis)) return false;
        if (affine == 2 && !scalesNormalizedAxes(m, "beta", x, axis)) return false;
        int squareReads = f.powSquare() ? 1 : 2;
        List<FusionFacts.Inner> inner = new ArrayList<>(List.of(light(m.node("sq"), 1), light(m.node("ms"), 1),
                light(m.node("veps"), 1), light(m.node("std"), 1)));
        if (f.centered()) {
            inner.add(light(m.node("mean"), 1));
            inner.add(light(m.node("d"), squareReads + 1));
        } else {
            inner.add(light(m.node("mean"), 1 + (f.powMeanSquare() ? 1 : 2)));
            inner.add(light(m.node("mean2"), 1));
            inner.add(light(var, 1));
            inner.add(light(m.node("d"), 1));
        }
        if (!f.div()) inner.add(light(m.node("recip"), 1));
        if (affine >= 1) inner.add(light(m.node("norm"), 1));
        if (affine == 2) inner.add(light(m.node("scaled"), 1));
        return FusionFacts.intermediatesOk(m, inner);
    }

    /** Exponent constant {@code name} is exactly 2, one number that does not widen a tensor of {@code rank}. */
    private static boolean isTwo(Match m, String name, int rank) {
        Type.TensorType t = m.tensorType(name);
        return FusionFacts.exactly(m.constant(name), 2) && t != null && t.shape() != null && t.shape().rank() <= rank;
    }

    /**
     * The first normalized axis a when both means reduce exactly over {a..rank-1} and keep the reduced dims;
     * -1 otherwise.
     */
    private static int axis(Match m, int rank) {
        long[] a1 = FusionFacts.axes(m, "axes1", rank), a2 = FusionFacts.axes(m, "axes2", rank);
        if (a1 == null || a2 == null || !Arrays.equals(a1, a2)) return -1;
        for (int i = 0; i < a1.length; i++) if (a1[i] != rank - a1.length + i) return -1;
        for (String mean : List.of("mean", "ms"))
            if (FusionFacts.intAttr(m.node(mean), "keepdims", 1) != 1) return -1;
        return (int) a1[0];
    }

    /**
     * Whether {@code name} is a scale or shift of the normalized axes: x's element type, broadcasting into x's
     * shape without widening it, and 1 along every axis before {@code axis} (it may not vary along the batch).
     */
    private static boolean scalesNormalizedAxes(Match m, String name, Type.TensorType x, int axis) {
        Type.TensorType t = m.tensorType(name);
        if (!FusionFacts.broadcastsInto(t, x)) return false;
        int rank = x.shape().rank(), r = t.shape().rank();
        for (int k = 0; k < r; k++)
            if (k + rank - r < axis && !t.shape().dim(k).equals(Dim.of(1))) return false;
        return true;
    }

    private static List<Value> fuse(Match m, Rewriter r, int affine) {
        Value x = m.value("x");
        Type.TensorType xt = m.tensorType(x);
        int rank = xt.shape().rank(), axis = axis(m, rank);
        Value gamma;
        if (affine >= 1) {
            gamma = m.value("gamma");
        } else {
            long[] dims = new Shape(xt.shape().dims().subList(axis, rank)).sizes();
            Tensor ones = Tensor.zeros(xt.dtype(), dims);
            for (int i = 0; i < ones.numel(); i++) ones.setDouble(i, 1);
            gamma = r.constant(ones);
        }
        List<Value> in = affine == 2 ? List.of(x, gamma, m.value("beta")) : List.of(x, gamma);
        Map<String, Attr> attrs = Map.of("axis", Attr.of((long) axis),
                "epsilon", Attr.of((float) m.constant("eps").getDouble(0)));
        return List.of(r.op("LayerNormalization", in, attrs));
    }
}
