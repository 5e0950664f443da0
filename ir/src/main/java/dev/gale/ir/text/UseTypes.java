package dev.gale.ir.text;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gives every use of a value (a node input) the type of its definition. A {@link Node}'s input {@link Value}s carry a
 * type of their own, and an importer may leave there what the model declared before type inference (often nothing);
 * the text IR writes types only at definitions, so the form it reads back is this canonical one. Comparing
 * {@code refresh(m)} with {@code TextParser.parse(TextPrinter.print(m, INLINE))} is the round-trip check.
 */
public final class UseTypes {
    private UseTypes() {}

    public static Model refresh(Model m) { return m.withGraph(refresh(m.graph(), Map.of())); }

    /** {@code outer}: the types of the enclosing graphs' values a nested graph may read. */
    public static Graph refresh(Graph g, Map<String, Type> outer) {
        Map<String, Type> scope = new HashMap<>(outer);
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) scope.put(e.getKey(), e.getValue().type());
        for (Value v : g.inputs()) scope.put(v.name(), v.type());
        List<Node> nodes = new ArrayList<>(g.nodes().size());
        for (Node n : g.nodes()) {
            List<Value> in = new ArrayList<>(n.inputs().size());
            for (Value v : n.inputs())
                in.add(v.isNone() || !scope.containsKey(v.name()) ? v : v.withType(scope.get(v.name())));
            Map<String, Attr> attrs = new LinkedHashMap<>();
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                Attr a = switch (e.getValue()) {
                    case Attr.GraphAttr ga -> Attr.of(refresh(ga.value(), scope));
                    case Attr.GraphsAttr gs ->
                            new Attr.GraphsAttr(gs.values().stream().map(s -> refresh(s, scope)).toList());
                    default -> e.getValue();
                };
                attrs.put(e.getKey(), a);
            }
            nodes.add(new Node(n.name(), n.domain(), n.op(), in, n.outputs(), attrs));
            for (Value v : n.outputs()) if (!v.isNone()) scope.put(v.name(), v.type());
        }
        return new Graph(g.name(), g.inputs(), g.outputs(), nodes, g.initializers());
    }
}
