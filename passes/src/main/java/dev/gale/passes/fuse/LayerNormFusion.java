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
 * Layer normalization as exporters decompose it (PyTorch below opset 17, Keras, hand-written modules), fused into
 * {@code LayerNormalization}:
 *
 * <pre>
 * d = x - ReduceMean(x, axes)
 * n = d / Sqrt(ReduceMean(Pow(d, 2), axes) + eps)       Pow(d, 2) may be d * d; / s may be * Reciprocal(s)
 * n * gamma + beta  ->  LayerNormalization(x, gamma, beta) {axis = axes[0], epsilon = eps}
 * n * gamma         ->  LayerNormalization(x, gamma)
 * n                 ->  LayerNormalization(x, ones)
 * </pre>
 *
 * The three forms are separate rule lists ({@link #WITH_SHIFT}, {@link #WITH_SCALE}, {@link #BARE}) that the pass
 * applies in that order, so the largest form fuses before a smaller one can claim its inner nodes.
 *
 * <p>Conditions: x is a float tensor of known rank r; both ReduceMeans take constant axes that are the same
 * contiguous run of trailing axes {a..r-1} (a mean over a middle or leading axis is not a layer norm) and keep the
 * reduced dims (keepdims = 1, so the Sub and Div broadcast back along exactly those axes); the normalized dims are
 * fixed; the exponent is exactly 2; eps is a single non-negative number that does not widen the variance; gamma
 * and beta have x's element type and exactly the normalized shape (a gamma varying along the batch would not be a
 * layer norm's scale); the {@code d} of the numerator is the very node squared in the variance (after CSE) and
 * the intermediates disappear or are cheap to recompute.
 */
final class LayerNormFusion {
    private LayerNormFusion() {}

    static final List<RewriteRule> WITH_SHIFT = rules(2);
    static final List<RewriteRule> WITH_SCALE = rules(1);
    static final List<RewriteRule> BARE = rules(0);

    /** The rules for one form: 0 bare, 1 with gamma, 2 with gamma and beta. */
    private static List<RewriteRule> rules(int affine) {
        List<RewriteRule> rules = new ArrayList<>();
        for (boolean pow : List.of(true, false))
            for (boolean div : List.of(true, false)) {
                Pattern.Op root = normalized(pow, div);
                if (affine >= 1) root = op("Mul", root, any("gamma")).commutative().as("scaled");
                if (affine == 2) root = op("Add", root, any("beta")).commutative();
                rules.add(RewriteRule.of("fuse.layer-norm", root, m -> fits(m, affine), (m, r) -> fuse(m, r, affine)));
            }
        return List.copyOf(rules);
    }

    /** (x - mean) / sqrt(mean((x - mean)^2) + eps) in one of its spellings. */
    private static Pattern.Op normalized(boolean pow, boolean div) {
        Pattern.Op mean = op("ReduceMean", any("x"), constant("axes1")).as("mean");
        Pattern.Op d = op("Sub", any("x"), mean).as("d");
        Pattern.Op sq = pow ? op("Pow", d, constant("two")).as("sq") : op("Mul", d, d).as("sq");
        Pattern.Op var = op("ReduceMean", sq, constant("axes2")).as("var");
        Pattern.Op std = op("Sqrt", op("Add", var, constant("eps")).commutative().as("veps")).as("std");
        return div ? op("Div", d, std).as("norm")
                : op("Mul", d, op("Reciprocal", std).as("recip")).commutative().as("norm");
    }

    private static boolean fits(Match m, int affine) {
        Type.TensorType x = FusionFacts.floatTensor(m, m.value("x"));
        if (x == null) return false;
        int rank = x.shape().rank(), axis = axis(m, rank);
        if (axis < 0) return false;
        for (int k = axis; k < rank; k++) if (!x.shape().dim(k).isFixed()) return false;
        Node sq = m.node("sq");
        if (sq.op().equals("Pow")) {
            Type.TensorType two = m.tensorType("two");
            if (!FusionFacts.exactly(m.constant("two"), 2) || two == null || two.shape() == null
                    || two.shape().rank() > rank)
                return false;
        }
        Tensor eps = m.constant("eps");
        if (!FusionFacts.scalarInto(m, "eps", m.tensorType(m.node("var").output(0))) || !(eps.getDouble(0) >= 0)
                || Double.isInfinite(eps.getDouble(0)))
            return false;
        List<Dim> normalized = x.shape().dims().subList(axis, rank);
        if (affine >= 1 && !hasShape(m, "gamma", x, normalized)) return false;
        if (affine == 2 && !hasShape(m, "beta", x, normalized)) return false;
        int dReads = (sq.op().equals("Mul") ? 2 : 1) + 1;
        List<FusionFacts.Inner> inner = new ArrayList<>(List.of(light(m.node("mean"), 1), light(m.node("d"), dReads),
                light(sq, 1), light(m.node("var"), 1), light(m.node("veps"), 1), light(m.node("std"), 1)));
        if (m.node("norm").op().equals("Mul")) inner.add(light(m.node("recip"), 1));
        if (affine >= 1) inner.add(light(m.node("norm"), 1));
        if (affine == 2) inner.add(light(m.node("scaled"), 1));
        return FusionFacts.intermediatesOk(m, inner);
    }

    /**
     * The first normalized axis a when both means reduce exactly over {a..rank-1} and keep the reduced dims;
     * -1 otherwise.
     */
    private static int axis(Match m, int rank) {
        long[] a1 = FusionFacts.axes(m, "axes1", rank), a2 = FusionFacts.axes(m, "axes2", rank);
        if (a1 == null || a2 == null || !Arrays.equals(a1, a2)) return -1;
        for (int i = 0; i < a1.length; i++) if (a1[i] != rank - a1.length + i) return -1;
        for (String mean : List.of("mean", "var"))
            if (FusionFacts.intAttr(m.node(mean), "keepdims", 1) != 1) return -1;
        return (int) a1[0];
    }

    private static boolean hasShape(Match m, String name, Type.TensorType x, List<Dim> normalized) {
        Type.TensorType t = m.tensorType(name);
        return t != null && t.dtype() == x.dtype() && t.shape() != null && t.shape().dims().equals(normalized);
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
