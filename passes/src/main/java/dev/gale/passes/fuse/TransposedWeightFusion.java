package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
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

import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * A matrix transposed only to be multiplied, read in place as the product's transposed operand:
 *
 * <pre>
 * MatMul(a, Transpose(b) {perm = [1, 0]})                -> gale::FusedMatMul(a, b) {transB = 1}
 * gale::FusedMatMul(a, Transpose(b) {perm = [1, 0]}[, c]) -> gale::FusedMatMul(a, b[, c]) {transB = 1, ...}
 * Transpose(Gemm(a, b) | MatMul(a, b)) {perm = [1, 0]}    -> Gemm(b, a) {transA = 1 - transB, transB = 1 - transA}
 * </pre>
 *
 * PyTorch exports a Linear layer over a 3-D input as {@code MatMul(x, Transpose(W))}; in training W changes every
 * step, so the transpose cannot be folded away and was copied every step (0.1 ms for the encoder's 384 x 128
 * in-projection weight, four such copies per step). The GEMM reads B transposed at no extra cost: it packs B anyway.
 *
 * <p>Conditions: b is a float matrix (rank 2) and the permutation swaps its two axes; a fused product has no
 * transposed B yet. For a transposed product: a Gemm without C (the pattern has two inputs), or a MatMul, of float
 * matrices, read by nothing but the Transpose. The Transpose stays when something else reads it. Runs after {@link BiasActivationFusion}, so
 * the bias and activation rules see plain MatMuls.
 */
final class TransposedWeightFusion {
    private TransposedWeightFusion() {}

    static final List<RewriteRule> RULES;

    static {
        List<RewriteRule> rules = new ArrayList<>();
        Pattern.Op t = op("Transpose", any("b")).as("t");
        rules.add(RewriteRule.of("fuse.matmul-transposed-b", op("MatMul", any("a"), t),
                TransposedWeightFusion::swapsMatrixAxes, (m, r) -> fused(m, r, List.of(m.value("a"), m.value("b")))));
        rules.add(RewriteRule.of("fuse.matmul-transposed-b", op("FusedMatMul", any("a"), t).domain(GaleOps.DOMAIN),
                TransposedWeightFusion::swapsMatrixAxes, (m, r) -> fused(m, r, List.of(m.value("a"), m.value("b")))));
        rules.add(RewriteRule.of("fuse.matmul-transposed-b",
                op("FusedMatMul", any("a"), t, any("c")).domain(GaleOps.DOMAIN), TransposedWeightFusion::swapsMatrixAxes,
                (m, r) -> fused(m, r, List.of(m.value("a"), m.value("b"), m.value("c")))));
        // Transpose(Gemm(a, b)) -> Gemm(b, a) {transA = 1 - transB, transB = 1 - transA}: (op(A) op(B))^T = op(B)^T op(A)^T,
        // the weight gradient of a transposed weight (dW = (X^T dY)^T) written in W's layout at once.
        rules.add(RewriteRule.of("fuse.transposed-gemm", op("Transpose", op("Gemm", any("a"), any("b")).as("p")).as("t"),
                TransposedWeightFusion::transposedProduct, TransposedWeightFusion::swappedGemm));
        rules.add(RewriteRule.of("fuse.transposed-gemm", op("Transpose", op("MatMul", any("a"), any("b")).as("p")).as("t"),
                TransposedWeightFusion::transposedProduct, TransposedWeightFusion::swappedGemm));
        RULES = List.copyOf(rules);
    }

    /** t = Transpose(b) with perm [1, 0] of a float matrix b, and the product does not transpose B already. */
    private static boolean swapsMatrixAxes(Match m) {
        Node t = m.node("t"), product = m.root();
        if (product.attr("transB") instanceof Attr.IntAttr tb && tb.value() != 0) return false;
        Type.TensorType b = FusionFacts.floatTensor(m, m.value("b"));
        if (b == null || b.shape() == null || b.shape().rank() != 2) return false;
        if (!(t.attr("perm") instanceof Attr.IntsAttr perm)) return true; // no perm: the axes reversed, [1, 0]
        long[] p = perm.values();
        return p.length == 2 && p[0] == 1 && p[1] == 0;
    }

    /** t swaps the axes of the matrix product p of two float matrices, and nothing else reads p. */
    private static boolean transposedProduct(Match m) {
        Node t = m.root(), p = m.node("p");
        if (t.attr("perm") instanceof Attr.IntsAttr perm
                && !(perm.values().length == 2 && perm.values()[0] == 1 && perm.values()[1] == 0)) return false;
        Type.TensorType a = FusionFacts.floatTensor(m, m.value("a")), b = FusionFacts.floatTensor(m, m.value("b"));
        if (a == null || b == null || a.shape().rank() != 2 || b.shape().rank() != 2) return false;
        return FusionFacts.intermediatesOk(m, List.of(FusionFacts.Inner.heavy(p, 1)));
    }

    private static List<Value> swappedGemm(Match m, Rewriter r) {
        Node p = m.node("p");
        boolean gemm = p.op().equals("Gemm");
        long ta = gemm && p.attr("transA") instanceof Attr.IntAttr x ? x.value() : 0;
        long tb = gemm && p.attr("transB") instanceof Attr.IntAttr x ? x.value() : 0;
        Map<String, Attr> attrs = new LinkedHashMap<>();
        if (gemm && p.attr("alpha") != null) attrs.put("alpha", p.attr("alpha"));
        attrs.put("transA", Attr.of(1 - tb));
        attrs.put("transB", Attr.of(1 - ta));
        return List.of(r.op("Gemm", List.of(m.value("b"), m.value("a")), attrs));
    }

    private static List<Value> fused(Match m, Rewriter r, List<Value> inputs) {
        Map<String, Attr> attrs = new LinkedHashMap<>(m.root().domain().equals(GaleOps.DOMAIN) ? m.root().attrs() : Map.of());
        attrs.put("transB", Attr.of(1L));
        return List.of(r.node(GaleOps.DOMAIN, "FusedMatMul", inputs, attrs, 1).get(0));
    }
}
