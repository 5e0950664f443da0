package dev.gale.passes.memory;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses the execution order of a graph's nodes (pass {@code schedule}): the graph's node order becomes the order
 * nodes run in, and later passes (memory planning) rely on it.
 *
 * <p>Candidates: the current order; a greedy list schedule (among the ready nodes, whose producers all ran, take
 * the one that adds the fewest live bytes, i.e. its outputs' bytes minus the bytes of the inputs it reads last, so
 * memory is freed as early as possible; ties go to the node first in the current order); and both of these
 * "sunk" ({@link #sink}: a node that frees nothing moves down to just before its first reader, which the greedy's
 * myopia needs for Constants and backward-only helpers). The candidate with the smallest peak of live bytes
 * ({@link Liveness#lowerBound}) wins, the current order on ties, so the pass never raises the peak. Sizes come from the {@code batch} / {@code dim.NAME} options; unbound symbols count as 1
 * here and dynamic sizes as 0. Deterministic: no hashing order or randomness decides anything.
 */
public final class Scheduler {
    private Scheduler() {}

    /** This scheduler as a pipeline pass named {@code schedule}. */
    public static Pass pass() {
        return new Pass() {
            @Override
            public String name() { return "schedule"; }

            @Override
            public Set<Property> establishes() { return Set.of(Property.SCHEDULED); }

            @Override
            public Graph run(Graph g, PassContext ctx) {
                Graph out = schedule(g, TensorSizes.from(ctx, false));
                if (out != g) ctx.count("schedule.reordered", 1);
                return out;
            }
        };
    }

    /** The graph with its nodes in the chosen order (the same instance when the current order wins). */
    public static Graph schedule(Graph g, TensorSizes sizes) {
        TensorSizes lenient = sizes.lenient();
        List<Node> greedy = greedy(g, lenient);
        List<List<Node>> candidates = List.of(greedy, sink(g, g.nodes()), sink(g, greedy));
        Graph best = g;
        long bestPeak = peak(g, lenient);
        for (List<Node> order : candidates) {
            if (order.equals(best.nodes())) continue;
            Graph c = g.withNodes(order);
            long p = peak(c, lenient);
            if (p < bestPeak) {
                best = c;
                bestPeak = p;
            }
        }
        return best;
    }

    /**
     * {@code order} with each node that frees nothing (reads no value for the last time) moved down to just before
     * the first reader of its outputs, but not past the last reader of any of its inputs: its outputs then live
     * shorter and its inputs no longer. Visits nodes from the last one up, so chains sink together.
     */
    static List<Node> sink(Graph g, List<Node> order) {
        List<Node> nodes = new ArrayList<>(order);
        List<Set<String>> reads = new ArrayList<>();
        for (Node n : nodes) reads.add(NodeReads.of(n));
        Set<String> graphOutputs = new HashSet<>();
        for (Value v : g.outputs()) graphOutputs.add(v.name());
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            Set<String> outs = new HashSet<>();
            for (Value v : n.outputs()) if (!v.isNone()) outs.add(v.name());
            if (outs.isEmpty() || outs.stream().anyMatch(graphOutputs::contains)) continue;
            int target = nodes.size();
            for (int j = i + 1; j < nodes.size() && target == nodes.size(); j++)
                for (String r : reads.get(j)) if (outs.contains(r)) target = j;
            if (target == nodes.size()) continue; // nobody reads it
            boolean frees = false;
            for (String x : reads.get(i)) {
                int last = -1;
                for (int j = i + 1; j < nodes.size(); j++) if (reads.get(j).contains(x)) last = j;
                if (last < 0 && !graphOutputs.contains(x)) frees = true;
                if (last >= 0) target = Math.min(target, last);
            }
            if (frees || target - 1 <= i) continue;
            nodes.add(target - 1, nodes.remove(i));
            reads.add(target - 1, reads.remove(i));
        }
        return nodes;
    }

    static long peak(Graph g, TensorSizes sizes) {
        return Liveness.of(g, sizes, MemoryPlanner.ALIGNMENT, true).lowerBound();
    }

    /** Bytes that running {@code n} adds: its read outputs' bytes less the bytes of the values it reads last. */
    private static long delta(Node n, List<String> reads, Map<String, Integer> readers, Map<String, Long> bytes) {
        long delta = 0;
        for (Value v : n.outputs())
            if (!v.isNone() && readers.getOrDefault(v.name(), 0) > 0) delta += bytes.get(v.name());
        for (String v : reads)
            if (readers.get(v) == 1 && bytes.containsKey(v)) delta -= bytes.get(v);
        return delta;
    }

    /** The greedy list schedule described in the class comment. */
    static List<Node> greedy(Graph g, TensorSizes sizes) {
        List<Node> nodes = g.nodes();
        int n = nodes.size();
        Set<String> graphOutputs = new HashSet<>();
        for (Value v : g.outputs()) graphOutputs.add(v.name());
        Map<String, Integer> producer = new HashMap<>();
        Map<String, Long> bytes = new HashMap<>();
        for (int i = 0; i < n; i++)
            for (Value v : nodes.get(i).outputs()) {
                if (v.isNone()) continue;
                producer.put(v.name(), i);
                long b = graphOutputs.contains(v.name()) ? 0 : sizes.bytes(v);
                bytes.put(v.name(), b == TensorSizes.DYNAMIC ? 0 : TensorSizes.align(b, MemoryPlanner.ALIGNMENT));
            }
        List<List<String>> reads = new ArrayList<>();
        List<List<Integer>> succ = new ArrayList<>();
        int[] waiting = new int[n];
        Map<String, Integer> readers = new HashMap<>();
        for (int i = 0; i < n; i++) succ.add(new ArrayList<>());
        for (int i = 0; i < n; i++) {
            List<String> r = new ArrayList<>(NodeReads.of(nodes.get(i)));
            reads.add(r);
            Set<Integer> preds = new TreeSet<>();
            for (String v : r) {
                readers.merge(v, 1, Integer::sum);
                Integer p = producer.get(v);
                if (p != null) preds.add(p);
            }
            for (int p : preds) succ.get(p).add(i);
            waiting[i] = preds.size();
        }
        TreeSet<Integer> ready = new TreeSet<>();
        for (int i = 0; i < n; i++) if (waiting[i] == 0) ready.add(i);
        List<Node> order = new ArrayList<>(n);
        while (!ready.isEmpty()) {
            int pick = -1;
            long bestScore = Long.MAX_VALUE;
            for (int i : ready) {
                long score = delta(nodes.get(i), reads.get(i), readers, bytes);
                if (score < bestScore) {
                    bestScore = score;
                    pick = i;
                }
            }
            ready.remove(pick);
            order.add(nodes.get(pick));
            for (String v : reads.get(pick)) readers.merge(v, -1, Integer::sum);
            for (int s : succ.get(pick)) if (--waiting[s] == 0) ready.add(s);
        }
        if (order.size() != n) throw new IllegalStateException("graph '" + g.name() + "' has a cycle");
        return order;
    }
}
