package dev.gale.passes.simplify;

import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Matches a {@link Pattern} against a node and its producers. Backtracking is complete: each sub-match takes a
 * continuation ("match the rest"), so a commutative node deep in the pattern retries its other operand order when a
 * later sibling fails, and bindings made on a failed path are undone.
 */
final class Matcher {
    private final GraphView view;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Node> nodes = new HashMap<>();

    private Matcher(GraphView view) { this.view = view; }

    /** The first match of {@code root} at {@code n} that satisfies {@code when} (null when = always), or null. */
    static Match match(Pattern.Op root, Node n, GraphView view, Predicate<Match> when) {
        Matcher m = new Matcher(view);
        Match[] found = new Match[1];
        m.node(root, n, () -> {
            Match candidate = new Match(n, m.values, m.nodes, view);
            if (when != null && !when.test(candidate)) return false;
            found[0] = candidate;
            return true;
        });
        return found[0];
    }

    private boolean value(Pattern p, Value v, BooleanSupplier rest) {
        return switch (p) {
            case Pattern.None ignored -> v.isNone() && rest.getAsBoolean();
            case Pattern.Any a -> !v.isNone() && bind(a.name(), v, rest);
            case Pattern.Const c -> !v.isNone() && view.constant(v) != null && bind(c.name(), v, rest);
            case Pattern.Op op -> {
                if (v.isNone()) yield false;
                Node producer = view.producer(v);
                if (producer == null || op.output() >= producer.outputs().size()
                        || !producer.output(op.output()).name().equals(v.name()))
                    yield false;
                yield node(op, producer, rest);
            }
        };
    }

    private boolean bind(String name, Value v, BooleanSupplier rest) {
        if (name == null) return rest.getAsBoolean();
        Value bound = values.get(name);
        if (bound != null) return bound.name().equals(v.name()) && rest.getAsBoolean();
        values.put(name, v);
        if (rest.getAsBoolean()) return true;
        values.remove(name);
        return false;
    }

    private boolean node(Pattern.Op p, Node n, BooleanSupplier rest) {
        if (p.op() != null && !p.op().equals(n.op())) return false;
        if (p.domain() != null && !p.domain().equals(n.domain())) return false;
        BooleanSupplier bindAndRest = () -> {
            if (p.name() == null) return rest.getAsBoolean();
            Node bound = nodes.get(p.name());
            if (bound != null) return bound == n && rest.getAsBoolean();
            nodes.put(p.name(), n);
            if (rest.getAsBoolean()) return true;
            nodes.remove(p.name());
            return false;
        };
        if (p.inputs() == null) return bindAndRest.getAsBoolean();
        List<Value> in = trimmed(n.inputs());
        if (in.size() != p.inputs().size()) return false;
        if (inputs(p.inputs(), in, 0, bindAndRest)) return true;
        if (p.swappable() && in.size() == 2)
            return inputs(p.inputs(), List.of(in.get(1), in.get(0)), 0, bindAndRest);
        return false;
    }

    private boolean inputs(List<Pattern> ps, List<Value> vs, int i, BooleanSupplier rest) {
        if (i == ps.size()) return rest.getAsBoolean();
        return value(ps.get(i), vs.get(i), () -> inputs(ps, vs, i + 1, rest));
    }

    /** The inputs without trailing omitted ones: {@code Dropout(x, _, _)} has one input. */
    static List<Value> trimmed(List<Value> in) {
        int end = in.size();
        while (end > 0 && in.get(end - 1).isNone()) end--;
        return end == in.size() ? in : new ArrayList<>(in.subList(0, end));
    }
}
