package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.Dropouts;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.constant;
import static dev.gale.passes.simplify.Pattern.op;
import static dev.gale.passes.simplify.RewriteRule.of;

/**
 * Algebraic identities: operations that return (a view of) an operand unchanged are replaced by that operand, and
 * pairs of layout ops that undo each other are cancelled or merged into one.
 *
 * <p>Invariant: every rule proves from the inferred types that the result keeps the root's element type and shape
 * before firing. {@code x * 1} with a {@code 1} that broadcasts {@code x} to a bigger shape, or a Cast to another
 * type, is not an identity and stays. The rules are exact in IEEE arithmetic, with one accepted exception:
 * {@code -0.0 + 0.0} is {@code +0.0}, so {@code x + 0 -> x} may turn a result of {@code +0.0} into {@code -0.0}.
 */
public final class AlgebraicSimplification implements Pass {
    public static final List<RewriteRule> RULES = List.of(
            // Identity(x) -> x
            of("identity", op("Identity", any("x")), null, (m, r) -> List.of(m.value("x"))),
            // x * 1 -> x,  1 * x -> x
            of("mul-one", op("Mul", any("x"), constant("c")).commutative(), m -> neutral(m, 1), operand("x")),
            // x + 0 -> x,  0 + x -> x
            of("add-zero", op("Add", any("x"), constant("c")).commutative(), m -> neutral(m, 0), operand("x")),
            // x - 0 -> x
            of("sub-zero", op("Sub", any("x"), constant("c")), m -> neutral(m, 0), operand("x")),
            // x / 1 -> x
            of("div-one", op("Div", any("x"), constant("c")), m -> neutral(m, 1), operand("x")),
            // Cast(x, to = dtype(x)) -> x
            of("cast-same-type", op("Cast", any("x")),
                    m -> m.tensorType("x") != null && m.root().attr("to") instanceof Attr.IntAttr to
                            && to.value() == m.tensorType("x").dtype().onnxCode(), operand("x")),
            // CastLike(x, y) -> x   when dtype(y) = dtype(x)
            of("castlike-same-type", op("CastLike", any("x"), any("y")),
                    m -> m.tensorType("x") != null && m.tensorType("y") != null
                            && m.tensorType("x").dtype() == m.tensorType("y").dtype(), operand("x")),
            // Transpose(x, perm = identity) -> x
            of("transpose-identity", op("Transpose", any("x")),
                    m -> isIdentity(perm(m.root(), m.tensorType("x"))), operand("x")),
            // Transpose(Transpose(x, p), q) -> x                     when p[q[i]] = i
            // Transpose(Transpose(x, p), q) -> Transpose(x, p[q[i]])  otherwise
            of("transpose-transpose", op("Transpose", op("Transpose", any("x")).as("inner")),
                    m -> composedPerm(m) != null, AlgebraicSimplification::mergeTransposes),
            // Reshape(Reshape(x, s1), s2) -> Reshape(x, s2)   when s2 is a constant without 0 ("keep this dim")
            of("reshape-reshape", op("Reshape", op("Reshape", any("x"), any()), constant("s")),
                    m -> Arrays.stream(m.constant("s").toLongArray()).noneMatch(d -> d == 0),
                    (m, r) -> List.of(r.op("Reshape", List.of(m.value("x"), m.value("s")), m.root().attrs()))),
            // Reshape(x, s) -> x   when the result provably has x's shape
            of("reshape-same-shape", op("Reshape", any("x"), any()),
                    m -> ShapeFacts.sameType(m.tensorType("x"), m.tensorType(m.output())), operand("x")),
            // Squeeze(Unsqueeze(x, a), a) -> x
            of("squeeze-unsqueeze", op("Squeeze", op("Unsqueeze", any("x"), constant("a")), constant("b")),
                    AlgebraicSimplification::squeezeUndoesUnsqueeze, operand("x")),
            // Unsqueeze(Squeeze(x, a), a) -> x   when x has size 1 along a
            of("unsqueeze-squeeze", op("Unsqueeze", op("Squeeze").anyInputs().as("sq"), constant("b")),
                    AlgebraicSimplification::unsqueezeUndoesSqueeze, (m, r) -> List.of(m.node("sq").input(0))),
            // Dropout(x, ratio, training_mode = false or absent) -> x,  Dropout(x, 0, training_mode) -> x
            //     when the mask output is unused
            of("dropout-inference", op("Dropout").anyInputs(), AlgebraicSimplification::dropoutIsIdentity,
                    (m, r) -> m.root().outputs().size() == 1 ? List.of(m.root().input(0))
                            : Arrays.asList(m.root().input(0), null)),
            // Pad(x, pads = 0, ...) -> x   in any mode (a zero pad adds and crops nothing)
            of("pad-zero", op("Pad").anyInputs(), AlgebraicSimplification::padsAreZero,
                    (m, r) -> List.of(m.root().input(0))),
            // Expand(x, shape) -> x   when broadcasting x to shape leaves x's shape as it is
            of("expand-same-shape", op("Expand", any("x"), any("s")), AlgebraicSimplification::expandKeepsShape,
                    operand("x")));

    @Override
    public String name() { return "algebraic"; }

    @Override
    public Set<Property> invalidates() { return GRAPH_REWRITE; }

    @Override
    public Graph run(Graph graph, PassContext ctx) { return RewriteDriver.apply(graph, RULES, ctx); }

    private static RewriteRule.Rewrite operand(String name) { return (m, r) -> List.of(m.value(name)); }

    /** {@code x op c} where c is all {@code v} and broadcasting c changes nothing about x. */
    private static boolean neutral(Match m, double v) {
        Type.TensorType x = m.tensorType("x"), out = m.tensorType(m.output());
        return ShapeFacts.isAll(m.constant("c"), v) && ShapeFacts.broadcastsInto(m.tensorType("c"), x)
                && (out == null || out.dtype() == x.dtype());
    }

    /** The permutation of a Transpose node (reversal when absent), or null when the input rank is unknown. */
    static long[] perm(Node t, Type.TensorType in) {
        if (t.attr("perm") instanceof Attr.IntsAttr p) return p.values();
        int rank = ShapeFacts.rank(in);
        if (rank < 0) return null;
        long[] p = new long[rank];
        for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
        return p;
    }

    private static boolean isIdentity(long[] p) {
        if (p == null) return false;
        for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
        return true;
    }

    /** {@code p[q[i]]} for inner perm p and outer perm q, or null when either is unknown or they disagree in length. */
    private static long[] composedPerm(Match m) {
        long[] p = perm(m.node("inner"), m.tensorType("x"));
        long[] q = perm(m.root(), m.tensorType(m.node("inner").output(0)));
        if (p == null || q == null || p.length != q.length) return null;
        long[] c = new long[q.length];
        for (int i = 0; i < q.length; i++) {
            if (q[i] < 0 || q[i] >= p.length) return null;
            c[i] = p[(int) q[i]];
        }
        return c;
    }

    private static List<Value> mergeTransposes(Match m, Rewriter r) {
        long[] c = composedPerm(m);
        if (isIdentity(c)) return List.of(m.value("x"));
        return List.of(r.op("Transpose", List.of(m.value("x")), Map.of("perm", Attr.of(c))));
    }

    private static boolean squeezeUndoesUnsqueeze(Match m) {
        int rank = ShapeFacts.rank(m.tensorType("x"));
        if (rank < 0) return false;
        long[] a = m.constant("a").toLongArray(), b = m.constant("b").toLongArray();
        long[] na = ShapeFacts.normalizeAxes(a, rank + a.length), nb = ShapeFacts.normalizeAxes(b, rank + a.length);
        return na != null && nb != null && Arrays.equals(na, nb);
    }

    private static boolean unsqueezeUndoesSqueeze(Match m) {
        Node sq = m.node("sq");
        Type.TensorType x = m.tensorType(sq.input(0));
        if (x == null || x.shape() == null) return false;
        int rank = x.shape().rank();
        long[] squeezed;
        if (sq.hasInput(1)) {
            Tensor axes = m.view().constant(sq.input(1));
            if (axes == null) return false;
            squeezed = ShapeFacts.normalizeAxes(axes.toLongArray(), rank);
        } else {
            // Squeeze without axes drops every size-1 dim: known only when every dim is fixed.
            if (!x.shape().isStatic()) return false;
            List<Long> ones = new ArrayList<>();
            for (int k = 0; k < rank; k++) if (x.shape().dim(k).sizeOr(-1) == 1) ones.add((long) k);
            squeezed = ones.stream().mapToLong(Long::longValue).toArray();
        }
        if (squeezed == null) return false;
        for (long k : squeezed) if (x.shape().dim((int) k).sizeOr(-1) != 1) return false;
        long[] unsq = ShapeFacts.normalizeAxes(m.constant("b").toLongArray(), rank);
        return unsq != null && Arrays.equals(squeezed, unsq);
    }

    private static boolean dropoutIsIdentity(Match m) {
        Node d = m.root();
        if (!d.hasInput(0) || !m.outputUnused(1)) return false;
        return !d.hasInput(2) || Dropouts.isIdentity(d.hasInput(1) ? m.rootConstant(1) : null, m.rootConstant(2));
    }

    /** The pads of a Pad node (an input from opset 11, an attribute before) are a known all-zero list. */
    private static boolean padsAreZero(Match m) {
        Node pad = m.root();
        if (!pad.hasInput(0) || pad.outputs().size() != 1) return false;
        long[] pads;
        if (pad.attr("pads") instanceof Attr.IntsAttr p) pads = p.values();
        else if (pad.hasInput(1) && m.rootConstant(1) instanceof Tensor t && t.dtype().isInteger()) pads = t.toLongArray();
        else return false;
        Type.TensorType x = m.tensorType(pad.input(0)), out = m.tensorType(m.output());
        return Arrays.stream(pads).allMatch(v -> v == 0) && (out == null || x == null || out.dtype() == x.dtype());
    }

    private static boolean expandKeepsShape(Match m) {
        Type.TensorType x = m.tensorType("x");
        Tensor s = m.constant("s");
        if (s == null) return ShapeFacts.sameType(x, m.tensorType(m.output()));
        int rank = ShapeFacts.rank(x);
        long[] target = s.toLongArray();
        if (rank < 0 || target.length > rank) return false;
        for (int k = 0; k < target.length; k++) {
            long d = x.shape().dim(rank - target.length + k).sizeOr(-1);
            if (target[k] != 1 && (d < 0 || target[k] != d)) return false;
        }
        return true;
    }
}
