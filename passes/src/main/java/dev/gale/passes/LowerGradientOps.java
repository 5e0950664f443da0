package dev.gale.passes;

import dev.gale.ir.Attr;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.ir.op.Attrs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Replaces each ONNX training {@code Gradient} node ({@code ai.onnx.preview.training}) by the explicit backward nodes
 * that compute it, so backends never see it.
 *
 * <p>{@code Gradient(xs=[x...], zs=[z...], y=Y)} with inputs {@code (x_1.., z_1..)} outputs {@code dY/dx_i}: the
 * gradient of {@code sum(Y)} (a seed of ones, as in PyTorch's {@code backward(ones_like(y))}; for a scalar Y simply
 * dY/dx) with respect to each {@code x_i}, holding the {@code zs} and every other value Y depends on fixed. When the
 * node's inputs are the named values themselves (the common case) the forward nodes are reused; otherwise the part of
 * the graph between {@code xs}/{@code zs} and Y is copied with the inputs substituted, so the gradient is evaluated
 * at the given point. A gradient that does not reach some {@code x_i} is zero.
 *
 * <p>Gradient nodes whose Y depends on another Gradient node (higher-order derivatives) are lowered after that one,
 * so the outer one differentiates the inner one's backward nodes. The result keeps every value name of the input
 * graph (each Gradient output is produced by an {@code Identity}) and is re-sorted topologically, because Y may be
 * computed after the Gradient node in the original order. Gradient nodes inside nested graphs (If/Loop/Scan bodies)
 * are not lowered.
 */
public final class LowerGradientOps {
    public static final String OP = "Gradient";

    private LowerGradientOps() {}

    /** This lowering as a pipeline pass named {@code lower-gradient}. */
    public static dev.gale.passes.pipeline.Pass pass() {
        return new dev.gale.passes.pipeline.Pass() {
            @Override
            public String name() { return "lower-gradient"; }

            @Override
            public Set<dev.gale.passes.pipeline.Property> invalidates() { return GRAPH_REWRITE; }

            @Override
            public Graph run(Graph g, dev.gale.passes.pipeline.PassContext ctx) { return apply(g); }
        };
    }

    public static Model apply(Model m) {
        Graph g = apply(m.graph());
        return g == m.graph() ? m : m.withGraph(g);
    }

    /** The graph with every top-level Gradient node lowered; the same instance when there is none. */
    public static Graph apply(Graph g) {
        while (true) {
            List<Node> pending = g.nodes().stream().filter(LowerGradientOps::isGradient).toList();
            if (pending.isEmpty()) return g;
            Node next = null;
            for (Node n : pending) {
                String y = yOf(n);
                if (ancestors(g, y).stream().noneMatch(LowerGradientOps::isGradient)) {
                    next = n;
                    break;
                }
            }
            if (next == null)
                throw new GaleException(pending.get(0).describe() + ": the Gradient nodes depend on each other in a"
                        + " cycle through their 'y' values; each 'y' must be computable without the node's own"
                        + " outputs");
            g = lowerOne(g, next);
        }
    }

    public static boolean isGradient(Node n) {
        return n.op().equals(OP) && n.domain().equals(OpsetInfo.TRAINING_DOMAIN);
    }

    private static String yOf(Node n) { return Attrs.asString(n.attr("y"), n, "y"); }

    private static Graph lowerOne(Graph g, Node node) {
        List<String> xs = Attrs.asStrings(node.attr("xs"), node, "xs");
        List<String> zs = node.attr("zs") == null ? List.of() : Attrs.asStrings(node.attr("zs"), node, "zs");
        String y = yOf(node);
        Map<String, Type> types = g.valueTypes();
        List<String> named = new ArrayList<>(xs);
        named.addAll(zs);
        if (node.inputs().size() != named.size())
            throw new GaleException(node.describe() + ": expects one input per name in 'xs' then 'zs' ("
                    + named.size() + "), got " + node.inputs().size());
        for (String v : named)
            if (!types.containsKey(v))
                throw new GaleException(node.describe() + ": '" + v + "' (in 'xs' or 'zs') names no value of graph '"
                        + g.name() + "'");
        if (!(types.get(y) instanceof Type.TensorType yt) || !yt.dtype().isFloat())
            throw new GaleException(node.describe() + ": 'y' = '" + y + "' must name a floating-point tensor of graph '"
                    + g.name() + "', is " + (types.containsKey(y) ? types.get(y) : "no value"));
        for (int i = 0; i < node.inputs().size(); i++)
            if (node.inputs().get(i).isNone())
                throw new GaleException(node.describe() + ": input " + i + " (the value of '" + named.get(i)
                        + "') is missing");
        Set<Node> upstream = ancestors(g, y);
        if (upstream.contains(node))
            throw new GaleException(node.describe() + ": 'y' = '" + y + "' depends on the node's own outputs");

        GraphBuilder b = GraphBuilder.from(g);
        // Where Y is evaluated: the named values themselves, or copies of the forward nodes fed with the inputs.
        Map<String, Value> at = new HashMap<>();
        boolean inPlace = true;
        for (int i = 0; i < named.size(); i++) inPlace &= node.inputs().get(i).name().equals(named.get(i));
        List<String> wrt = new ArrayList<>(xs);
        String yAt = y;
        if (!inPlace) {
            for (int i = 0; i < xs.size(); i++) {
                // A private copy, so only the substituted graph (not other uses of the input) feeds its gradient.
                Value x = b.opNamed(xs.get(i) + ".at", "", "Identity", List.of(node.inputs().get(i)), Map.of(), 1)
                        .get(0);
                at.put(xs.get(i), x);
                wrt.set(i, x.name());
            }
            for (int j = 0; j < zs.size(); j++) at.putIfAbsent(zs.get(j), node.inputs().get(xs.size() + j));
            for (Node n : g.nodes()) {
                if (!upstream.contains(n) || n.inputs().stream().noneMatch(v -> at.containsKey(v.name()))) continue;
                List<Value> in = n.inputs().stream().map(v -> at.getOrDefault(v.name(), v)).toList();
                List<Value> outs = b.opNamed(n.output(0).name() + ".at", n.domain(), n.op(), in, n.attrs(),
                        n.outputs().size());
                for (int k = 0; k < outs.size(); k++)
                    if (!n.output(k).isNone()) at.putIfAbsent(n.output(k).name(), outs.get(k));
            }
            if (at.containsKey(y)) yAt = at.get(y).name();
        }

        Type.TensorType yType = (Type.TensorType) b.typeOf(yAt);
        Value yValue = new Value(yAt, yType);
        Value seed = filled(b, yValue, yType, 1.0);
        Graph forward = b.build();
        b = GraphBuilder.from(forward);
        Map<String, Value> grads;
        try {
            grads = Autodiff.backward(b, forward, Map.of(yAt, seed), wrt);
        } catch (GaleException e) {
            throw new GaleException(node.describe() + ": cannot differentiate '" + y + "': " + e.getMessage());
        }

        List<Node> extra = new ArrayList<>();
        for (int i = 0; i < node.outputs().size(); i++) {
            Value out = node.output(i);
            if (out.isNone()) continue;
            Value grad = grads.get(wrt.get(i));
            if (grad == null) { // Y does not depend on x_i: a zero gradient shaped like x_i
                Value x = node.inputs().get(i);
                grad = filled(b, x, (Type.TensorType) b.typeOf(x.name()), 0.0);
            }
            extra.add(new Node(node.name().isEmpty() ? out.name() : node.name() + "." + i, "", "Identity",
                    List.of(grad), List.of(out), Map.of()));
        }
        Graph lowered = b.build();
        List<Node> nodes = new ArrayList<>(lowered.nodes());
        nodes.remove(node);
        nodes.addAll(extra);
        Graph result = new Graph(g.name(), g.inputs(), g.outputs(), topologicalOrder(nodes), g.initializers());
        Verifier.verify(result);
        return result;
    }

    /** A tensor shaped like {@code like} filled with {@code v}: a constant shape when it is static. */
    private static Value filled(GraphBuilder b, Value like, Type.TensorType t, double v) {
        Value scalar = b.constant(Tensor.scalar(t.dtype(), v));
        if (t.shape() != null && t.shape().rank() == 0) return scalar;
        Value shape = t.shape() != null && t.shape().isStatic() ? b.constant(Tensor.vector(t.shape().sizes()))
                : b.op("Shape", List.of(like), Map.of());
        return b.op("Expand", List.of(scalar, shape), Map.of());
    }

    /** The nodes {@code value} depends on, through node inputs and values read by nested graphs. */
    static Set<Node> ancestors(Graph g, String value) {
        Map<String, Node> producers = g.producers();
        Set<Node> seen = new HashSet<>();
        List<String> work = new ArrayList<>(List.of(value));
        while (!work.isEmpty()) {
            Node p = producers.get(work.remove(work.size() - 1));
            if (p == null || !seen.add(p)) continue;
            work.addAll(reads(p));
        }
        return seen;
    }

    /** Every value name a node reads: its inputs and the names used inside its nested graphs. */
    private static Set<String> reads(Node n) {
        Set<String> r = new HashSet<>();
        for (Value v : n.inputs()) if (!v.isNone()) r.add(v.name());
        for (Attr a : n.attrs().values()) {
            if (a instanceof Attr.GraphAttr ga) readsOf(ga.value(), r);
            if (a instanceof Attr.GraphsAttr gs) gs.values().forEach(x -> readsOf(x, r));
        }
        return r;
    }

    private static void readsOf(Graph g, Set<String> r) {
        for (Node n : g.nodes()) r.addAll(reads(n));
        for (Value v : g.outputs()) r.add(v.name());
    }

    /** A topological order that keeps the given order wherever the dependencies allow (stable Kahn). */
    static List<Node> topologicalOrder(List<Node> nodes) {
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++)
            for (Value v : nodes.get(i).outputs()) if (!v.isNone()) producer.put(v.name(), i);
        int[] missing = new int[nodes.size()];
        Map<Integer, List<Integer>> users = new LinkedHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Set<Integer> deps = new HashSet<>();
            for (String r : reads(nodes.get(i))) {
                Integer p = producer.get(r);
                if (p != null && p != i) deps.add(p);
            }
            missing[i] = deps.size();
            for (int p : deps) users.computeIfAbsent(p, k -> new ArrayList<>()).add(i);
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int i = 0; i < nodes.size(); i++) if (missing[i] == 0) ready.add(i);
        List<Node> out = new ArrayList<>(nodes.size());
        while (!ready.isEmpty()) {
            int i = ready.poll();
            out.add(nodes.get(i));
            for (int u : users.getOrDefault(i, List.of())) if (--missing[u] == 0) ready.add(u);
        }
        if (out.size() != nodes.size())
            throw new GaleException("the graph has a dependency cycle after lowering Gradient nodes");
        return out;
    }
}
