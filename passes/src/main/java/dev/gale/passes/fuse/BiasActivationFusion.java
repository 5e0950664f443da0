package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.fuse.FusionFacts.Inner.heavy;
import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * A bias and an activation after MatMul, Gemm or Conv, folded into the producer. Two rule lists, applied in order:
 *
 * <pre>
 * BIAS        MatMul(a, b) + c             -> gale::FusedMatMul(a, b, c)
 *             Gemm(a, b) + c               -> Gemm(a, b, c) {beta = 1}
 *             Conv(x, w) + c               -> Conv(x, w, Reshape(c, [M]))        c per output channel
 * ACTIVATION  act(MatMul | gale::FusedMatMul) -> gale::FusedMatMul {activation}
 *             act(Gemm | gale::FusedGemm)     -> gale::FusedGemm {activation}
 *             act(Conv | gale::FusedConv)     -> gale::FusedConv {activation}
 * </pre>
 *
 * with act one of Relu, LeakyRelu (its alpha kept as activation_alpha), Tanh, Sigmoid and Gelu (none or tanh).
 * The "bias" of MatMul may be any addend that fits, so a backward graph's gradient sum {@code dX + MatMul(dY, W^T)}
 * fuses too.
 *
 * <p>Conditions: the product is read only by the Add or the activation (a second reader would need the product
 * without the bias or before the activation, and recomputing a MatMul is never worth it); it is a float tensor of
 * known rank; the addend has its element type and broadcasts into its shape without widening it (Gemm's C has rank
 * at most 2; Conv's addend is 1 everywhere but along the channel axis, where it has the channel count M, so that
 * it is exactly a Conv bias); a fused producer has no activation yet.
 */
final class BiasActivationFusion {
    private BiasActivationFusion() {}

    static final List<RewriteRule> BIAS = List.of(
            // MatMul(a, b) + c -> gale::FusedMatMul(a, b, c)
            RewriteRule.of("fuse.matmul-bias", op("Add", op("MatMul", any("a"), any("b")).as("p"), any("c"))
                    .commutative(), m -> addend(m, -1), (m, r) -> List.of(r.node(GaleOps.DOMAIN, "FusedMatMul",
                    List.of(m.value("a"), m.value("b"), m.value("c")), Map.of(), 1).get(0))),
            // Gemm(a, b) + c -> Gemm(a, b, c) {beta = 1}
            RewriteRule.of("fuse.gemm-bias", op("Add", op("Gemm", any("a"), any("b")).as("p"), any("c"))
                    .commutative(), m -> addend(m, 2), BiasActivationFusion::gemmBias),
            // Conv(x, w) + c -> Conv(x, w, Reshape(c, [M]))
            RewriteRule.of("fuse.conv-bias", op("Add", op("Conv", any("a"), any("b")).as("p"), any("c"))
                    .commutative(), BiasActivationFusion::perChannel, BiasActivationFusion::convBias));

    private static final Map<String, String> FUSED = Map.of("MatMul", "FusedMatMul", "Gemm", "FusedGemm",
            "Conv", "FusedConv");

    static final List<RewriteRule> ACTIVATION;

    static {
        List<RewriteRule> rules = new ArrayList<>();
        for (String act : List.of("Relu", "LeakyRelu", "Tanh", "Sigmoid", "Gelu"))
            for (Map.Entry<String, String> e : FUSED.entrySet())
                for (Pattern.Op producer : List.of(op(e.getKey()).anyInputs().as("p"),
                        op(e.getValue()).anyInputs().domain(GaleOps.DOMAIN).as("p"))) {
                    String fused = e.getValue();
                    // act(P(...)) -> gale::FusedP(...) {activation = act}
                    rules.add(RewriteRule.of("fuse." + fused.substring(5).toLowerCase() + "-activation",
                            op(act, producer), BiasActivationFusion::activationFits,
                            (m, r) -> withActivation(m, r, fused)));
                }
        ACTIVATION = List.copyOf(rules);
    }

    /** The product p is read only here and c fits into it: same element type, not widening it, rank <= maxRank. */
    private static boolean addend(Match m, int maxRank) {
        Type.TensorType p = FusionFacts.floatTensor(m, m.node("p").output(0)), c = m.tensorType("c");
        if (p == null || c == null || !FusionFacts.broadcastsInto(c, p)) return false;
        if (maxRank >= 0 && (c.shape() == null || c.shape().rank() > maxRank)) return false;
        return FusionFacts.intermediatesOk(m, List.of(heavy(m.node("p"), 1)));
    }

    private static List<Value> gemmBias(Match m, Rewriter r) {
        Node gemm = m.node("p");
        Map<String, Attr> attrs = new LinkedHashMap<>(gemm.attrs());
        attrs.put("beta", Attr.of(1.0f));
        return List.of(r.op("Gemm", List.of(m.value("a"), m.value("b"), m.value("c")), attrs));
    }

    /** c is a bias of Conv p: p read only here, c of p's type along the channel axis and 1 elsewhere. */
    private static boolean perChannel(Match m) {
        Type.TensorType p = FusionFacts.floatTensor(m, m.node("p").output(0)), c = m.tensorType("c");
        if (p == null || c == null || c.shape() == null || c.dtype() != p.dtype()) return false;
        int rank = p.shape().rank(), cr = c.shape().rank();
        if (rank < 3 || cr > rank || cr < rank - 1 || !p.shape().dim(1).isFixed()) return false;
        for (int k = 0; k < cr; k++) {
            int axis = k + rank - cr;
            Dim want = axis == 1 ? p.shape().dim(1) : Dim.of(1);
            if (!c.shape().dim(k).equals(want)) return false;
        }
        return FusionFacts.intermediatesOk(m, List.of(heavy(m.node("p"), 1)));
    }

    private static List<Value> convBias(Match m, Rewriter r) {
        Node conv = m.node("p");
        long channels = m.tensorType(conv.output(0)).shape().dim(1).sizeOr(-1);
        Value shape = r.constant(Tensor.vector(channels));
        Value bias = r.op("Reshape", List.of(m.value("c"), shape), Map.of());
        return List.of(r.op("Conv", List.of(m.value("a"), m.value("b"), bias), conv.attrs()));
    }

    private static boolean activationFits(Match m) {
        Node p = m.node("p"), act = m.root();
        if (p.domain().equals(GaleOps.DOMAIN) && p.attr("activation") instanceof Attr.StringAttr a
                && !a.value().equals("none"))
            return false;
        if (act.op().equals("Gelu") && activation(act) == null) return false;
        if (FusionFacts.floatTensor(m, p.output(0)) == null) return false;
        return FusionFacts.intermediatesOk(m, List.of(heavy(p, 1)));
    }

    /** The fused op's activation name for activation node {@code act}, or null when it has none. */
    private static String activation(Node act) {
        return switch (act.op()) {
            case "Relu" -> "relu";
            case "LeakyRelu" -> "leaky_relu";
            case "Tanh" -> "tanh";
            case "Sigmoid" -> "sigmoid";
            case "Gelu" -> {
                String approx = act.attr("approximate") instanceof Attr.StringAttr s ? s.value() : "none";
                yield approx.equals("none") ? "gelu" : approx.equals("tanh") ? "gelu_tanh" : null;
            }
            default -> null;
        };
    }

    private static List<Value> withActivation(Match m, Rewriter r, String fused) {
        Node p = m.node("p"), act = m.root();
        Map<String, Attr> attrs = new LinkedHashMap<>(p.attrs());
        attrs.put("activation", Attr.of(activation(act)));
        if (act.op().equals("LeakyRelu"))
            attrs.put("activation_alpha", act.attr("alpha") instanceof Attr.FloatAttr a ? a : Attr.of(0.01f));
        return List.of(r.node(GaleOps.DOMAIN, fused, p.inputs(), attrs, 1).get(0));
    }
}
