package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Makes the replacement nodes of one rewrite. Each new node gets fresh output names and inferred types; the driver
 * inserts them, in creation order, where the matched root was, so the graph stays topologically ordered (a new
 * node may read only values visible to the root and outputs of nodes created before it).
 */
public final class Rewriter {
    private final Node root;
    private final Function<String, String> fresh;
    private final Function<Node, Node> infer;
    private final List<Node> created = new ArrayList<>();

    Rewriter(Node root, Function<String, String> fresh, Function<Node, Node> infer) {
        this.root = root;
        this.fresh = fresh;
        this.infer = infer;
    }

    /** A new node of the default domain with one output. */
    public Value op(String op, List<Value> in, Map<String, Attr> attrs) { return node("", op, in, attrs, 1).get(0); }

    /** A new node with {@code numOutputs} outputs, named after the root's first output. */
    public List<Value> node(String domain, String op, List<Value> in, Map<String, Attr> attrs, int numOutputs) {
        OpTable.require(domain, op, "rewrite of " + root.describe());
        String hint = root.outputs().isEmpty() ? op : root.output(0).name();
        List<Value> outs = new ArrayList<>();
        for (int i = 0; i < numOutputs; i++) outs.add(new Value(fresh.apply(hint), null));
        // The node that takes over the root's role (the first of its op) keeps its name, for tracing; others have none.
        boolean heir = op.equals(root.op()) && domain.equals(root.domain())
                && created.stream().noneMatch(c -> c.op().equals(op) && c.domain().equals(domain));
        Node n = infer.apply(new Node(heir ? root.name() : "", domain, op, in, outs, attrs));
        created.add(n);
        return n.outputs();
    }

    /** A new {@code Constant} node holding {@code t}. */
    public Value constant(Tensor t) { return op("Constant", List.of(), Map.of("value", Attr.of(t))); }

    /** The nodes made so far, in creation order. */
    List<Node> created() { return created; }

    /** Gives output {@code name} of a created node the type {@code t} (the root's, when the rewrite knows better). */
    void retype(String name, Type t) {
        for (int i = 0; i < created.size(); i++) {
            Node n = created.get(i);
            List<Value> outs = new ArrayList<>(n.outputs());
            boolean hit = false;
            for (int k = 0; k < outs.size(); k++)
                if (outs.get(k).name().equals(name)) {
                    outs.set(k, outs.get(k).withType(t));
                    hit = true;
                }
            if (hit) created.set(i, n.withOutputs(outs));
        }
    }
}
