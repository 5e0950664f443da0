package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.Attrs;
import dev.gale.ir.op.OpSchema;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One kernel invocation: the node, its run-time inputs, attributes with the op table's defaults applied, and a way
 * to run nested graphs (If, Loop, Scan bodies) in the current scope.
 */
public final class KernelCall {
    private final Node node;
    private final OpSchema schema;
    private final List<Object> inputs;
    private final Interpreter interpreter;
    private final Map<String, Object> scope;

    KernelCall(Node node, OpSchema schema, List<Object> inputs, Interpreter interpreter, Map<String, Object> scope) {
        this.node = node;
        this.schema = schema;
        this.inputs = inputs;
        this.interpreter = interpreter;
        this.scope = scope;
    }

    public Node node() { return node; }

    public int numInputs() { return inputs.size(); }

    public int numOutputs() { return node.outputs().size(); }

    /** True when input {@code i} is given (not omitted). */
    public boolean has(int i) { return i < inputs.size() && inputs.get(i) != null; }

    /** Input {@code i} as a tensor, or null when omitted. */
    public Tensor in(int i) {
        if (!has(i)) return null;
        if (inputs.get(i) instanceof Tensor t) return t;
        throw error("input " + i + " must be a tensor, got " + inputs.get(i).getClass().getSimpleName());
    }

    /** Input {@code i} as a tensor; an error when it is omitted. */
    public Tensor required(int i) {
        Tensor t = in(i);
        if (t == null) throw error("required input " + i + " is missing");
        return t;
    }

    /** Input {@code i} as whatever run-time value it is (tensor, sequence, optional), or null. */
    public Object value(int i) { return has(i) ? inputs.get(i) : null; }

    public List<Object> values() { return inputs; }

    public boolean hasAttr(String name) { return node.attr(name) != null; }

    /** The attribute as written on the node, else the op table's default, else null. */
    public Attr attr(String name) {
        Attr a = node.attr(name);
        if (a != null) return a;
        var spec = schema.attr(name);
        return spec == null ? null : spec.defaultValue();
    }

    public long attrInt(String name) { return Attrs.asInt(attr(name), node, name); }

    public float attrFloat(String name) { return Attrs.asFloat(attr(name), node, name); }

    public String attrString(String name) { return Attrs.asString(attr(name), node, name); }

    /** The ints attribute, or null when absent without a default. */
    public long[] attrInts(String name) {
        Attr a = attr(name);
        return a == null ? null : Attrs.asInts(a, node, name);
    }

    public float[] attrFloats(String name) {
        Attr a = attr(name);
        return a == null ? null : Attrs.asFloats(a, node, name);
    }

    public List<String> attrStrings(String name) {
        Attr a = attr(name);
        return a == null ? null : Attrs.asStrings(a, node, name);
    }

    public Tensor attrTensor(String name) {
        Attr a = attr(name);
        return a == null ? null : Attrs.asTensor(a, node, name);
    }

    public Graph attrGraph(String name) { return Attrs.asGraph(attr(name), node, name); }

    /** Runs a nested graph with its inputs bound in order; it sees every value of the enclosing scopes. */
    public List<Object> runGraph(Graph g, List<Object> graphInputs) {
        return interpreter.runNested(g, graphInputs, scope);
    }

    /** The interpreter's random source (seeded, so runs repeat). */
    public Random rng() { return interpreter.rng(); }

    public GaleException error(String message) { return new GaleException(node.describe() + ": " + message); }
}
