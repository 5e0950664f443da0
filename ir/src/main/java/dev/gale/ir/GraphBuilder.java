package dev.gale.ir;

import dev.gale.ir.op.OpTable;
import dev.gale.ir.op.SymInt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a Gale graph from Java code, inferring each value's type as it is added. One of Gale's front doors:
 *
 * <pre>{@code
 * var g = Graph.builder("mlp");
 * var x = g.input("x", DType.FLOAT32, "batch", 784);
 * var w = g.initializer("w", Tensor.zeros(DType.FLOAT32, 784, 10));
 * var b = g.initializer("b", Tensor.zeros(DType.FLOAT32, 10));
 * var y = g.relu(g.add(g.matmul(x, w), b));
 * g.output(y);
 * Graph graph = g.build();          // verified; y has type tensor<[batch,10],f32>
 * }</pre>
 *
 * Values get fresh names ({@code t0}, {@code t1}, ...) unless named with {@link #op(String, String, List, Map)}.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Value> inputs = new ArrayList<>();
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<Value> outputs = new ArrayList<>();
    private final Map<String, Type> types = new HashMap<>();
    private final Map<String, Tensor> constants = new HashMap<>();
    private final Map<String, List<SymInt>> shapeValues = new HashMap<>();
    private final java.util.Set<String> used = new java.util.HashSet<>();
    private int counter;

    GraphBuilder(String name) { this.name = name; }

    /** Continues an existing graph: its inputs, initializers, nodes and outputs are kept; new nodes go after them. */
    public static GraphBuilder from(Graph g) {
        GraphBuilder b = new GraphBuilder(g.name());
        b.inputs.addAll(g.inputs());
        b.initializers.putAll(g.initializers());
        b.nodes.addAll(g.nodes());
        b.outputs.addAll(g.outputs());
        b.types.putAll(g.valueTypes());
        b.constants.putAll(g.initializers());
        for (Node n : g.nodes())
            if (n.op().equals("Constant") && n.domain().isEmpty() && n.attr("value") instanceof Attr.TensorAttr t)
                b.constants.put(n.output(0).name(), t.value());
        collectNames(g, b.used);
        return b;
    }

    private static void collectNames(Graph g, java.util.Set<String> names) {
        for (Value v : g.inputs()) names.add(v.name());
        names.addAll(g.initializers().keySet());
        for (Node n : g.nodes()) {
            for (Value v : n.outputs()) names.add(v.name());
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) collectNames(ga.value(), names);
                if (a instanceof Attr.GraphsAttr gs) gs.values().forEach(x -> collectNames(x, names));
            }
        }
    }

    /** Turns initializer {@code initName} into a graph input of the same type (a value fed at run time). */
    public Value promoteToInput(String initName) {
        Tensor t = initializers.remove(initName);
        if (t == null) throw new GaleException("'" + initName + "' is not an initializer of graph '" + name + "'");
        constants.remove(initName);
        inputs.removeIf(v -> v.name().equals(initName));
        Value v = new Value(initName, t.type());
        inputs.add(v);
        return v;
    }

    /** Removes every graph output; add new ones with {@link #output}. */
    public void clearOutputs() { outputs.clear(); }

    /** The type recorded for a value name, or null. */
    public Type typeOf(String valueName) { return types.get(valueName); }

    /**
     * Adds a node with one output whose type is known by construction ({@code declared}); inference refines it.
     * {@code hint} seeds the fresh output name.
     */
    public Value opTyped(String hint, String domain, String op, List<Value> in, Map<String, Attr> attrs, Type declared) {
        String n = fresh(hint);
        OpTable.require(domain, op, "graph builder");
        Node node = ShapeInference.inferNode(new Node(n, domain, op, in, List.of(new Value(n, declared)), attrs),
                types, constants, shapeValues);
        nodes.add(node);
        types.put(n, node.output(0).type());
        return node.output(0);
    }

    /** Adds a node whose outputs get fresh names derived from {@code hint}. */
    public List<Value> opNamed(String hint, String domain, String op, List<Value> in, Map<String, Attr> attrs,
                               int numOutputs) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < numOutputs; i++) names.add(fresh(hint));
        return add(domain, op, in, attrs, names);
    }

    /** Declares a graph input; each dimension is a {@code Number} (fixed) or a {@code String} (symbolic). */
    public Value input(String inputName, DType dtype, Object... dims) {
        List<Dim> d = new ArrayList<>();
        for (Object o : dims) {
            if (o instanceof Number num) d.add(Dim.of(num.longValue()));
            else if (o instanceof String s) d.add(s.equals("?") ? Dim.UNKNOWN : Dim.sym(s));
            else throw new IllegalArgumentException("dimension must be a number or a name: " + o);
        }
        Value v = new Value(fresh(inputName), Type.tensor(dtype, new Shape(d)));
        inputs.add(v);
        types.put(v.name(), v.type());
        return v;
    }

    /** Adds a named constant tensor (a weight); trainable when it has a float type. */
    public Value initializer(String initName, Tensor value) {
        String n = fresh(initName);
        initializers.put(n, value);
        types.put(n, value.type());
        constants.put(n, value);
        return new Value(n, value.type());
    }

    /** Adds a {@code Constant} node holding {@code value}. */
    public Value constant(Tensor value) { return op("Constant", List.of(), Map.of("value", Attr.of(value))); }

    /** Adds a node of any op in the op table with one output. */
    public Value op(String op, List<Value> in, Map<String, Attr> attrs) { return op("", op, in, attrs, 1).get(0); }

    /** Adds a node with one output named {@code outName}. */
    public Value op(String outName, String op, List<Value> in, Map<String, Attr> attrs) {
        return add("", op, in, attrs, List.of(fresh(outName))).get(0);
    }

    /** Adds a node of a given domain with {@code numOutputs} outputs. */
    public List<Value> op(String domain, String op, List<Value> in, Map<String, Attr> attrs, int numOutputs) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < numOutputs; i++) names.add(fresh(null));
        return add(domain, op, in, attrs, names);
    }

    private List<Value> add(String domain, String op, List<Value> in, Map<String, Attr> attrs, List<String> outNames) {
        OpTable.require(domain, op, "graph builder");
        List<Value> outs = new ArrayList<>();
        for (String n : outNames) outs.add(new Value(n, null));
        Node node = ShapeInference.inferNode(new Node(outNames.get(0), domain, op, in, outs, attrs), types, constants,
                shapeValues);
        nodes.add(node);
        for (Value v : node.outputs()) types.put(v.name(), v.type());
        if (op.equals("Constant") && attrs.get("value") instanceof Attr.TensorAttr t)
            constants.put(node.output(0).name(), t.value());
        return node.outputs();
    }

    public Value add(Value a, Value b) { return op("Add", List.of(a, b), Map.of()); }

    public Value sub(Value a, Value b) { return op("Sub", List.of(a, b), Map.of()); }

    public Value mul(Value a, Value b) { return op("Mul", List.of(a, b), Map.of()); }

    public Value div(Value a, Value b) { return op("Div", List.of(a, b), Map.of()); }

    public Value matmul(Value a, Value b) { return op("MatMul", List.of(a, b), Map.of()); }

    /** {@code alpha * A' * B' + beta * C} with optional transposes, as ONNX Gemm. */
    public Value gemm(Value a, Value b, Value c, boolean transA, boolean transB) {
        return op("Gemm", c == null ? List.of(a, b) : List.of(a, b, c),
                Map.of("transA", Attr.of(transA ? 1L : 0L), "transB", Attr.of(transB ? 1L : 0L)));
    }

    public Value relu(Value x) { return op("Relu", List.of(x), Map.of()); }

    public Value tanh(Value x) { return op("Tanh", List.of(x), Map.of()); }

    public Value sigmoid(Value x) { return op("Sigmoid", List.of(x), Map.of()); }

    public Value exp(Value x) { return op("Exp", List.of(x), Map.of()); }

    public Value softmax(Value x, long axis) { return op("Softmax", List.of(x), Map.of("axis", Attr.of(axis))); }

    public Value logSoftmax(Value x, long axis) {
        return op("LogSoftmax", List.of(x), Map.of("axis", Attr.of(axis)));
    }

    public Value transpose(Value x, long... perm) {
        return op("Transpose", List.of(x), Map.of("perm", Attr.of(perm)));
    }

    public Value reshape(Value x, long... shape) {
        return op("Reshape", List.of(x, constant(Tensor.vector(shape))), Map.of());
    }

    public Value flatten(Value x, long axis) { return op("Flatten", List.of(x), Map.of("axis", Attr.of(axis))); }

    public Value reduceMean(Value x, boolean keepDims, long... axes) {
        return op("ReduceMean", List.of(x, constant(Tensor.vector(axes))),
                Map.of("keepdims", Attr.of(keepDims ? 1L : 0L)));
    }

    /** 2-D convolution with symmetric padding {@code pad} and the given stride; {@code bias} may be null. */
    public Value conv(Value x, Value w, Value bias, long stride, long pad) {
        List<Value> in = bias == null ? List.of(x, w) : List.of(x, w, bias);
        return op("Conv", in, Map.of("strides", Attr.of(stride, stride), "pads", Attr.of(pad, pad, pad, pad)));
    }

    public Value layerNorm(Value x, Value scale, Value bias, long axis, float epsilon) {
        return op("LayerNormalization", List.of(x, scale, bias),
                Map.of("axis", Attr.of(axis), "epsilon", Attr.of(epsilon)));
    }

    public Value output(Value v) {
        outputs.add(v);
        return v;
    }

    /** The finished graph, verified against the op table. */
    public Graph build() {
        Graph g = new Graph(name, inputs, outputs.stream().map(v -> v.withType(types.get(v.name()))).toList(),
                nodes, initializers);
        Verifier.verify(g);
        return g;
    }

    public Model buildModel() { return Model.of(build()); }

    private String fresh(String hint) {
        String n = hint;
        if (n == null || n.isEmpty() || used.contains(n) || types.containsKey(n)) {
            do {
                n = (hint == null || hint.isEmpty() ? "t" : hint + "_") + counter++;
            } while (used.contains(n) || types.containsKey(n));
        }
        used.add(n);
        return n;
    }
}
