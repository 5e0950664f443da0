package dev.gale.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable SSA graph: named inputs, initializers (constant tensors, which may double as inputs with a default),
 * nodes in a topological order, and outputs. Nested graphs (the bodies of If, Loop, Scan) are attributes of their
 * nodes and may read values of the enclosing graphs by name.
 *
 * <p>Edits produce a new graph: use {@link #withNodes}, or {@link GraphBuilder} to build one from scratch.
 */
public record Graph(String name, List<Value> inputs, List<Value> outputs, List<Node> nodes,
                    Map<String, Tensor> initializers) {
    public Graph {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        nodes = List.copyOf(nodes);
        initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        if (name == null) name = "";
    }

    /** Starts a graph builder: {@code var g = Graph.builder("mlp"); var x = g.input("x", ...)}. */
    public static GraphBuilder builder(String name) { return new GraphBuilder(name); }

    public static GraphBuilder builder() { return new GraphBuilder("main"); }

    /** Inputs that must be fed at run time: declared inputs without an initializer. */
    public List<Value> runtimeInputs() {
        List<Value> r = new ArrayList<>();
        for (Value v : inputs) if (!initializers.containsKey(v.name())) r.add(v);
        return r;
    }

    public Graph withNodes(List<Node> newNodes) {
        return new Graph(name, inputs, outputs, newNodes, initializers);
    }

    public Graph withInitializers(Map<String, Tensor> newInit) {
        return new Graph(name, inputs, outputs, nodes, newInit);
    }

    public Graph withOutputs(List<Value> newOutputs) {
        return new Graph(name, inputs, newOutputs, nodes, initializers);
    }

    /** Maps every value name defined in this graph (inputs, initializers, node outputs) to its defining node or null. */
    public Map<String, Node> producers() {
        Map<String, Node> m = new HashMap<>();
        for (Node n : nodes) for (Value v : n.outputs()) if (!v.isNone()) m.put(v.name(), n);
        return m;
    }

    /** Types of every value named in this graph: inputs, initializers and node outputs. */
    public Map<String, Type> valueTypes() {
        Map<String, Type> m = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : initializers.entrySet()) m.put(e.getKey(), e.getValue().type());
        for (Value v : inputs) m.put(v.name(), v.type());
        for (Node n : nodes) for (Value v : n.outputs()) if (!v.isNone()) m.put(v.name(), v.type());
        return m;
    }
}
