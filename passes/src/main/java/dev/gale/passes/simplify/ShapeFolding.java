package dev.gale.passes.simplify;

import dev.gale.ir.Dim;
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
 * count fixes it; {@code x.view(x.size(0), -1)} gets one too, by cancelling the batch symbol against x's dims. ConstantOfShape and Range whose inputs became constant are folded like any constant node.
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
            // Reshape(x, [.., ?, ..]) -> Reshape(x, Constant([.., -1, ..]))
            // Reshape(x, [.., batch, .., -1, ..]) -> Reshape(x, Constant([.., -1, .., numel(x) / batch / .., ..]))
            RewriteRule.of("reshape-target", op("Reshape", any("x"), any("s")), m -> constantTarget(m) != null,
                    ShapeFolding::reshapeWithConstantTarget),
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

    /**
     * A constant target equivalent to the computed one, or null. With one unknown element and no {@code -1}, the
     * unknown becomes {@code -1}. With a {@code -1} and one symbolic element, the symbol is cancelled against the
     * same symbol among x's dims: the rest of x's dims are static, so the {@code -1} is their product over the known
     * elements, and the symbolic element becomes the {@code -1}: {@code [batch, -1]} of x {@code [batch, 2, 3]} is
     * {@code [-1, 6]}.
     */
    static long[] constantTarget(Match m) {
        if (m.constant("s") != null) return null;
        ShapeData d = ShapeData.of(m.value("s"), m.view());
        if (d == null || d.scalar() || d.unknowns() != 1) return null;
        int unknown = -1, inferred = -1;
        long known = 1;
        for (int i = 0; i < d.elems().length; i++) {
            Long e = d.elems()[i];
            if (e == null) unknown = i;
            else if (e == -1 && inferred < 0) inferred = i;
            // A 0 copies a dim of x; a second -1 or a negative size is an error left for run time.
            else if (e <= 0) return null;
            else if ((known = times(known, e)) < 0) return null;
        }
        long[] target = new long[d.elems().length];
        for (int i = 0; i < target.length; i++) target[i] = i == unknown ? -1 : d.elems()[i];
        if (inferred < 0) return target;
        String sym = d.syms()[unknown];
        Type.TensorType x = m.tensorType("x");
        if (sym == null || x == null || x.shape() == null) return null;
        long rest = 1;
        boolean cancelled = false;
        for (Dim dim : x.shape().dims()) {
            if (!cancelled && dim.equals(Dim.sym(sym))) cancelled = true;
            else if (!dim.isFixed() || (rest = times(rest, dim.sizeOr(0))) < 0) return null;
        }
        if (!cancelled || rest % known != 0) return null;
        target[inferred] = rest / known;
        return target;
    }

    /** {@code a * b} for non-negative sizes, or -1 on overflow. */
    private static long times(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    private static List<Value> reshapeWithConstantTarget(Match m, Rewriter r) {
        Value shape = r.constant(Tensor.vector(constantTarget(m)));
        return List.of(r.op("Reshape", List.of(m.value("x"), shape), m.root().attrs()));
    }
}
