package dev.gale.ir;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One operation in a graph. Immutable: inputs and outputs are SSA values; omitted optional inputs are
 * {@link Value#NONE}. Attributes are kept sorted by name so printing and comparison do not depend on source order.
 * The domain is {@code ""} for the default ONNX domain.
 */
public record Node(String name, String domain, String op, List<Value> inputs, List<Value> outputs,
                   Map<String, Attr> attrs) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attrs = attrs.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(attrs));
        if (name == null) name = "";
        if (domain == null) domain = "";
    }

    public Node(String op, List<Value> inputs, List<Value> outputs, Map<String, Attr> attrs) {
        this("", "", op, inputs, outputs, attrs);
    }

    public Value input(int i) { return i < inputs.size() ? inputs.get(i) : Value.NONE; }

    public boolean hasInput(int i) { return i < inputs.size() && !inputs.get(i).isNone(); }

    public Value output(int i) { return outputs.get(i); }

    public Attr attr(String name) { return attrs.get(name); }

    /** {@code domain::op}, or just {@code op} in the default domain. */
    public String qualifiedOp() { return domain.isEmpty() ? op : domain + "::" + op; }

    /** A short human-readable reference used in error messages: {@code node 'name' (Op)}. */
    public String describe() {
        String ref = !name.isEmpty() ? name : (outputs.isEmpty() ? "?" : outputs.get(0).name());
        return "node '" + ref + "' (" + qualifiedOp() + ")";
    }

    public Node withInputs(List<Value> newInputs) {
        return new Node(name, domain, op, newInputs, outputs, attrs);
    }

    public Node withOutputs(List<Value> newOutputs) {
        return new Node(name, domain, op, inputs, newOutputs, attrs);
    }

    public Node withAttrs(Map<String, Attr> newAttrs) {
        return new Node(name, domain, op, inputs, outputs, newAttrs);
    }
}
