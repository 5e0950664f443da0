package dev.gale.passes.simplify;

import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.SymInt;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;

import java.util.List;

import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Shape folding: the {@code Shape -> Gather -> Unsqueeze -> Concat -> Reshape} chains that PyTorch exports for
 * dynamic shapes are computed at compile time wherever the inferred types fix the dims involved, even though the
 * tensors they are computed from are not constants.
 *
 * <p>Algorithm: type inference tracks, element by element, what a small integer tensor holds
 * ({@link GraphView#shapeValue}: known, a symbolic dim such as {@code batch}, or unknown). A node whose elements are
 * all known becomes a {@code Constant}. A {@code Reshape} target that stays partly unknown becomes constant too when
 * exactly one element is unknown (it becomes {@code -1}: the element count fixes it), or when a {@code -1} sits next
 * to one symbolic element that cancels against the same symbol among the input's dims: {@code x.view(x.size(0), -1)}
 * of x {@code [batch, 2, 3]} is {@code x.view(-1, 6)}. ConstantOfShape, Range and Cast (shapes used as floats)
 * whose inputs became constant are folded like any constant node.
 *
 * <p>Assumption, as in ONNX Runtime: a dim named by a symbol is not 0 at run time (with a zero batch {@code -1}
 * cannot be resolved, where the original computed target could), and one symbol names one size throughout a graph.
 */
public final class ShapeFolding implements Pass {
    public static final List<RewriteRule> RULES = List.of(
            // Shape(x) -> Constant(dims of x);  Gather(Shape(x), i) -> Constant(dim i of x);  ... whenever every
            // element of the result is known from static dims
            RewriteRule.of("shape-value", Pattern.anyNode(), ShapeFolding::knownShapeValue,
                    (m, r) -> List.of(r.constant(toTensor(m.view().shapeValue(m.output()),
                            m.tensorType(m.output()))))),
            // Reshape(x, [.., ?, ..]) -> Reshape(x, Constant([.., -1, ..]))
            // Reshape(x, [.., batch, .., -1, ..]) -> Reshape(x, Constant([.., -1, .., numel(x) / batch / .., ..]))
            RewriteRule.of("reshape-target", op("Reshape", any("x"), any("s")), m -> constantTarget(m) != null,
                    ShapeFolding::reshapeWithConstantTarget),
            // ConstantOfShape(c) -> Constant,  Range(c1, c2, c3) -> Constant,  Cast(c) -> Constant (a shape as floats)
            ConstantFolding.rule("shape-fold-constant", n -> n.domain().isEmpty()
                    && (n.op().equals("ConstantOfShape") || n.op().equals("Range") || n.op().equals("Cast"))));

    @Override
    public String name() { return "shape-fold"; }

    @Override
    public Graph run(Graph graph, PassContext ctx) { return RewriteDriver.apply(graph, RULES, ctx); }

    private static boolean knownShapeValue(Match m) {
        Node n = m.root();
        if (n.op().equals("Constant") || n.outputs().size() != 1 || m.output().isNone()) return false;
        List<SymInt> v = m.view().shapeValue(m.output());
        Type.TensorType t = m.tensorType(m.output());
        return v != null && t != null && t.shape() != null && v.stream().allMatch(SymInt::isKnown);
    }

    private static Tensor toTensor(List<SymInt> v, Type.TensorType t) {
        Tensor r = Tensor.zeros(t.dtype(), t.shape().rank() == 0 ? new long[0] : new long[] {v.size()});
        for (int i = 0; i < v.size(); i++) r.setLong(i, v.get(i).value());
        return r;
    }

    /**
     * A constant target equivalent to the computed one, or null: the unknown element becomes {@code -1}, or, next
     * to a {@code -1}, a symbolic element is cancelled against x's dims (see the class comment).
     */
    static long[] constantTarget(Match m) {
        if (m.constant("s") != null) return null;
        List<SymInt> d = m.view().shapeValue(m.value("s"));
        Type.TensorType st = m.tensorType("s");
        if (d == null || st == null || st.shape() == null || st.shape().rank() != 1) return null;
        int unknown = -1, inferred = -1;
        long known = 1;
        for (int i = 0; i < d.size(); i++) {
            SymInt e = d.get(i);
            if (!e.isKnown()) {
                if (unknown >= 0) return null;
                unknown = i;
            } else if (e.value() == -1 && inferred < 0) {
                inferred = i;
            } else if (e.value() <= 0 || (known = times(known, e.value())) < 0) {
                // A 0 copies a dim of x; a second -1 or a negative size is an error left for run time.
                return null;
            }
        }
        if (unknown < 0) return null;
        long[] target = new long[d.size()];
        for (int i = 0; i < target.length; i++) target[i] = i == unknown ? -1 : d.get(i).value();
        if (inferred < 0) return target;
        String sym = d.get(unknown).symbol();
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
