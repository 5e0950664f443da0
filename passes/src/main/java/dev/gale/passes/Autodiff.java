package dev.gale.passes;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.ir.op.ControlFlowOps;
import dev.gale.ir.op.GaleOps;
import dev.gale.ir.op.GradContext;
import dev.gale.ir.op.GradientRule;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reverse-mode automatic differentiation on Gale IR.
 *
 * <p>Algorithm: (1) the trainable initializers become graph inputs; (2) forward reachability from them marks the
 * values that need gradients, backward reachability from the loss marks the nodes that matter; (3) starting from
 * dLoss = 1, nodes are visited in reverse order and each op's {@link GradientRule} (from the op table) emits the
 * gradients of its inputs from the gradients of its outputs; gradients reaching one value from several uses are
 * summed. Integer values (shapes, indices) never carry gradients. The backward nodes are appended after the forward
 * nodes, so the result is still in topological order and forward activations stay available to the backward pass.
 *
 * <p>Invariants: the forward part of the graph is unchanged (names, nodes, order); every returned gradient has its
 * parameter's type; a node on a path from a parameter to the loss whose op has no rule is an error naming it.
 */
public final class Autodiff {
    private Autodiff() {}

    /**
     * The training graph: outputs are the loss, then {@code keep} (forward values the caller wants, e.g. logits),
     * then one gradient per parameter that reaches the loss (in {@code gradients}' order).
     */
    public record Result(Graph graph, Value loss, List<Value> kept, Map<String, Value> gradients) {}

    public static Result differentiate(Graph forward, String loss, List<String> params, List<String> keep) {
        Type lossType = forward.valueTypes().get(loss);
        if (lossType == null) throw new GaleException("loss '" + loss + "' is not a value of the graph");
        if (!(lossType instanceof Type.TensorType lt) || lt.shape() == null || lt.shape().rank() != 0
                || !lt.dtype().isFloat())
            throw new GaleException("loss '" + loss + "' must be a floating-point scalar, is " + lossType);
        return differentiate(forward, loss, Map.of(), params, keep);
    }

    /**
     * Vector-Jacobian products: gradients of {@code sum_k <output_k, seed_k>} where {@code seeds} maps forward values
     * to values of the same shape holding their incoming gradients (used by gradient checks; the seeds must not depend
     * on the parameters). Outputs: the first seeded value, {@code keep}, then the gradients.
     */
    public static Result vjp(Graph forward, Map<String, String> seeds, List<String> params, List<String> keep) {
        if (seeds.isEmpty()) throw new GaleException("vjp needs at least one seeded output");
        return differentiate(forward, seeds.keySet().iterator().next(), seeds, params, keep);
    }

    private static Result differentiate(Graph forward, String loss, Map<String, String> seeds, List<String> params,
                                        List<String> keep) {
        GraphBuilder b = GraphBuilder.from(forward);
        Map<String, Value> paramInputs = new LinkedHashMap<>();
        for (String p : params) {
            Tensor t = forward.initializers().get(p);
            if (t == null) throw new GaleException("'" + p + "' is not an initializer, so it cannot be trained");
            if (!t.dtype().isFloat())
                throw new GaleException("'" + p + "' has element type " + t.dtype() + "; only floating-point tensors train");
            paramInputs.put(p, b.promoteToInput(p));
        }
        Map<String, Type> types = forward.valueTypes();
        Type lossType = types.get(loss);

        Map<String, Value> seedGrads = new LinkedHashMap<>();
        if (seeds.isEmpty()) {
            seedGrads.put(loss, b.constant(Tensor.scalar(((Type.TensorType) lossType).dtype(), 1.0)));
        } else {
            for (Map.Entry<String, String> e : seeds.entrySet())
                seedGrads.put(e.getKey(), new Value(e.getValue(), types.get(e.getValue())));
        }
        Map<String, Value> grads = backward(b, forward, seedGrads, paramInputs.keySet());

        b.clearOutputs();
        Value lossValue = new Value(loss, lossType);
        b.output(lossValue);
        List<Value> kept = new ArrayList<>();
        for (String name : keep) {
            Value v = new Value(name, types.get(name));
            b.output(v);
            kept.add(v);
        }
        Map<String, Value> result = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : paramInputs.entrySet()) {
            Value g = grads.get(e.getKey());
            if (g == null) continue; // does not reach the loss: like PyTorch's grad None, the optimizer skips it
            Value out = b.opTyped("grad." + e.getKey(), "", "Identity", List.of(g), Map.of(), e.getValue().type());
            b.output(out);
            result.put(e.getKey(), out);
        }
        Graph g = b.build();
        Verifier.verify(g);
        return new Result(g, lossValue, kept, result);
    }

    /**
     * The reverse sweep on its own: emits into {@code b} (a builder continuing {@code forward}) the backward nodes of
     * {@code sum_k <value_k, seed_k>} for the seeded forward values ({@code seeds}: value name to its incoming
     * gradient) and returns the gradients of the values named in {@code wrt} (graph inputs, initializers or
     * intermediate values), each absent when no gradient reaches it. Everything not depending on {@code wrt} is held
     * fixed; gradients reaching a value from several uses are summed.
     */
    public static Map<String, Value> backward(GraphBuilder b, Graph forward, Map<String, Value> seeds,
                                              Collection<String> wrt) {
        Set<String> needs = forwardReach(forward, new HashSet<>(wrt));
        Set<Node> relevant = new HashSet<>();
        Map<String, Value> grads = new HashMap<>(seeds);
        for (String seeded : seeds.keySet()) relevant.addAll(backwardReach(forward, seeded));
        List<Node> order = new ArrayList<>(forward.nodes());
        Map<String, Tensor> constants = new HashMap<>(forward.initializers());
        for (Node n : order) {
            Tensor t = ControlFlowOps.constantOf(n);
            if (t != null) constants.put(n.output(0).name(), t);
        }
        for (int k = order.size() - 1; k >= 0; k--) {
            Node n = order.get(k);
            if (!relevant.contains(n)) continue;
            boolean anyOut = n.outputs().stream().anyMatch(v -> !v.isNone() && grads.containsKey(v.name()));
            boolean anyIn = n.inputs().stream().anyMatch(v -> !v.isNone() && needs.contains(v.name()));
            if (!anyOut || !anyIn) continue;
            OpSchema s = OpTable.require(n.domain(), n.op(), n.describe());
            GradientRule rule = s.gradient();
            if (rule == null)
                throw new GaleException(n.describe() + ": no gradient rule for op '" + n.qualifiedOp()
                        + "', which lies between a trained parameter and the loss; freeze the parameters before it"
                        + " (--freeze) or report the missing rule");
            Context c = new Context(b, n, s, grads, needs, constants);
            List<Value> inGrads = rule.apply(c);
            for (int i = 0; i < n.inputs().size(); i++) {
                Value in = n.inputs().get(i);
                if (in.isNone() || !needs.contains(in.name()) || i >= inGrads.size() || inGrads.get(i) == null) continue;
                accumulate(b, grads, in, inGrads.get(i));
            }
        }
        Map<String, Value> result = new LinkedHashMap<>();
        for (String w : wrt) if (grads.containsKey(w)) result.put(w, grads.get(w));
        return result;
    }

    private static void accumulate(GraphBuilder b, Map<String, Value> grads, Value target, Value g) {
        Value prev = grads.get(target.name());
        grads.put(target.name(), prev == null ? g
                : b.opTyped("d." + target.name(), "", "Add", List.of(prev, g), Map.of(), target.type()));
    }

    /** Value names that depend on the parameters through floating-point values. */
    private static Set<String> forwardReach(Graph g, Set<String> params) {
        Set<String> s = new HashSet<>(params);
        for (Node n : g.nodes()) {
            boolean hit = n.inputs().stream().anyMatch(v -> !v.isNone() && s.contains(v.name()));
            if (!hit) continue;
            for (Value v : n.outputs())
                if (!v.isNone() && v.type() instanceof Type.TensorType t && t.dtype().isFloat()) s.add(v.name());
        }
        return s;
    }

    /** Nodes the loss depends on. */
    private static Set<Node> backwardReach(Graph g, String loss) {
        Set<String> wanted = new HashSet<>(Set.of(loss));
        Set<Node> nodes = new HashSet<>();
        List<Node> all = g.nodes();
        for (int k = all.size() - 1; k >= 0; k--) {
            Node n = all.get(k);
            if (n.outputs().stream().noneMatch(v -> wanted.contains(v.name()))) continue;
            nodes.add(n);
            for (Value v : n.inputs()) if (!v.isNone()) wanted.add(v.name());
        }
        return nodes;
    }

    /** The ops of {@code g} on differentiable paths that have no gradient rule (for a clear up-front error). */
    public static Set<String> opsWithoutRules(Graph g) {
        Set<String> r = new TreeSet<>();
        for (Node n : g.nodes()) {
            OpSchema s = OpTable.lookup(n.domain(), n.op());
            if (s != null && s.gradient() == null) r.add(n.qualifiedOp());
        }
        return r;
    }

    private static final class Context implements GradContext {
        private final GraphBuilder b;
        private final Node node;
        private final OpSchema schema;
        private final Map<String, Value> grads;
        private final Set<String> needs;
        private final Map<String, Tensor> constants;

        Context(GraphBuilder b, Node node, OpSchema schema, Map<String, Value> grads, Set<String> needs,
                Map<String, Tensor> constants) {
            this.b = b;
            this.node = node;
            this.schema = schema;
            this.grads = grads;
            this.needs = needs;
            this.constants = constants;
        }

        private String hint() {
            return "d." + (node.outputs().isEmpty() ? node.op() : node.output(0).name());
        }

        @Override
        public Node node() { return node; }

        @Override
        public Value in(int i) { return node.input(i); }

        @Override
        public Value out(int i) { return node.output(i); }

        @Override
        public Value dOut(int i) {
            if (i >= node.outputs().size() || node.output(i).isNone()) return null;
            return grads.get(node.output(i).name());
        }

        @Override
        public boolean needs(int i) {
            return node.hasInput(i) && needs.contains(node.input(i).name());
        }

        @Override
        public Value op(String op, Map<String, Attr> attrs, Value... inputs) {
            return b.opNamed(hint(), "", op, Arrays.asList(inputs), attrs, 1).get(0);
        }

        @Override
        public List<Value> ops(String domain, String op, Map<String, Attr> attrs, int outputs, Value... inputs) {
            return b.opNamed(hint(), domain, op, Arrays.asList(inputs), attrs, outputs);
        }

        @Override
        public Value constant(Tensor t) { return b.constant(t); }

        @Override
        public Tensor constantValue(Value v) {
            return v.isNone() || needs.contains(v.name()) ? null : constants.get(v.name());
        }

        @Override
        public Attr attr(String name) {
            Attr a = node.attr(name);
            if (a != null) return a;
            var spec = schema.attr(name);
            return spec == null ? null : spec.defaultValue();
        }

        @Override
        public Value sumToShapeOf(Value grad, Value like) {
            Type.TensorType gt = typeOf(grad), lt = typeOf(like);
            // Equal types prove equal run-time shapes only without unknown dims ([?, 5] may be [4, 5] and [1, 5]).
            if (gt.shape() != null && gt.shape().equals(lt.shape())
                    && gt.shape().dims().stream().noneMatch(d -> d instanceof dev.gale.ir.Dim.Unknown)) return grad;
            if (gt.shape() != null && lt.shape() != null && gt.shape().isStatic() && lt.shape().isStatic()) {
                long[] gs = gt.shape().sizes(), ls = lt.shape().sizes();
                if (Arrays.equals(gs, ls)) return grad;
                Value shape = constant(Tensor.vector(ls));
                return b.opTyped(hint(), GaleOps.DOMAIN, "ReduceSumToShape", List.of(grad, shape), Map.of(), lt);
            }
            Value shape = b.opNamed(hint(), "", "Shape", List.of(like), Map.of(), 1).get(0);
            return b.opTyped(hint(), GaleOps.DOMAIN, "ReduceSumToShape", List.of(grad, shape), Map.of(), lt);
        }

    }
}
