package dev.gale.passes.partition;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.partition.FusionGroups.Role;
import dev.gale.passes.partition.FusionRules.Kind;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Fusion partitioning: groups a graph's nodes into kernels by the op table's fusion categories, after the rules of
 * TVM's FuseOps. Every node starts in a group of its own (union-find); groups then grow by merging along
 * producer-to-consumer edges in three phases.
 *
 * <ol>
 *   <li>Epilogues. Each anchor (an out-elementwise-fusable op such as MatMul, Conv, Gemm, or a reduction), in
 *       topological order, takes the elementwise and broadcast ops after it that keep exactly its output shape:
 *       bias add, activation, residual add, scaling. It takes the largest such region at once, so diamonds
 *       (GELU's {@code x * f(x)}) fuse whole, and shrinks it until no value escapes and no outside node sits
 *       between the anchor and a region node.</li>
 *   <li>Chains. In topological order, each node's group merges with the groups that produce its inputs, when the
 *       producer group has no anchor and the consumer group has none either (elementwise, broadcast and injective
 *       chains and diamonds fuse; injective ops fuse into their consumers), or the consumer group is a reduction
 *       that the producer feeds before its anchor (a reduction takes its producers as a prologue, which must then
 *       compute nothing but what the reduction reads). Sweeps repeat until nothing merges.</li>
 *   <li>Recompute. A cheap node (an elementwise op on one input) left alone because several groups read its result
 *       is copied into each of them when each can take it; the original goes away and phase 2 runs again. Copies
 *       that meet in one group later are merged back into one.</li>
 * </ol>
 *
 * Invariants, checked at every merge:
 * <ul>
 *   <li>one anchor per group; out-elementwise-fusable anchors take no producers;</li>
 *   <li>never fuse across a value another group needs: a value produced and consumed inside a group has no consumer
 *       outside it (it may still be a graph output, which is written once either way);</li>
 *   <li>no cycle between groups: groups merge only when no path leaves them and comes back through another group.
 *       The groups are kept in a topological order, updated at each merge, so the reachability search only visits
 *       the groups ordered between those merging;</li>
 *   <li>shape computations (ops that read only what Shape and Size give, and constants) fuse only with each other
 *       (pattern "shape"): a kernel over tensor data takes the shapes it needs as inputs;</li>
 *   <li>opaque nodes (including nodes with nested graphs and nodes on sequences or optionals) stay alone, and so do
 *       constants, which the kernel builder copies into every kernel that reads them.</li>
 * </ul>
 * The result lists the groups in an order that respects every dependency between them. {@link FusionGroups} holds
 * the working state; this class holds the rules.
 */
final class FusionPartitioner {
    /** Largest group; TVM stops at 256 as well. */
    static final int MAX_GROUP_NODES = 256;
    /** Most groups a cheap node is recomputed in. */
    static final int MAX_COPIES = 4;

    /**
     * One group in execution order: its nodes, its anchor (or null) and its pattern ("elementwise", "reduction",
     * "matmul+epilogue", ...). {@code fused} is false for a node left alone (opaque ops, constants).
     * {@code copied} maps the output of each recomputed copy to the name of the value it recomputes.
     */
    record Unit(List<Node> nodes, Node anchor, String pattern, boolean fused, Map<String, String> copied) {}

    private final FusionGroups gs;

    FusionPartitioner(Graph graph) { this.gs = new FusionGroups(graph); }

    /** How many cheap nodes were recomputed (copies made, before copies meeting in one group merge). */
    int copies() { return gs.copies(); }

    List<Unit> run() {
        for (int a : gs.liveInOrder()) if (gs.role(a) == Role.ANCHOR) growEpilogue(a);
        do {
            mergeChains();
        } while (recompute());
        return finish();
    }

    // ---------------------------------------------------------------- phase 1: epilogues

    private void growEpilogue(int a) {
        Type anchorType = gs.node(a).output(0).type();
        int g = gs.find(a);
        Set<Integer> region = reachableCandidates(g, a, anchorType);
        boolean changed = true;
        while (changed && !region.isEmpty())
            changed = dropEscapes(g, region) | dropEnteredFromOutside(g, region) | dropUnreached(g, region);
        if (region.isEmpty()) return;
        List<Integer> merged = new ArrayList<>(List.of(g));
        for (int c : region) merged.add(gs.find(c));
        if (gs.mergeAcyclic(merged) >= 0) {
            for (int c : region) gs.setRole(c, Role.EPILOGUE);
        } else {
            growOneByOne(a, anchorType); // a path through other groups joins the region: take what is safe
        }
    }

    /** The epilogue candidates reachable from group {@code g} through candidates. */
    private Set<Integer> reachableCandidates(int g, int a, Type anchorType) {
        Set<Integer> region = new LinkedHashSet<>();
        int budget = MAX_GROUP_NODES - gs.members(g).size();
        Deque<Integer> work = new ArrayDeque<>(readersOf(g, Set.of()));
        while (!work.isEmpty() && region.size() < budget) {
            int c = work.poll();
            if (region.contains(c) || gs.find(c) == g || !epilogueCandidate(c, a, anchorType)) continue;
            region.add(c);
            for (Value v : gs.node(c).outputs()) if (!v.isNone()) work.addAll(gs.consumersOf(v.name()));
        }
        return region;
    }

    /** A singleton elementwise or broadcast node whose outputs have the anchor's output shape. */
    private boolean epilogueCandidate(int c, int anchor, Type anchorType) {
        if (!gs.fusable(c) || !gs.kind(c).elementwiseLike() || gs.members(gs.find(c)).size() != 1) return false;
        if (gs.host(c) != gs.host(anchor)) return false;
        for (Value v : gs.node(c).outputs())
            if (!v.isNone() && !FusionRules.sameShape(v.type(), anchorType)) return false;
        return true;
    }

    /** Nodes outside group {@code g} and {@code region} that read values of either (prologues aside). */
    private List<Integer> readersOf(int g, Set<Integer> region) {
        List<Integer> r = new ArrayList<>();
        List<Integer> sources = new ArrayList<>(gs.members(g));
        sources.addAll(region);
        for (int m : sources) {
            if (gs.role(m) == Role.PROLOGUE) continue;
            for (Value v : gs.node(m).outputs())
                if (!v.isNone())
                    for (int c : gs.consumersOf(v.name())) if (gs.find(c) != g && !region.contains(c)) r.add(c);
        }
        return r;
    }

    /** Drops region nodes reading a value that is also read outside (or that a prologue computes). */
    private boolean dropEscapes(int g, Set<Integer> region) {
        boolean changed = false;
        List<Integer> sources = new ArrayList<>(gs.members(g));
        sources.addAll(region);
        for (int m : sources) {
            for (Value v : gs.node(m).outputs()) {
                if (v.isNone()) continue;
                List<Integer> inside = new ArrayList<>();
                boolean outside = false;
                for (int c : gs.consumersOf(v.name())) {
                    if (region.contains(c)) inside.add(c);
                    else if (gs.find(c) != g) outside = true;
                }
                if (!inside.isEmpty() && (outside || gs.role(m) == Role.PROLOGUE)) {
                    region.removeAll(inside);
                    changed = true;
                }
            }
        }
        return changed;
    }

    /** Drops region nodes reading a value computed outside from the group's or the region's results (a cycle). */
    private boolean dropEnteredFromOutside(int g, Set<Integer> region) {
        if (region.isEmpty()) return false;
        int limit = region.stream().mapToInt(gs::position).max().getAsInt();
        Set<Integer> below = new HashSet<>();
        Deque<Integer> work = new ArrayDeque<>(readersOf(g, region));
        while (!work.isEmpty()) {
            int x = work.poll();
            if (gs.position(x) >= limit || !below.add(x)) continue; // only earlier nodes can feed a region node
            for (Value v : gs.node(x).outputs())
                if (!v.isNone())
                    for (int c : gs.consumersOf(v.name())) if (gs.find(c) != g && !region.contains(c)) work.add(c);
        }
        boolean changed = false;
        for (int c : List.copyOf(region))
            for (Value v : gs.node(c).inputs()) {
                Integer p = v.isNone() ? null : gs.producerOf(v.name());
                if (p != null && below.contains(p)) {
                    region.remove(c);
                    changed = true;
                    break;
                }
            }
        return changed;
    }

    /** Keeps the region nodes reached from group {@code g} through region nodes. */
    private boolean dropUnreached(int g, Set<Integer> region) {
        Set<Integer> reached = new HashSet<>();
        Deque<Integer> work = new ArrayDeque<>(readersOf(g, Set.of()));
        while (!work.isEmpty()) {
            int c = work.poll();
            if (!region.contains(c) || !reached.add(c)) continue;
            for (Value v : gs.node(c).outputs()) if (!v.isNone()) work.addAll(gs.consumersOf(v.name()));
        }
        if (reached.size() == region.size()) return false;
        region.retainAll(reached);
        return true;
    }

    /** Grows the epilogue one consumer at a time. */
    private void growOneByOne(int a, Type anchorType) {
        boolean grown = true;
        while (grown) {
            grown = false;
            int g = gs.find(a);
            for (int c : readersOf(g, Set.of())) {
                if (epilogueCandidate(c, a, anchorType) && tryEpilogue(g, gs.find(c))) {
                    grown = true;
                    break;
                }
            }
        }
    }

    private boolean tryEpilogue(int g, int h) {
        if (gs.members(g).size() + 1 > MAX_GROUP_NODES) return false;
        for (int m : gs.members(g)) {
            for (Value v : gs.node(m).outputs()) {
                if (v.isNone()) continue;
                boolean feedsH = false, elsewhere = false;
                for (int c : gs.consumersOf(v.name())) {
                    int r = gs.find(c);
                    if (r == h) feedsH = true;
                    else if (r != g) elsewhere = true;
                }
                if (feedsH && (elsewhere || gs.role(m) == Role.PROLOGUE)) return false;
            }
        }
        int c = gs.members(h).get(0);
        if (gs.mergeAcyclic(List.of(g, h)) < 0) return false;
        gs.setRole(c, Role.EPILOGUE);
        return true;
    }

    // ---------------------------------------------------------------- phase 2: chains and prologues

    private void mergeChains() {
        boolean merged = true;
        while (merged) {
            merged = false;
            for (int i : gs.liveInOrder()) {
                if (!gs.fusable(i)) continue;
                for (Value in : gs.node(i).inputs()) {
                    if (in.isNone()) continue;
                    Integer p = gs.producerOf(in.name());
                    if (p == null || !gs.fusable(p)) continue;
                    int g = gs.find(p), h = gs.find(i);
                    if (g != h && tryMerge(g, h)) merged = true;
                }
            }
        }
    }

    /** Merges producer group {@code g} into consumer group {@code h} if the rules allow it. */
    private boolean tryMerge(int g, int h) {
        if (gs.anchor(g) >= 0) return false; // anchors took their epilogues in phase 1; they never become a prologue
        if (gs.hostGroup(g) != gs.hostGroup(h)) return false;
        boolean prologue = gs.anchor(h) >= 0;
        if (prologue && gs.kind(gs.anchor(h)) != Kind.REDUCTION) return false; // MatMul, Conv, ...: no producers
        if (gs.members(g).size() + gs.members(h).size() > MAX_GROUP_NODES) return false;
        for (int m : gs.members(g)) {
            for (Value v : gs.node(m).outputs()) {
                if (v.isNone()) continue;
                boolean feedsH = false, elsewhere = false;
                for (int c : gs.consumersOf(v.name())) {
                    int r = gs.find(c);
                    if (r == h) {
                        feedsH = true;
                        if (prologue && gs.role(c) == Role.EPILOGUE) return false;
                    } else if (r != g) {
                        elsewhere = true;
                    }
                }
                if (feedsH && elsewhere) return false; // another group needs this value
                if (prologue && (elsewhere || gs.isGraphOutput(v.name()))) return false;
            }
        }
        List<Integer> producers = List.copyOf(gs.members(g));
        if (gs.mergeAcyclic(List.of(h, g)) < 0) return false;
        if (prologue) for (int m : producers) gs.setRole(m, Role.PROLOGUE);
        return true;
    }

    // ---------------------------------------------------------------- phase 3: recompute cheap nodes

    /** Copies each lone cheap node into every group reading it, when each can take it; true if any was. */
    private boolean recompute() {
        boolean any = false;
        for (int p : gs.liveInOrder()) {
            if (!gs.fusable(p) || !FusionRules.cheap(gs.node(p), gs.kind(p), gs::isConstant)) continue;
            if (gs.members(gs.find(p)).size() != 1) continue;
            Value v = gs.node(p).output(0);
            if (gs.isGraphOutput(v.name())) continue;
            Map<Integer, List<Integer>> byGroup = new LinkedHashMap<>();
            boolean hostable = true;
            for (int c : gs.consumersOf(v.name())) {
                int r = gs.find(c);
                if (!canHost(c, r) || gs.host(p) != gs.hostGroup(r)) {
                    hostable = false;
                    break;
                }
                byGroup.computeIfAbsent(r, x -> new ArrayList<>()).add(c);
            }
            if (!hostable || byGroup.size() < 2 || byGroup.size() > MAX_COPIES) continue;
            for (Map.Entry<Integer, List<Integer>> e : byGroup.entrySet()) {
                Role role = gs.anchor(e.getKey()) >= 0 ? Role.PROLOGUE : Role.FREE;
                gs.copyInto(p, e.getKey(), e.getValue(), role);
            }
            gs.remove(p);
            any = true;
        }
        return any;
    }

    /** Whether consumer {@code c} in group {@code r} may take a copy of an elementwise producer. */
    private boolean canHost(int c, int r) {
        if (!gs.fusable(c) || gs.members(r).size() >= MAX_GROUP_NODES) return false;
        if (gs.anchor(r) < 0) return true;
        return gs.kind(gs.anchor(r)) == Kind.REDUCTION && (gs.role(c) == Role.PROLOGUE || gs.role(c) == Role.ANCHOR);
    }

    // ---------------------------------------------------------------- result

    private List<Unit> finish() {
        List<Unit> units = new ArrayList<>();
        for (int root : gs.rootsInOrder()) {
            List<Integer> members = new ArrayList<>(gs.members(root));
            members.sort(Comparator.<Integer>comparingInt(gs::position).thenComparingInt(i -> i));
            boolean fused = members.size() > 1 || gs.fusable(members.get(0)) && !isReshape(gs.node(members.get(0)));
            List<Node> ns = fused ? mergeCopies(members) : members.stream().map(gs::node).toList();
            Node anchor = gs.anchor(root) >= 0 ? gs.node(gs.anchor(root)) : null;
            Map<String, String> copied = new HashMap<>();
            for (int m : members)
                if (gs.origin(m) != m)
                    copied.put(gs.node(m).output(0).name(), gs.node(gs.origin(m)).output(0).name());
            units.add(new Unit(ns, anchor, fused ? pattern(root, members) : "", fused, copied));
        }
        checkOrder(units);
        return units;
    }

    /**
     * A reshape left alone stays a plain node: the memory planner makes its output a view of its input (no copy),
     * which a kernel, writing its outputs itself, would not allow.
     */
    private static boolean isReshape(Node n) {
        return n.domain().isEmpty() && switch (n.op()) {
            case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity" -> true;
            default -> false;
        };
    }

    /** Copies of one node that met in one group (with the same inputs) become one node again. */
    private List<Node> mergeCopies(List<Integer> members) {
        Map<String, Value> alias = new HashMap<>();
        Map<List<Object>, Value> seen = new HashMap<>();
        List<Node> out = new ArrayList<>();
        for (int m : members) {
            Node n = gs.node(m);
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(alias.getOrDefault(v.name(), v));
            n = n.withInputs(in);
            if (gs.origin(m) != m) {
                List<Object> key = List.of(gs.origin(m), in.stream().map(Value::name).toList());
                Value first = seen.putIfAbsent(key, n.output(0));
                if (first != null) {
                    alias.put(n.output(0).name(), first);
                    continue;
                }
            }
            out.add(n);
        }
        return out;
    }

    private String pattern(int root, List<Integer> members) {
        if (gs.hostGroup(root)) return "shape";
        boolean epilogue = members.stream().anyMatch(m -> gs.role(m) == Role.EPILOGUE);
        int a = gs.anchor(root);
        if (a >= 0) {
            String base = gs.kind(a) == Kind.REDUCTION ? "reduction" : gs.node(a).op().toLowerCase(Locale.ROOT);
            return epilogue ? base + "+epilogue" : base;
        }
        Kind max = Kind.ELEMENTWISE;
        for (int m : members) if (gs.kind(m).compareTo(max) > 0) max = gs.kind(m);
        return max.name().toLowerCase(Locale.ROOT);
    }

    /** Every unit must come after the units it reads from: the group order guarantees it, this checks it. */
    private static void checkOrder(List<Unit> units) {
        Map<String, Integer> producedBy = new HashMap<>();
        for (int u = 0; u < units.size(); u++)
            for (Node n : units.get(u).nodes())
                for (Value v : n.outputs()) if (!v.isNone()) producedBy.put(v.name(), u);
        for (int u = 0; u < units.size(); u++)
            for (Node n : units.get(u).nodes())
                for (String in : FusionGroups.reads(n)) {
                    Integer p = producedBy.get(in);
                    if (p != null && p > u)
                        throw new IllegalStateException("fusion partitioning: " + n.describe() + " comes before "
                                + "the group computing '" + in + "' (a cycle between groups)");
                }
    }
}
