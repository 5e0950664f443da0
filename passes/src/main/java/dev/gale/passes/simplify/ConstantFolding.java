package dev.gale.passes.simplify;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.eval.NodeEvaluator;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Constant folding: a pure node whose inputs are all compile-time constants is evaluated once, by the
 * {@link NodeEvaluator} (the reference interpreter), and replaced by {@code Constant} nodes holding its results.
 *
 * <p>What counts as constant is {@link GraphView#constant}: initializers that cannot be fed (not graph inputs) and
 * are not trainable parameters listed in the {@code train.params} option, and {@code Constant} outputs. In a
 * training graph parameters are graph inputs, so they are never folded either way.
 *
 * <p>Not folded: impure ops and ops the evaluator lacks ({@link NodeEvaluator#supports}), nodes with nested graphs,
 * Identity (the algebraic pass removes it without copying the tensor), results that are not tensors, results of
 * more than {@link #MAX_ELEMENTS} elements (folding would bloat the model), and nodes whose evaluation fails (the
 * error is left for run time, where it belongs).
 */
public final class ConstantFolding implements Pass {
    /** Results larger than this stay computed at run time. */
    public static final long MAX_ELEMENTS = 1_000_000;

    public static final List<RewriteRule> RULES = List.of(
            // op(c1, ..., cn) -> Constant(op(c1, ..., cn))   when every input is constant and op is pure
            rule("fold", n -> !n.op().equals("Identity")));

    @Override
    public String name() { return "fold"; }

    @Override
    public Set<Property> invalidates() { return GRAPH_REWRITE; }

    @Override
    public Graph run(Graph graph, PassContext ctx) { return RewriteDriver.apply(graph, RULES, ctx); }

    /** A folding rule named {@code name} for the nodes {@code which} accepts. */
    static RewriteRule rule(String name, Predicate<Node> which) {
        return RewriteRule.of(name, Pattern.anyNode(), m -> foldable(m, which), ConstantFolding::fold);
    }

    private static boolean foldable(Match m, Predicate<Node> which) {
        Node n = m.root();
        if ((n.op().equals("Constant") && n.domain().isEmpty()) || !which.test(n) || ValueRefs.hasBodies(n)) return false;
        for (Value v : n.inputs()) if (!v.isNone() && m.view().constant(v) == null) return false;
        for (Value v : n.outputs()) {
            if (v.isNone()) continue;
            if (!(m.view().type(v) instanceof Type.TensorType t)) return false;
            long numel = t.shape() == null ? -1 : t.shape().numelOrMinus1();
            if (numel > MAX_ELEMENTS) return false;
        }
        return Evaluator.get().supports(n);
    }

    private static List<Value> fold(Match m, Rewriter r) {
        Node n = m.root();
        List<Object> in = new ArrayList<>();
        for (Value v : n.inputs()) in.add(v.isNone() ? null : m.view().constant(v));
        List<Object> results;
        try {
            results = Evaluator.get().evaluate(n, in);
        } catch (RuntimeException e) {
            return null;
        }
        List<Value> repl = new ArrayList<>();
        for (int i = 0; i < n.outputs().size(); i++) {
            Value old = n.output(i);
            if (old.isNone() || m.outputUnused(i)) {
                repl.add(null);
                continue;
            }
            Object o = i < results.size() ? results.get(i) : null;
            if (!(o instanceof Tensor t) || t.numel() > MAX_ELEMENTS || !fits(t, m.view().type(old))) return null;
            repl.add(r.constant(t));
        }
        return repl;
    }

    /** Whether an evaluated tensor has the type inference promised (a disagreement is left alone, not folded). */
    private static boolean fits(Tensor t, Type declared) {
        if (!(declared instanceof Type.TensorType d)) return false;
        if (d.dtype() != t.dtype()) return false;
        if (d.shape() == null) return true;
        if (d.shape().rank() != t.rank()) return false;
        for (int k = 0; k < t.rank(); k++) {
            long s = d.shape().dim(k).sizeOr(-1);
            if (s >= 0 && s != t.dim(k)) return false;
        }
        return true;
    }

    /** The evaluator, looked up once. */
    private static final class Evaluator {
        private static NodeEvaluator instance;

        static synchronized NodeEvaluator get() {
            if (instance == null) instance = NodeEvaluator.get();
            return instance;
        }
    }
}
