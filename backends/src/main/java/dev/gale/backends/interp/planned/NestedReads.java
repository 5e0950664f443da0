package dev.gale.backends.interp.planned;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The enclosing-scope values a node's nested graphs read by name (an If branch using a value of the main graph).
 * The executor hands exactly these to the node, so nested graphs see arena values read back like any input. A
 * {@code gale::Kernel} body is closed and captures nothing.
 */
final class NestedReads {
    private NestedReads() {}

    static Set<String> captures(Node n) {
        Set<String> free = new LinkedHashSet<>();
        for (Graph g : nested(n)) free.addAll(freeNames(g));
        return free;
    }

    private static List<Graph> nested(Node n) {
        List<Graph> gs = new ArrayList<>();
        for (Attr a : n.attrs().values()) {
            if (a instanceof Attr.GraphAttr ga) gs.add(ga.value());
            if (a instanceof Attr.GraphsAttr gl) gs.addAll(gl.values());
        }
        return gs;
    }

    /** Names a graph reads but does not define (its own nested graphs' captures included). */
    private static Set<String> freeNames(Graph g) {
        Set<String> defined = new HashSet<>(g.initializers().keySet());
        for (Value v : g.inputs()) defined.add(v.name());
        Set<String> free = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            for (Value v : n.inputs()) if (!v.isNone() && !defined.contains(v.name())) free.add(v.name());
            for (String c : captures(n)) if (!defined.contains(c)) free.add(c);
            for (Value v : n.outputs()) if (!v.isNone()) defined.add(v.name());
        }
        for (Value v : g.outputs()) if (!defined.contains(v.name())) free.add(v.name());
        return free;
    }
}
