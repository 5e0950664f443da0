package dev.gale.cli;

import dev.gale.ir.Attr;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Renames one value of a graph everywhere it is defined or read (nested graphs that read it included). */
final class ValueRenamer {
    private ValueRenamer() {}

    static Graph rename(Graph g, String from, String to) {
        if (from.equals(to)) return g;
        if (g.valueTypes().containsKey(to))
            throw new GaleException("cannot name the labels input '" + to + "': the graph already has a value of that name");
        return renameIn(g, from, to);
    }

    private static Graph renameIn(Graph g, String from, String to) {
        List<Node> nodes = g.nodes().stream().map(n -> {
            Map<String, Attr> attrs = new LinkedHashMap<>();
            n.attrs().forEach((k, a) -> attrs.put(k, switch (a) {
                case Attr.GraphAttr ga -> Attr.of(renameIn(ga.value(), from, to));
                case Attr.GraphsAttr gs -> new Attr.GraphsAttr(gs.values().stream().map(s -> renameIn(s, from, to)).toList());
                default -> a;
            }));
            return new Node(n.name(), n.domain(), n.op(), values(n.inputs(), from, to), values(n.outputs(), from, to), attrs);
        }).toList();
        Map<String, dev.gale.ir.Tensor> init = new LinkedHashMap<>();
        g.initializers().forEach((k, v) -> init.put(k.equals(from) ? to : k, v));
        return new Graph(g.name(), values(g.inputs(), from, to), values(g.outputs(), from, to), nodes, init);
    }

    private static List<Value> values(List<Value> vs, String from, String to) {
        return vs.stream().map(v -> v.name().equals(from) ? new Value(to, v.type()) : v).toList();
    }
}
