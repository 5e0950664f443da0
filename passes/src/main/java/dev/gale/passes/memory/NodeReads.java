package dev.gale.passes.memory;

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
 * The values a node reads when it runs: its inputs, plus the enclosing-scope values its nested graphs (If branches,
 * Loop and Scan bodies) read by name. A node keeps all of them alive until it has run.
 */
final class NodeReads {
    private NodeReads() {}

    /** Names read by {@code n}, each once, in a fixed order (inputs first). */
    static Set<String> of(Node n) {
        Set<String> r = new LinkedHashSet<>();
        for (Value v : n.inputs()) if (!v.isNone()) r.add(v.name());
        for (Graph g : nested(n)) r.addAll(freeNames(g));
        return r;
    }

    /** Whether {@code n} reads {@code name} only through its nested graphs (so renaming an input is not enough). */
    static boolean readsNested(Node n, String name) {
        for (Graph g : nested(n)) if (freeNames(g).contains(name)) return true;
        return false;
    }

    static List<Graph> nested(Node n) {
        List<Graph> gs = null; // most nodes have none: no list to make
        for (Attr a : n.attrs().values()) {
            if (a instanceof Attr.GraphAttr ga) (gs == null ? gs = new ArrayList<>() : gs).add(ga.value());
            if (a instanceof Attr.GraphsAttr gl) (gs == null ? gs = new ArrayList<>() : gs).addAll(gl.values());
        }
        return gs == null ? List.of() : gs;
    }

    /** Names a graph reads but does not define: the enclosing-scope values it captures. */
    static Set<String> freeNames(Graph g) {
        Set<String> defined = new HashSet<>(g.initializers().keySet());
        for (Value v : g.inputs()) defined.add(v.name());
        Set<String> free = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            for (String name : of(n)) if (!defined.contains(name)) free.add(name);
            for (Value v : n.outputs()) if (!v.isNone()) defined.add(v.name());
        }
        for (Value v : g.outputs()) if (!defined.contains(v.name())) free.add(v.name());
        return free;
    }
}
