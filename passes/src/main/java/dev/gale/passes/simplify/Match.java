package dev.gale.passes.simplify;

import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.Map;

/** A successful match of a rule's pattern: the root node, the bound values and nodes, and the graph around them. */
public final class Match {
    private final Node root;
    private final Map<String, Value> values;
    private final Map<String, Node> nodes;
    private final GraphView view;

    Match(Node root, Map<String, Value> values, Map<String, Node> nodes, GraphView view) {
        this.root = root;
        this.values = Map.copyOf(values);
        this.nodes = Map.copyOf(nodes);
        this.view = view;
    }

    public Node root() { return root; }

    /** The root's first output. */
    public Value output() { return root.output(0); }

    public GraphView view() { return view; }

    /** The value bound to {@code name}. */
    public Value value(String name) {
        Value v = values.get(name);
        if (v == null) throw new IllegalArgumentException("pattern binds no value '" + name + "'");
        return v;
    }

    /** The node bound to {@code name} with {@link Pattern.Op#as}. */
    public Node node(String name) {
        Node n = nodes.get(name);
        if (n == null) throw new IllegalArgumentException("pattern binds no node '" + name + "'");
        return n;
    }

    /** The constant contents of the value bound to {@code name}, or null. */
    public Tensor constant(String name) { return view.constant(value(name)); }

    /** The tensor type of the value bound to {@code name}, or null when it is not a tensor or not typed. */
    public Type.TensorType tensorType(String name) { return tensorType(value(name)); }

    public Type.TensorType tensorType(Value v) {
        return view.type(v) instanceof Type.TensorType t ? t : null;
    }

    /** The constant value of one of the root's inputs, or null when omitted or not constant. */
    public Tensor rootConstant(int input) {
        Value v = root.input(input);
        return v.isNone() ? null : view.constant(v);
    }

    /** Whether root output {@code k} is absent or read by nothing (no node, no graph output). */
    public boolean outputUnused(int k) {
        if (k >= root.outputs().size()) return true;
        Value v = root.output(k);
        return v.isNone() || (view.uses(v) == 0 && !view.isGraphOutput(v));
    }
}
