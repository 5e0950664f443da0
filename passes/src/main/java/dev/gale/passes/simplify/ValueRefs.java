package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.op.ControlFlowOps;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Reading and renaming value references, nested graphs included. A nested graph (If, Loop, Scan body) reads values
 * of its enclosing graphs by name, and names are unique across the nesting, so an outer value can be renamed inside
 * a body without looking at what the body defines.
 */
final class ValueRefs {
    private ValueRefs() {}

    /** Calls {@code read} with every value name {@code n} reads: its inputs and the free reads of its bodies. */
    static void forEachRead(Node n, Consumer<String> read) {
        for (Value v : n.inputs()) if (!v.isNone()) read.accept(v.name());
        for (Graph g : bodies(n)) forEachRead(g, read);
    }

    private static void forEachRead(Graph g, Consumer<String> read) {
        for (Node n : g.nodes()) forEachRead(n, read);
        for (Value v : g.outputs()) read.accept(v.name());
    }

    static boolean hasBodies(Node n) {
        for (Attr a : n.attrs().values()) if (a instanceof Attr.GraphAttr || a instanceof Attr.GraphsAttr) return true;
        return false;
    }

    static List<Graph> bodies(Node n) {
        List<Graph> r = null; // most nodes have no body: no list to make
        for (Attr a : n.attrs().values()) {
            if (a instanceof Attr.GraphAttr ga) (r == null ? r = new ArrayList<>() : r).add(ga.value());
            if (a instanceof Attr.GraphsAttr gs) (r == null ? r = new ArrayList<>() : r).addAll(gs.values());
        }
        return r == null ? List.of() : r;
    }

    /** Every name defined anywhere in {@code g}: inputs, initializers, node outputs, nested graphs included. */
    static void collectDefined(Graph g, Set<String> names) {
        for (Value v : g.inputs()) names.add(v.name());
        names.addAll(g.initializers().keySet());
        for (Node n : g.nodes()) {
            for (Value v : n.outputs()) if (!v.isNone()) names.add(v.name());
            for (Graph b : bodies(n)) collectDefined(b, names);
        }
    }

    /**
     * {@code n} with every read value passed through {@code map} (which returns its argument when there is nothing
     * to change); the same instance when nothing changed.
     */
    static Node substitute(Node n, UnaryOperator<Value> map) {
        List<Value> in = new ArrayList<>(n.inputs().size());
        boolean changed = false;
        for (Value v : n.inputs()) {
            Value w = v.isNone() ? v : map.apply(v);
            changed |= w != v;
            in.add(w);
        }
        Map<String, Attr> attrs = n.attrs();
        if (hasBodies(n)) {
            Map<String, Attr> a2 = new LinkedHashMap<>();
            for (Map.Entry<String, Attr> e : attrs.entrySet()) {
                Attr a = e.getValue();
                if (a instanceof Attr.GraphAttr ga) {
                    Graph g2 = substitute(ga.value(), map);
                    if (g2 != ga.value()) {
                        changed = true;
                        a = Attr.of(g2);
                    }
                } else if (a instanceof Attr.GraphsAttr gs) {
                    List<Graph> l = new ArrayList<>();
                    boolean any = false;
                    for (Graph g : gs.values()) {
                        Graph g2 = substitute(g, map);
                        any |= g2 != g;
                        l.add(g2);
                    }
                    if (any) {
                        changed = true;
                        a = new Attr.GraphsAttr(l);
                    }
                }
                a2.put(e.getKey(), a);
            }
            attrs = a2;
        }
        return changed ? new Node(n.name(), n.domain(), n.op(), in, n.outputs(), attrs) : n;
    }

    private static Graph substitute(Graph g, UnaryOperator<Value> map) {
        List<Node> nodes = new ArrayList<>();
        boolean changed = false;
        for (Node n : g.nodes()) {
            Node m = substitute(n, map);
            changed |= m != n;
            nodes.add(m);
        }
        List<Value> outs = new ArrayList<>();
        for (Value v : g.outputs()) {
            Value w = map.apply(v);
            // A body output keeps its declared type: it is the body's interface, not the outer value's.
            changed |= w != v;
            outs.add(w == v ? v : new Value(w.name(), v.type()));
        }
        return changed ? new Graph(g.name(), g.inputs(), outs, nodes, g.initializers()) : g;
    }

    /** {@code n} with output names renamed by {@code rename} (names absent from it are kept). */
    static Node renameOutputs(Node n, Map<String, String> rename) {
        List<Value> outs = new ArrayList<>();
        boolean changed = false;
        for (Value v : n.outputs()) {
            String to = v.isNone() ? null : rename.get(v.name());
            if (to != null) {
                outs.add(new Value(to, v.type()));
                changed = true;
            } else {
                outs.add(v);
            }
        }
        return changed ? n.withOutputs(outs) : n;
    }

    /** The tensor a {@code Constant} node holds, whichever attribute carries it; null for other nodes. */
    static Tensor constantValue(Node n) { return ControlFlowOps.constantOf(n); }
}
