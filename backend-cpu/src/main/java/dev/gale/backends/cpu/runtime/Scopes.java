package dev.gale.backends.cpu.runtime;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/** The values a node's nested graphs (If branches, Loop and Scan bodies) read from the enclosing scopes. */
final class Scopes {
    private Scopes() {}

    /** Names read by the nested graphs of {@code n} and defined outside them, in first-read order. */
    static Set<String> outerReads(Node n) {
        Set<String> out = new LinkedHashSet<>();
        for (Attr a : n.attrs().values()) {
            if (a instanceof Attr.GraphAttr g) collect(g.value(), Set.of(), out);
            if (a instanceof Attr.GraphsAttr gs) for (Graph g : gs.values()) collect(g, Set.of(), out);
        }
        return out;
    }

    private static void collect(Graph g, Set<String> enclosing, Set<String> out) {
        Set<String> defined = new HashSet<>(enclosing);
        for (Value v : g.inputs()) defined.add(v.name());
        defined.addAll(g.initializers().keySet());
        for (Node n : g.nodes()) {
            for (Value v : n.inputs()) if (!v.isNone() && !defined.contains(v.name())) out.add(v.name());
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) collect(ga.value(), defined, out);
                if (a instanceof Attr.GraphsAttr gs) for (Graph sub : gs.values()) collect(sub, defined, out);
            }
            for (Value v : n.outputs()) if (!v.isNone()) defined.add(v.name());
        }
        for (Value v : g.outputs()) if (!defined.contains(v.name())) out.add(v.name());
    }
}
