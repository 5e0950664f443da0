package dev.gale.passes.memory;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Rematerialization (pass {@code remat}): when the memory plan exceeds the budget (option {@value #BUDGET}, bytes),
 * trade compute for memory by recomputing cheap values where they are needed again instead of keeping them alive,
 * typically activations that a training graph keeps from the forward part for its backward part.
 *
 * <p>One round: find the first peak step P (most live bytes). A candidate is a value v live across P (born before
 * P, read after P, not read at P) whose producer is cheap ({@link OpKinds#cheap}: elementwise, broadcast,
 * injective, a Constant; single output). Its reads after P ("late uses") get a recomputed copy, made by clones
 * placed just before the first late use; v itself then dies at its last read before P. The clones need the
 * producer's inputs at the late use: an input live at P anyway is free; an input that died before P is recomputed
 * in turn when its producer is cheap (up to {@value #MAX_DEPTH} levels), else kept alive, costing its bytes at P.
 * A producer left without readers is dropped, so a value computed too early is simply moved.
 *
 * <p>Bytes saved at P are only a local estimate (a kept input may raise another step), so the {@value #TRIALS}
 * candidates saving the most are each applied and re-scheduled ({@link Scheduler}), and the one whose memory profile
 * is best ({@link Score}: peak, then steps at the peak, then total) is kept if it beats the current graph. Rounds
 * repeat until the arena fits, no candidate improves the profile, or a round limit is hit. The result is the
 * smallest arena seen; when nothing helped, the input graph itself. Deterministic: candidates are ordered by bytes
 * saved, FLOPs, birth step and name.
 *
 * <p>Counters: {@code remat.extra_flops} (FLOPs of the added clones less those of dropped originals,
 * {@link FlopEstimate}), {@code remat.recomputed} (nodes added), {@code remat.arena_before}/{@code _after}, and
 * {@code remat.over_budget} (bytes still over the budget when it could not be met). Recomputing runs the same ops on
 * the same inputs, so outputs are bit-identical.
 */
public final class Rematerializer {
    public static final String BUDGET = "memory.budget";
    static final int MAX_DEPTH = 3;

    private Rematerializer() {}

    /** The outcome: the graph and plan kept, the plan before, and what recomputation costs. */
    public record Result(Graph graph, MemoryPlan plan, MemoryPlan before, long extraFlops, int recomputed) {}

    /** This pass for pipelines: needs a scheduled graph, leaves it scheduled and planned. */
    public static Pass pass() {
        return new Pass() {
            @Override
            public String name() { return "remat"; }

            @Override
            public Set<Property> requires() { return Set.of(Property.TYPED, Property.SCHEDULED); }

            @Override
            public Set<Property> establishes() { return Set.of(Property.SCHEDULED, Property.MEMORY_PLANNED); }

            /** Recomputed copies are new nodes: the order and plan it was given no longer hold (it makes new ones). */
            @Override
            public Set<Property> invalidates() { return GRAPH_REWRITE; }

            @Override
            public Graph run(Graph g, PassContext ctx) {
                long budget = ctx.longOption(BUDGET, Long.MAX_VALUE);
                Result r = Rematerializer.run(g, TensorSizes.from(ctx, true), budget);
                MemoryPlanner.record(r.plan, r.graph, ctx);
                ctx.count("remat.arena_before", r.before.arenaBytes());
                ctx.count("remat.arena_after", r.plan.arenaBytes());
                ctx.count("remat.extra_flops", r.extraFlops);
                ctx.count("remat.recomputed", r.recomputed);
                if (r.plan.arenaBytes() > budget) ctx.count("remat.over_budget", r.plan.arenaBytes() - budget);
                return r.graph;
            }
        };
    }

    /** Recomputes until the plan of {@code g} (scheduled) fits {@code budget} bytes or nothing cheap is left. */
    public static Result run(Graph g, TensorSizes sizes, long budget) {
        MemoryPlan before = MemoryPlanner.plan(g, sizes);
        Result best = new Result(g, before, before, 0, 0);
        if (before.arenaBytes() <= budget) return best; // fits already: nothing to recompute
        Graph current = g;
        Score score = Score.of(liveness(g, sizes));
        long flops = 0;
        int recomputed = 0;
        int rounds = g.nodes().size() + 16;
        for (int round = 0; round < rounds && best.plan.arenaBytes() > budget; round++) {
            Applied pick = null;
            Score pickScore = score;
            for (Candidate c : candidates(current, liveness(current, sizes), sizes)) {
                Applied a = apply(current, c, sizes);
                Graph scheduled = Scheduler.schedule(a.graph, sizes);
                Score s = Score.of(liveness(scheduled, sizes));
                if (s.compareTo(pickScore) < 0) {
                    pick = new Applied(scheduled, a.extraFlops, a.extraNodes);
                    pickScore = s;
                }
            }
            if (pick == null) break;
            current = pick.graph;
            score = pickScore;
            flops += pick.extraFlops;
            recomputed += pick.extraNodes;
            MemoryPlan plan = MemoryPlanner.plan(current, sizes);
            if (plan.arenaBytes() < best.plan.arenaBytes())
                best = new Result(current, plan, before, flops, recomputed);
        }
        return best;
    }

    private static Liveness liveness(Graph g, TensorSizes sizes) {
        return Liveness.of(g, sizes, MemoryPlanner.ALIGNMENT, true);
    }

    /** How good a schedule's memory profile is: its peak first, then how many steps reach it, then its area. */
    record Score(long peak, int peakSteps, long area) implements Comparable<Score> {
        static Score of(Liveness lv) {
            long peak = lv.lowerBound(), area = 0;
            int at = 0;
            for (long b : lv.liveBytes) {
                area += b;
                if (b == peak) at++;
            }
            return new Score(peak, at, area);
        }

        @Override
        public int compareTo(Score o) {
            return Comparator.comparingLong(Score::peak).thenComparingInt(Score::peakSteps)
                    .thenComparingLong(Score::area).compare(this, o);
        }
    }

    static final String SUFFIX = "_remat";
    /** Candidates tried per round, the most promising first. */
    static final int TRIALS = 8;

    /**
     * A value to recompute: {@code steps} are the producers to clone (ascending), {@code lateUses} the steps whose
     * reads of {@code value} move to the copy, {@code saved} the bytes saved at the peak.
     */
    record Candidate(String value, List<Integer> steps, List<Integer> lateUses, long saved, long flops, int born) {}

    /** The values live across the first peak step worth recomputing, the most bytes saved there first. */
    static List<Candidate> candidates(Graph g, Liveness lv, TensorSizes sizes) {
        int peak = lv.peakStep();
        if (peak < 0) return List.of();
        List<Node> nodes = g.nodes();
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int s = 0; s < nodes.size(); s++)
            for (String r : NodeReads.of(nodes.get(s))) readers.computeIfAbsent(r, k -> new ArrayList<>()).add(s);
        List<Candidate> found = new ArrayList<>();
        for (Liveness.Interval v : lv.values.values()) {
            if (v.first() >= peak || v.last() <= peak) continue;
            List<Integer> uses = readers.getOrDefault(v.value(), List.of());
            if (uses.contains(peak)) continue;
            Node producer = nodes.get(v.first());
            if (!OpKinds.cheap(producer) || producer.outputs().size() != 1) continue;
            List<Integer> late = uses.stream().filter(s -> s > peak).toList();
            if (late.stream().anyMatch(s -> NodeReads.readsNested(nodes.get(s), v.value()))) continue;
            TreeSet<Integer> steps = new TreeSet<>();
            long cost = closure(v.first(), peak, nodes, lv, steps, 0);
            long saved = TensorSizes.align(v.bytes(), lv.alignment) - cost;
            if (saved <= 0) continue;
            long flops = 0;
            for (int s : steps) flops += FlopEstimate.of(nodes.get(s), sizes);
            found.add(new Candidate(v.value(), List.copyOf(steps), late, saved, flops, v.first()));
        }
        found.sort(Comparator.comparingLong(Candidate::saved).reversed().thenComparingLong(Candidate::flops)
                .thenComparingInt(Candidate::born).thenComparing(Candidate::value));
        return found.subList(0, Math.min(TRIALS, found.size()));
    }

    /**
     * Adds the producer at {@code step} and, recursively, the producers of its inputs that died before the peak and
     * are cheap, to {@code steps}; returns the bytes of inputs that must instead stay alive across the peak.
     */
    private static long closure(int step, int peak, List<Node> nodes, Liveness lv, Set<Integer> steps, int depth) {
        steps.add(step);
        long cost = 0;
        for (Value in : nodes.get(step).inputs()) {
            if (in.isNone()) continue;
            Liveness.Interval x = lv.values.get(in.name());
            if (x == null || x.last() >= peak || steps.contains(x.first())) continue; // outside the arena, or live
            Node p = nodes.get(x.first());
            if (depth + 1 < MAX_DEPTH && OpKinds.cheap(p) && p.outputs().size() == 1)
                cost += closure(x.first(), peak, nodes, lv, steps, depth + 1);
            else
                cost += TensorSizes.align(x.bytes(), lv.alignment);
        }
        return cost;
    }

    /** A graph after one round, with the FLOPs and nodes it added (a moved node adds none). */
    record Applied(Graph graph, long extraFlops, int extraNodes) {}

    /** Clones the candidate's producers before its first late use, rewires the late uses, drops dead originals. */
    static Applied apply(Graph g, Candidate c, TensorSizes sizes) {
        List<Node> nodes = g.nodes();
        Set<String> taken = allNames(g);
        Map<String, String> renamed = new HashMap<>();
        List<Node> clones = new ArrayList<>();
        for (int s : c.steps()) {
            Node n = nodes.get(s);
            List<Value> outs = new ArrayList<>();
            for (Value v : n.outputs()) {
                if (v.isNone()) {
                    outs.add(v);
                    continue;
                }
                String base = v.name().contains(SUFFIX) ? v.name().substring(0, v.name().indexOf(SUFFIX)) : v.name();
                String fresh = base + SUFFIX;
                for (int k = 1; taken.contains(fresh); k++) fresh = base + SUFFIX + k;
                taken.add(fresh);
                renamed.put(v.name(), fresh);
                outs.add(new Value(fresh, v.type()));
            }
            String name = n.name().isEmpty() ? "" : n.name() + SUFFIX;
            clones.add(new Node(name, n.domain(), n.op(), rename(n.inputs(), renamed), outs, n.attrs()));
        }
        Map<String, String> late = Map.of(c.value(), renamed.get(c.value()));
        Set<Integer> lateUses = new HashSet<>(c.lateUses());
        int insertAt = c.lateUses().get(0);
        List<Node> out = new ArrayList<>(nodes.size() + clones.size());
        for (int s = 0; s < nodes.size(); s++) {
            if (s == insertAt) out.addAll(clones);
            Node n = nodes.get(s);
            out.add(lateUses.contains(s) ? n.withInputs(rename(n.inputs(), late)) : n);
        }
        List<Node> dropped = dead(out, g.outputs(), c.steps().stream().map(nodes::get).toList());
        out.removeAll(dropped);
        long flops = 0;
        for (Node n : clones) flops += FlopEstimate.of(n, sizes);
        for (Node n : dropped) flops -= FlopEstimate.of(n, sizes);
        return new Applied(g.withNodes(out), flops, clones.size() - dropped.size());
    }

    private static List<Value> rename(List<Value> values, Map<String, String> renamed) {
        List<Value> r = new ArrayList<>(values.size());
        for (Value v : values) r.add(v.isNone() || !renamed.containsKey(v.name()) ? v
                : new Value(renamed.get(v.name()), v.type()));
        return r;
    }

    /** Those of {@code originals} whose outputs nobody reads any more and that are not graph outputs. */
    private static List<Node> dead(List<Node> nodes, List<Value> graphOutputs, List<Node> originals) {
        Set<String> read = new HashSet<>();
        for (Node n : nodes) read.addAll(NodeReads.of(n));
        for (Value v : graphOutputs) read.add(v.name());
        List<Node> dead = new ArrayList<>();
        for (Node o : originals)
            if (o.outputs().stream().noneMatch(v -> !v.isNone() && read.contains(v.name()))) dead.add(o);
        return dead;
    }

    /** Every value name of a graph and its nested graphs, so fresh names collide with none. */
    private static Set<String> allNames(Graph g) {
        Set<String> names = new HashSet<>(g.initializers().keySet());
        for (Value v : g.inputs()) names.add(v.name());
        for (Node n : g.nodes()) {
            for (Value v : n.outputs()) if (!v.isNone()) names.add(v.name());
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) names.addAll(allNames(ga.value()));
                if (a instanceof Attr.GraphsAttr gs) for (Graph sub : gs.values()) names.addAll(allNames(sub));
            }
        }
        return names;
    }
}
