package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.RewriteRule;
import dev.gale.passes.simplify.Rewriter;

import java.util.List;
import java.util.Map;

import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Frees a MatMul's result from readers that want only its shape, so that the bias fusion may take it:
 *
 * <pre>
 * Shape(MatMul(a, W))  ->  Concat(Shape(a) {end = -1}, Shape(W) {start = 1})      W a matrix, a of rank >= 2
 * </pre>
 *
 * Autodiff reads the shape of every product whose gradient it may have to sum back to shape; where a dim is not
 * known at compile time that Shape stays, and without this rewrite it would keep the unfused product alive.
 *
 * <p>Conditions: W has rank 2 (so the result's batch dims are a's), a has rank at least 2 (a vector operand
 * drops a dim), and the Shape takes the whole shape (no start or end).
 */
final class ShapeOfProduct {
    private ShapeOfProduct() {}

    static final List<RewriteRule> RULES = List.of(
            // Shape(MatMul(a, W)) -> Concat(Shape(a) {end = -1}, Shape(W) {start = 1})
            RewriteRule.of("fuse.shape-of-matmul", op("Shape", op("MatMul", any("a"), any("w"))),
                    ShapeOfProduct::fits, ShapeOfProduct::rewrite));

    private static boolean fits(Match m) {
        Type.TensorType a = m.tensorType("a"), w = m.tensorType("w");
        if (a == null || w == null || a.shape() == null || w.shape() == null) return false;
        if (a.shape().rank() < 2 || w.shape().rank() != 2) return false;
        return m.root().attr("end") == null && FusionFacts.intAttr(m.root(), "start", 0) == 0;
    }

    private static List<Value> rewrite(Match m, Rewriter r) {
        Value rows = r.op("Shape", List.of(m.value("a")), Map.of("end", Attr.of(-1L)));
        Value cols = r.op("Shape", List.of(m.value("w")), Map.of("start", Attr.of(1L)));
        return List.of(r.op("Concat", List.of(rows, cols), Map.of("axis", Attr.of(0L))));
    }
}
