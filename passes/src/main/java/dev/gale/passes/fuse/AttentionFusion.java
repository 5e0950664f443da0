package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.Pattern;
import dev.gale.passes.simplify.RewriteRule;
import dev.gale.passes.simplify.Rewriter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.fuse.FusionFacts.Inner.heavy;
import static dev.gale.passes.fuse.FusionFacts.Inner.light;
import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.constant;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Scaled dot-product attention, fused into {@code gale::Attention}:
 *
 * <pre>
 * MatMul(Softmax(MatMul(Q', K') * s + mask, axis = -1), V)  ->  gale::Attention(Q, K, V, mask) {scale}
 * </pre>
 *
 * where the scale may sit on the scores ({@code * s} or {@code / s}, as Hugging Face writes it), on Q (PyTorch's
 * MultiheadAttention divides Q by sqrt(d) first), on K^T, or on both Q and K^T (PyTorch's exported
 * scaled_dot_product_attention multiplies each by s^(1/2)); the recorded scale is the product of all of them. The
 * mask is optional and additive. K' is passed as it is with {@code key_transposed = 1}, or, when it is a Transpose
 * swapping the last two axes, that Transpose's input is passed with {@code key_transposed = 0}.
 *
 * <p>Conditions: Q, K^T and V are float tensors of rank at least 2 and one element type; the scores' rank is known
 * and the Softmax normalizes their last axis; every scale is a single finite non-zero number that does not widen
 * what it scales; the mask has the scores' element type and broadcasts into their shape without widening it
 * (provably, from the types); the scores, scaled scores, masked scores and probabilities are read by nothing else
 * (recomputing them would repeat the MatMul), so in a training graph, whose backward reads the probabilities,
 * attention stays unfused.
 */
final class AttentionFusion {
    private AttentionFusion() {}

    private enum Scale { DIV, MUL, NONE }

    /** Where a form scales (Q, K^T, the scores) and whether it adds a mask. */
    private record Form(Scale q, Scale k, Scale scores, boolean mask) {}

    static final List<RewriteRule> RULES;

    static {
        List<RewriteRule> rules = new ArrayList<>();
        // The most specific forms first: a bare any("q") would also match a scaled Q, leaving its scale outside.
        for (Scale qs : Scale.values())
            for (Scale ks : Scale.values())
                for (Scale ss : Scale.values())
                    for (boolean mask : List.of(true, false)) {
                        Pattern.Op scores = op("MatMul", scaled(any("q"), qs, "qs", "qscale"),
                                scaled(any("k"), ks, "ks", "kscale")).as("qk");
                        Pattern s = scaled(scores, ss, "ss", "sscale");
                        if (mask) s = op("Add", s, any("mask")).commutative().as("masked");
                        Pattern.Op root = op("MatMul", op("Softmax", s).as("probs"), any("v"));
                        Form f = new Form(qs, ks, ss, mask);
                        rules.add(RewriteRule.of("fuse.attention", root, m -> fits(m, f), (m, r) -> fuse(m, r, f)));
                    }
        RULES = List.copyOf(rules);
    }

    private static Pattern scaled(Pattern p, Scale s, String constant, String node) {
        return switch (s) {
            case DIV -> op("Div", p, constant(constant)).as(node);
            case MUL -> op("Mul", p, constant(constant)).commutative().as(node);
            case NONE -> p;
        };
    }

    private static boolean fits(Match m, Form f) {
        Type.TensorType q = FusionFacts.floatTensor(m, m.value("q")), k = FusionFacts.floatTensor(m, m.value("k"));
        Type.TensorType v = FusionFacts.floatTensor(m, m.value("v"));
        Type.TensorType scores = FusionFacts.floatTensor(m, m.node("qk").output(0));
        if (q == null || k == null || v == null || scores == null) return false;
        if (k.dtype() != q.dtype() || v.dtype() != q.dtype()) return false;
        if (q.shape().rank() < 2 || k.shape().rank() < 2 || v.shape().rank() < 2) return false;
        int rank = scores.shape().rank();
        long axis = FusionFacts.intAttr(m.node("probs"), "axis", -1);
        if (axis != -1 && axis != rank - 1) return false;
        List<FusionFacts.Inner> inner = new ArrayList<>(List.of(heavy(m.node("qk"), 1), heavy(m.node("probs"), 1)));
        if (!scaleFits(m, f.q(), "qs", "qscale", q, inner, false)
                || !scaleFits(m, f.k(), "ks", "kscale", k, inner, false)
                || !scaleFits(m, f.scores(), "ss", "sscale", scores, inner, true))
            return false;
        if (f.mask()) {
            Node scaledScores = m.node(f.scores() == Scale.NONE ? "qk" : "sscale");
            Type.TensorType mask = m.tensorType("mask"), in = m.tensorType(scaledScores.output(0));
            if (mask == null || in == null || !FusionFacts.broadcastsInto(mask, in)) return false;
            inner.add(heavy(m.node("masked"), 1));
        }
        return FusionFacts.intermediatesOk(m, inner);
    }

    /** A scale bound as {@code node} (if the form has one) is a fitting single number; records its node. */
    private static boolean scaleFits(Match m, Scale form, String constant, String node, Type.TensorType into,
                                     List<FusionFacts.Inner> inner, boolean heavy) {
        if (form == Scale.NONE) return true;
        Node n = m.node(node);
        Tensor c = m.constant(constant);
        double s = c.getDouble(0);
        if (!FusionFacts.scalarInto(m, constant, into) || s == 0 || !Double.isFinite(s)) return false;
        inner.add(heavy ? heavy(n, 1) : light(n, 1));
        return true;
    }

    private static List<Value> fuse(Match m, Rewriter r, Form f) {
        double scale = factor(m, f.q(), "qs") * factor(m, f.k(), "ks") * factor(m, f.scores(), "ss");
        Value key = m.value("k");
        long transposed = 1;
        Node t = m.view().producer(key);
        if (t != null && t.op().equals("Transpose") && t.domain().isEmpty() && swapsLastTwo(t, m)) {
            key = t.input(0);
            transposed = 0;
        }
        List<Value> in = new ArrayList<>(List.of(m.value("q"), key, m.value("v")));
        if (f.mask()) in.add(m.value("mask"));
        Map<String, Attr> attrs = Map.of("scale", Attr.of((float) scale), "key_transposed", Attr.of(transposed));
        return List.of(r.node(GaleOps.DOMAIN, "Attention", in, attrs, 1).get(0));
    }

    /** Whether Transpose {@code t} only swaps the last two axes of its input. */
    private static boolean swapsLastTwo(Node t, Match m) {
        Type.TensorType in = m.tensorType(t.input(0));
        if (in == null || in.shape() == null) return false;
        int r = in.shape().rank();
        long[] perm = new long[r];
        for (int i = 0; i < r; i++) perm[i] = r - 1 - i; // no perm: the axes reversed
        if (t.attr("perm") instanceof Attr.IntsAttr p) perm = p.values();
        if (r != in.shape().rank() || r < 2 || perm[r - 1] != r - 2 || perm[r - 2] != r - 1) return false;
        for (int i = 0; i < r - 2; i++) if (perm[i] != i) return false;
        return true;
    }

    private static double factor(Match m, Scale form, String constant) {
        return switch (form) {
            case DIV -> 1 / m.constant(constant).getDouble(0);
            case MUL -> m.constant(constant).getDouble(0);
            case NONE -> 1;
        };
    }
}
