package dev.gale.passes.simplify;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;

import java.util.List;
import java.util.Set;

import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Shape folding: the {@code Shape -> Gather -> Unsqueeze -> Concat -> Reshape} chains that PyTorch exports for
 * dynamic shapes are computed at compile time wherever the inferred types fix the dims involved, even though the
 * tensors they are computed from are not constants.
 *
 * <p>Algorithm: {@link ShapeData} tracks, element by element, what a small integer tensor holds; a shape-chain node
 * whose elements are all known becomes a {@code Constant}. A {@code Reshape} whose target has exactly one unknown
 * element (typically the symbolic batch size) gets a constant target with {@code -1} there instead: the element
 * count fixes it. ConstantOfShape and Range whose inputs became constant are folded like any constant node.
 *
 * <p>Assumption, as in ONNX Runtime: a dim named by a symbol is not 0 at run time (with a zero batch {@code -1}
 * cannot be resolved, where the original computed target could).
 */
public final class ShapeFolding implements Pass {
    private static final Set<String> CHAIN_OPS = Set.of("Shape", "Size", "Gather", "Slice", "Concat", "Unsqueeze",
            "Squeeze", "Reshape", "Cast", "Identity", "Add", "Sub", "Mul", "Div");

    public static final List<RewriteRule> RULES = List.of(
            // Shape(x) -> Constant(dims of x);  Gather(Shape(x), i) -> Constant(dim i of x);  ... whenever every
            // element of the result is known from static dims
            RewriteRule.of("shape-value", Pattern.anyNode(), ShapeFolding::knownShapeValue,
                    (m, r) -> List.of(r.constant(ShapeData.ofNode(m.root(), m.view())
                            .toTensor(m.tensorType(m.output()).dtype())))),
            // Reshape(x, s) -> Reshape(x, Constant(s with its one unknown element = -1))
            RewriteRule.of("reshape-one-unknown", op("Reshape", any("x"), any("s")), ShapeFolding::oneUnknown,
                    ShapeFolding::reshapeWithMinusOne),
            // ConstantOfShape(c) -> Constant,  Range(c1, c2, c3) -> Constant
            ConstantFolding.rule("shape-fold-constant",
                    n -> n.domain().isEmpty() && (n.op().equals("ConstantOfShape") || n.op().equals("Range"))));

    @Override
    public String name() { return "shape-fold"; }

    @Override
    public Graph run(Graph graph, PassContext ctx) { return RewriteDriver.apply(graph, RULES, ctx); }

    private static boolean knownShapeValue(Match m) {
        Node n = m.root();
        if (!n.domain().isEmpty() || !CHAIN_OPS.contains(n.op()) || n.outputs().size() != 1) return false;
        Type.TensorType out = m.tensorType(m.output());
        if (out == null || out.shape() == null || out.shape().rank() > 1) return false;
        ShapeData d = ShapeData.ofNode(n, m.view());
        if (d == null || !d.fullyKnown() || d.scalar() != (out.shape().rank() == 0)) return false;
        if (!d.scalar() && out.shape().dim(0).sizeOr(d.elems().length) != d.elems().length) return false;
        for (Long e : d.elems()) if (!ShapeData.fits(e, out.dtype())) return false;
        return true;
    }

    private static boolean oneUnknown(Match m) {
        if (m.constant("s") != null) return false;
        ShapeData d = ShapeData.of(m.value("s"), m.view());
        if (d == null || d.scalar() || d.unknowns() != 1) return false;
        // A known 0 copies an input dim and a known -1 is already the inferred one: keep those targets as they are.
        for (Long e : d.elems()) if (e != null && e <= 0) return false;
        return true;
    }

    private static List<Value> reshapeWithMinusOne(Match m, Rewriter r) {
        ShapeData d = ShapeData.of(m.value("s"), m.view());
        long[] target = new long[d.elems().length];
        for (int i = 0; i < target.length; i++) target[i] = d.elems()[i] == null ? -1 : d.elems()[i];
        Value shape = r.constant(Tensor.vector(target));
        return List.of(r.op("Reshape", List.of(m.value("x"), shape), m.root().attrs()));
    }
}
