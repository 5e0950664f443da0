package dev.gale.passes.partition;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.partition.FusionRules.Kind;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Fusion partitioning: groups a graph's nodes into kernels by the op table's fusion categories, after the rules of
 * TVM's FuseOps. Every node starts in a group of its own (union-find); groups then grow by merging along
 * producer-to-consumer edges in three phases.
 *
 * <ol>
 *   <li>Epilogues. Each anchor, in topological order, absorbs one by one the consumers of its group's results that
 *       are elementwise or broadcast ops with exactly the anchor's output shape: bias add, activation, residual add,
 *       scaling. Anchors are out-elementwise-fusable ops (MatMul, Conv, Gemm, ...) and reductions.</li>
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
 * The result lists the groups in an order that respects every dependency between them.
 */
final class FusionPartitioner {
    /** Largest group; TVM stops at 256 as well. */
    static final int MAX_GROUP_NODES = 256;
    /** Most groups a cheap node is recomputed in. */
    static final int MAX_COPIES = 4;

    /** Where a node sits in its group. */
    enum Role { FREE, PROLOGUE, ANCHOR, EPILOGUE }

    /**
     * One group in execution order: its nodes, its anchor (or null) and its pattern ("elementwise", "reduction",
     * "matmul+epilogue", ...). {@code fused} is false for a node left alone (opaque ops, constants).
     */
    record Unit(List<Node> nodes, Node anchor, String pattern, boolean fused) {}

    private static final class Group {
        final List<Integer> members = new ArrayList<>();
        int anchor = -1;
    }

    private final Graph graph;
    private final Map<String, Type> types;
    private final Set<String> graphOutputs = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    // Per working node (the graph's nodes, then copies made by phase 3):
    private final List<Node> nodes = new ArrayList<>();
    private final List<Kind> kinds = new ArrayList<>();
    private final List<Integer> pos = new ArrayList<>();
    private final List<Integer> origin = new ArrayList<>();
    private final List<Role> roles = new ArrayList<>();
    private final List<Boolean> dead = new ArrayList<>();
    /** Computes shapes: reads only what Shape and Size give (and constants); runs apart from tensor data. */
    private final List<Boolean> host = new ArrayList<>();
    private final List<Integer> parent = new ArrayList<>();
    private final Map<Integer, Group> groups = new HashMap<>();
    /** Group roots in a topological order of the group graph (-1: a freed slot), and each root's slot. */
    private final List<Integer> order = new ArrayList<>();
    private final Map<Integer, Integer> rank = new HashMap<>();
    private final Map<String, Integer> producer = new HashMap<>();
    /** Value name -> the live nodes reading it (directly or from a nested graph), each once. */
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private int copies;

    FusionPartitioner(Graph graph) {
        this.graph = graph;
        this.types = graph.valueTypes();
        for (Value v : graph.outputs()) graphOutputs.add(v.name());
        names.addAll(types.keySet());
        for (Node n : graph.nodes()) names.addAll(FusionRules.captured(n));
        for (Node n : graph.nodes()) addNode(n, FusionRules.kind(n, types), nodes.size(), nodes.size());
        for (int i = 0; i < nodes.size(); i++) { // graph order is a topological order of the singleton groups
            order.add(i);
            rank.put(i, i);
        }
        markShapeComputations();
    }

    /** How many cheap nodes were recomputed (copies made, before copies meeting in one group merge). */
    int copies() { return copies; }

    List<Unit> run() {
        growEpilogues();
        do {
            mergeChains();
        } while (recompute());
        return finish();
    }

    // ---------------------------------------------------------------- working graph

    private int addNode(Node n, Kind k, int position, int originIndex) {
        int i = nodes.size();
        nodes.add(n);
        kinds.add(k);
        pos.add(position);
        origin.add(originIndex);
        boolean anchor = k == Kind.ANCHOR || k == Kind.REDUCTION;
        roles.add(anchor ? Role.ANCHOR : Role.FREE);
        dead.add(false);
        host.add(false);
        parent.add(i);
        Group g = new Group();
        g.members.add(i);
        g.anchor = anchor ? i : -1;
        groups.put(i, g);
        for (Value v : n.outputs()) if (!v.isNone()) producer.put(v.name(), i);
        for (String in : reads(n)) {
            List<Integer> cs = consumers.computeIfAbsent(in, x -> new ArrayList<>());
            if (!cs.contains(i)) cs.add(i);
        }
        return i;
    }

    /**
     * Marks the nodes that compute shapes: elementwise, injective or reduction ops reading only the results of
     * Shape and Size, of other such nodes, and constants (PyTorch's {@code Shape -> Gather -> Unsqueeze -> Concat ->
     * Reshape}). They fuse only with each other: a kernel over tensor data takes the shapes it needs as inputs.
     */
    private void markShapeComputations() {
        Set<String> shapes = new HashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            boolean source = n.domain().isEmpty() && (n.op().equals("Shape") || n.op().equals("Size"));
            boolean reads = false, onlyShapes = true;
            for (Value v : n.inputs()) {
                if (v.isNone()) continue;
                if (shapes.contains(v.name())) reads = true;
                else if (!isConstant(v.name()) && !graph.initializers().containsKey(v.name())) onlyShapes = false;
            }
            Kind k = kinds.get(i);
            if (!source && !(reads && onlyShapes && (k.free() || k == Kind.REDUCTION))) continue;
            if (!source) host.set(i, true);
            for (Value v : n.outputs()) if (!v.isNone()) shapes.add(v.name());
        }
    }

    private boolean hostGroup(int root) { return host.get(group(root).members.get(0)); }

    /** The value names a node reads: its inputs and what its nested graphs capture. */
    private static Set<String> reads(Node n) {
        Set<String> r = new java.util.LinkedHashSet<>();
        for (Value v : n.inputs()) if (!v.isNone()) r.add(v.name());
        r.addAll(FusionRules.captured(n));
        return r;
    }

    private int find(int i) {
        int r = i;
        while (parent.get(r) != r) r = parent.get(r);
        while (parent.get(i) != r) {
            int next = parent.get(i);
            parent.set(i, r);
            i = next;
        }
        return r;
    }

    private Group group(int root) { return groups.get(root); }

    /** Merges group {@code b} into group {@code a}; returns the root. */
    private int union(int a, int b) {
        Group ga = group(a), gb = group(b);
        parent.set(b, a);
        ga.members.addAll(gb.members);
        if (ga.anchor < 0) ga.anchor = gb.anchor;
        groups.remove(b);
        return a;
    }

    private List<Integer> consumersOf(String value) { return consumers.getOrDefault(value, List.of()); }

    private boolean fusable(int i) { return !dead.get(i) && kinds.get(i) != Kind.OPAQUE && kinds.get(i) != Kind.CONSTANT; }

    /** Live node indices in topological order (copies sit at their original's position). */
    private List<Integer> liveInOrder() {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) if (!dead.get(i)) r.add(i);
        r.sort(Comparator.<Integer>comparingInt(pos::get).thenComparingInt(i -> i));
        return r;
    }

    // ---------------------------------------------------------------- phase 1: epilogues

    private void growEpilogues() {
        for (int a : liveInOrder()) {
            if (roles.get(a) != Role.ANCHOR) continue;
            Type anchorType = nodes.get(a).output(0).type();
            if (!growRegion(a, anchorType)) growOneByOne(a, anchorType);
        }
    }

    /**
     * Takes the largest valid epilogue at once, so that diamonds (GELU's {@code x * f(x)}) fuse whole: starts from
     * every candidate reachable from the anchor's group through candidates, then drops nodes until no value
     * escapes, no outside node sits between the group and a region node, and each region node is reached from the
     * group. Returns false when only a cycle through other groups stops it.
     */
    private boolean growRegion(int a, Type anchorType) {
        int g = find(a);
        Set<Integer> region = reachableCandidates(g, a, anchorType);
        boolean changed = true;
        while (changed && !region.isEmpty())
            changed = dropEscapes(g, region) | dropEnteredFromOutside(g, region) | dropUnreached(g, region);
        if (region.isEmpty()) return true;
        List<Integer> merged = new ArrayList<>(List.of(g));
        for (int c : region) merged.add(find(c));
        if (mergeAcyclic(merged) < 0) return false;
        for (int c : region) roles.set(c, Role.EPILOGUE);
        return true;
    }

    /** The epilogue candidates reachable from group {@code g} through candidates. */
    private Set<Integer> reachableCandidates(int g, int a, Type anchorType) {
        Set<Integer> region = new java.util.LinkedHashSet<>();
        int budget = MAX_GROUP_NODES - group(g).members.size();
        Deque<Integer> work = new ArrayDeque<>(groupConsumers(g, Set.of()));
        while (!work.isEmpty() && region.size() < budget) {
            int c = work.poll();
            if (region.contains(c) || find(c) == g || !epilogueCandidate(c, a, anchorType)) continue;
            region.add(c);
            for (Value v : nodes.get(c).outputs()) if (!v.isNone()) work.addAll(consumersOf(v.name()));
        }
        return region;
    }

    /** Nodes outside group {@code g} and {@code region} reading values of either. */
    private List<Integer> groupConsumers(int g, Set<Integer> region) {
        List<Integer> r = new ArrayList<>();
        List<Integer> sources = new ArrayList<>(group(g).members);
        sources.addAll(region);
        for (int m : sources) {
            if (roles.get(m) == Role.PROLOGUE) continue;
            for (Value v : nodes.get(m).outputs())
                if (!v.isNone()) for (int c : consumersOf(v.name())) if (find(c) != g && !region.contains(c)) r.add(c);
        }
        return r;
    }

    /** Drops region nodes reading a value that is also read outside (or that a prologue computes). */
    private boolean dropEscapes(int g, Set<Integer> region) {
        boolean changed = false;
        List<Integer> sources = new ArrayList<>(group(g).members);
        sources.addAll(region);
        for (int m : sources) {
            for (Value v : nodes.get(m).outputs()) {
                if (v.isNone()) continue;
                List<Integer> inside = new ArrayList<>();
                boolean outside = false;
                for (int c : consumersOf(v.name())) {
                    if (region.contains(c)) inside.add(c);
                    else if (find(c) != g) outside = true;
                }
                if (!inside.isEmpty() && (outside || roles.get(m) == Role.PROLOGUE)) {
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
        int limit = region.stream().mapToInt(pos::get).max().getAsInt();
        Set<Integer> below = new HashSet<>();
        Deque<Integer> work = new ArrayDeque<>(groupConsumers(g, region));
        while (!work.isEmpty()) {
            int x = work.poll();
            if (pos.get(x) >= limit || !below.add(x)) continue; // only earlier nodes can feed a region node
            for (Value v : nodes.get(x).outputs())
                if (!v.isNone()) for (int c : consumersOf(v.name())) if (find(c) != g && !region.contains(c)) work.add(c);
        }
        boolean changed = false;
        for (int c : List.copyOf(region))
            for (Value v : nodes.get(c).inputs()) {
                Integer p = v.isNone() ? null : producer.get(v.name());
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
        Deque<Integer> work = new ArrayDeque<>(groupConsumers(g, Set.of()));
        while (!work.isEmpty()) {
            int c = work.poll();
            if (!region.contains(c) || !reached.add(c)) continue;
            for (Value v : nodes.get(c).outputs()) if (!v.isNone()) work.addAll(consumersOf(v.name()));
        }
        if (reached.size() == region.size()) return false;
        region.retainAll(reached);
        return true;
    }

    /** Grows the epilogue one consumer at a time (when the region as a whole would close a cycle). */
    private void growOneByOne(int a, Type anchorType) {
        boolean grown = true;
        while (grown) {
            grown = false;
            int g = find(a);
            search:
            for (int m : List.copyOf(group(g).members)) {
                if (roles.get(m) == Role.PROLOGUE) continue;
                for (Value v : nodes.get(m).outputs()) {
                    if (v.isNone()) continue;
                    for (int c : List.copyOf(consumersOf(v.name()))) {
                        if (find(c) == g || !epilogueCandidate(c, a, anchorType)) continue;
                        if (tryEpilogue(g, find(c))) {
                            grown = true;
                            break search;
                        }
                    }
                }
            }
        }
    }

    private boolean epilogueCandidate(int c, int anchor, Type anchorType) {
        if (!fusable(c) || !kinds.get(c).elementwiseLike() || group(find(c)).members.size() != 1) return false;
        if (host.get(c) != host.get(anchor)) return false;
        for (Value v : nodes.get(c).outputs())
            if (!v.isNone() && !FusionRules.sameShape(v.type(), anchorType)) return false;
        return true;
    }

    private boolean tryEpilogue(int g, int h) {
        if (group(g).members.size() + 1 > MAX_GROUP_NODES) return false;
        for (int m : group(g).members) {
            for (Value v : nodes.get(m).outputs()) {
                if (v.isNone()) continue;
                boolean feedsH = false, elsewhere = false;
                for (int c : consumersOf(v.name())) {
                    int r = find(c);
                    if (r == h) feedsH = true;
                    else if (r != g) elsewhere = true;
                }
                if (feedsH && (elsewhere || roles.get(m) == Role.PROLOGUE)) return false;
            }
        }
        int c = group(h).members.get(0);
        if (mergeAcyclic(List.of(g, h)) < 0) return false;
        roles.set(c, Role.EPILOGUE);
        return true;
    }

    // ---------------------------------------------------------------- phase 2: chains and prologues

    private void mergeChains() {
        boolean merged = true;
        while (merged) {
            merged = false;
            for (int i : liveInOrder()) {
                if (!fusable(i)) continue;
                for (Value in : nodes.get(i).inputs()) {
                    if (in.isNone()) continue;
                    Integer p = producer.get(in.name());
                    if (p == null || !fusable(p)) continue;
                    int g = find(p), h = find(i);
                    if (g != h && tryMerge(g, h)) merged = true;
                }
            }
        }
    }

    /** Merges producer group {@code g} into consumer group {@code h} if the rules allow it. */
    private boolean tryMerge(int g, int h) {
        Group pg = group(g), cg = group(h);
        if (pg.anchor >= 0) return false; // anchors took their epilogues in phase 1; they never become a prologue
        if (hostGroup(g) != hostGroup(h)) return false;
        boolean prologue = cg.anchor >= 0;
        if (prologue && kinds.get(cg.anchor) != Kind.REDUCTION) return false; // MatMul, Conv, ... take no producers
        if (pg.members.size() + cg.members.size() > MAX_GROUP_NODES) return false;
        for (int m : pg.members) {
            for (Value v : nodes.get(m).outputs()) {
                if (v.isNone()) continue;
                boolean feedsH = false, elsewhere = false;
                for (int c : consumersOf(v.name())) {
                    int r = find(c);
                    if (r == h) {
                        feedsH = true;
                        if (prologue && roles.get(c) == Role.EPILOGUE) return false;
                    } else if (r != g) {
                        elsewhere = true;
                    }
                }
                if (feedsH && elsewhere) return false; // another group needs this value
                if (prologue && (elsewhere || graphOutputs.contains(v.name()))) return false;
            }
        }
        List<Integer> producerMembers = List.copyOf(pg.members);
        if (mergeAcyclic(List.of(h, g)) < 0) return false;
        if (prologue) for (int m : producerMembers) roles.set(m, Role.PROLOGUE);
        return true;
    }

    // ---------------------------------------------------------------- phase 3: recompute cheap nodes

    private boolean recompute() {
        boolean any = false;
        for (int p : liveInOrder()) {
            if (!fusable(p) || !FusionRules.cheap(nodes.get(p), kinds.get(p), this::isConstant)) continue;
            if (group(find(p)).members.size() != 1) continue;
            Value v = nodes.get(p).output(0);
            if (graphOutputs.contains(v.name())) continue;
            Map<Integer, List<Integer>> byGroup = new LinkedHashMap<>();
            boolean hostable = true;
            for (int c : consumersOf(v.name())) {
                int r = find(c);
                if (!canHost(c, r) || host.get(p) != hostGroup(r)) {
                    hostable = false;
                    break;
                }
                byGroup.computeIfAbsent(r, x -> new ArrayList<>()).add(c);
            }
            if (!hostable || byGroup.size() < 2 || byGroup.size() > MAX_COPIES) continue;
            for (Map.Entry<Integer, List<Integer>> e : byGroup.entrySet()) pullCopy(p, e.getKey(), e.getValue());
            kill(p);
            any = true;
        }
        return any;
    }

    private boolean isConstant(String value) {
        Integer p = producer.get(value);
        return p != null && kinds.get(p) == Kind.CONSTANT;
    }

    /** Whether consumer {@code c} in group {@code r} may take a copy of an elementwise producer. */
    private boolean canHost(int c, int r) {
        if (!fusable(c)) return false;
        Group g = group(r);
        if (g.members.size() >= MAX_GROUP_NODES) return false;
        if (g.anchor < 0) return true;
        return kinds.get(g.anchor) == Kind.REDUCTION && (roles.get(c) == Role.PROLOGUE || roles.get(c) == Role.ANCHOR);
    }

    /** Puts a copy of cheap node {@code p} into group {@code r}, for the consumers {@code cs} there. */
    private void pullCopy(int p, int r, List<Integer> cs) {
        Node orig = nodes.get(p);
        Value old = orig.output(0);
        Value fresh = new Value(freshName(old.name()), old.type());
        int copy = addNode(orig.withOutputs(List.of(fresh)), kinds.get(p), pos.get(p), origin.get(p));
        copies++;
        host.set(copy, host.get(p));
        roles.set(copy, group(r).anchor >= 0 ? Role.PROLOGUE : Role.FREE);
        for (int c : cs) {
            Node n = nodes.get(c);
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(v.name().equals(old.name()) ? fresh : v);
            nodes.set(c, n.withInputs(in));
            consumers.computeIfAbsent(fresh.name(), x -> new ArrayList<>()).add(c);
        }
        union(r, copy);
    }

    private void kill(int p) {
        dead.set(p, true);
        for (String in : reads(nodes.get(p))) consumersOf(in).remove(Integer.valueOf(p));
        for (Value v : nodes.get(p).outputs()) {
            producer.remove(v.name());
            consumers.remove(v.name());
        }
        order.set(rank.remove(p), -1);
        groups.remove(find(p));
    }

    private String freshName(String base) {
        for (int k = 1; ; k++) {
            String n = base + "_" + k;
            if (names.add(n)) return n;
        }
    }

    // ---------------------------------------------------------------- cycle check and group order

    /**
     * Merges the groups {@code roots} (the first becomes the root) unless that would close a cycle: a path that
     * leaves them and comes back through another group. The groups are kept in a topological order ({@code order},
     * with {@code rank} the slot of each root), so that search only looks between the first and the last of them;
     * after the merge that stretch is reordered: what does not depend on the merged groups, the merged group, what
     * does. Returns the root, or -1 when refused.
     */
    private int mergeAcyclic(List<Integer> roots) {
        Set<Integer> merging = new HashSet<>(roots);
        int lo = Integer.MAX_VALUE, hi = -1;
        for (int r : roots) {
            lo = Math.min(lo, rank.get(r));
            hi = Math.max(hi, rank.get(r));
        }
        Set<Integer> below = new HashSet<>();
        Deque<Integer> stack = new ArrayDeque<>();
        for (int s : roots)
            for (int y : successors(s))
                if (!merging.contains(y) && rank.get(y) < hi && below.add(y)) stack.push(y);
        while (!stack.isEmpty()) {
            for (int y : successors(stack.pop())) {
                if (merging.contains(y)) return -1;
                if (rank.get(y) < hi && below.add(y)) stack.push(y);
            }
        }
        int root = roots.get(0);
        for (int r : roots) rank.remove(r);
        for (int k = 1; k < roots.size(); k++) union(root, roots.get(k));
        List<Integer> before = new ArrayList<>(), after = new ArrayList<>();
        for (int k = lo; k <= hi; k++) {
            int x = order.get(k);
            if (x >= 0 && !merging.contains(x)) (below.contains(x) ? after : before).add(x);
        }
        int k = lo;
        for (int x : before) place(k++, x);
        place(k++, root);
        for (int x : after) place(k++, x);
        while (k <= hi) order.set(k++, -1);
        return root;
    }

    private void place(int slot, int root) {
        order.set(slot, root);
        rank.put(root, slot);
    }

    private Set<Integer> successors(int g) {
        Set<Integer> r = new java.util.LinkedHashSet<>();
        for (int m : group(g).members)
            for (Value v : nodes.get(m).outputs())
                if (!v.isNone()) for (int c : consumersOf(v.name())) {
                    int s = find(c);
                    if (s != g) r.add(s);
                }
        return r;
    }

    // ---------------------------------------------------------------- result

    private List<Unit> finish() {
        Map<Integer, List<Integer>> byRoot = new LinkedHashMap<>();
        for (int i : liveInOrder()) byRoot.computeIfAbsent(find(i), x -> new ArrayList<>()).add(i);
        List<Unit> units = new ArrayList<>();
        List<Integer> firstPos = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> e : byRoot.entrySet()) {
            List<Integer> members = e.getValue();
            Group g = group(e.getKey());
            boolean fused = members.size() > 1 || fusable(members.get(0));
            List<Node> ns = fused ? mergeCopies(members) : members.stream().map(nodes::get).toList();
            Node anchor = g.anchor >= 0 ? nodes.get(g.anchor) : null;
            units.add(new Unit(ns, anchor, fused ? pattern(members, g) : "", fused));
            firstPos.add(pos.get(members.get(0)));
        }
        return schedule(units, firstPos);
    }

    /** Copies of one node that met in one group (with the same inputs) become one node again. */
    private List<Node> mergeCopies(List<Integer> members) {
        Map<String, Value> alias = new HashMap<>();
        Map<List<Object>, Value> seen = new HashMap<>();
        List<Node> out = new ArrayList<>();
        for (int m : members) {
            Node n = nodes.get(m);
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(alias.getOrDefault(v.name(), v));
            n = n.withInputs(in);
            if (origin.get(m) != m) {
                List<Object> key = List.of(origin.get(m), in.stream().map(Value::name).toList());
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

    private String pattern(List<Integer> members, Group g) {
        if (host.get(members.get(0))) return "shape";
        boolean epilogue = members.stream().anyMatch(m -> roles.get(m) == Role.EPILOGUE);
        if (g.anchor >= 0) {
            String base = kinds.get(g.anchor) == Kind.REDUCTION ? "reduction"
                    : nodes.get(g.anchor).op().toLowerCase(Locale.ROOT);
            return epilogue ? base + "+epilogue" : base;
        }
        Kind max = Kind.ELEMENTWISE;
        for (int m : members) if (kinds.get(m).compareTo(max) > 0) max = kinds.get(m);
        return max.name().toLowerCase(Locale.ROOT);
    }

    /** Orders the units so that each comes after the units it reads from, otherwise keeping graph order. */
    private List<Unit> schedule(List<Unit> units, List<Integer> firstPos) {
        Map<String, Integer> producedBy = new HashMap<>();
        for (int u = 0; u < units.size(); u++)
            for (Node n : units.get(u).nodes())
                for (Value v : n.outputs()) if (!v.isNone()) producedBy.put(v.name(), u);
        List<Set<Integer>> succ = new ArrayList<>();
        int[] indegree = new int[units.size()];
        for (int u = 0; u < units.size(); u++) succ.add(new HashSet<>());
        for (int u = 0; u < units.size(); u++) {
            Set<Integer> preds = new HashSet<>();
            for (Node n : units.get(u).nodes())
                for (String in : reads(n)) {
                    Integer p = producedBy.get(in);
                    if (p != null && p != u) preds.add(p);
                }
            for (int p : preds) if (succ.get(p).add(u)) indegree[u]++;
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>(
                Comparator.<Integer>comparingInt(firstPos::get).thenComparingInt(u -> u));
        for (int u = 0; u < units.size(); u++) if (indegree[u] == 0) ready.add(u);
        List<Unit> order = new ArrayList<>();
        while (!ready.isEmpty()) {
            int u = ready.poll();
            order.add(units.get(u));
            for (int s : succ.get(u)) if (--indegree[s] == 0) ready.add(s);
        }
        if (order.size() != units.size())
            throw new IllegalStateException("fusion partitioning of graph '" + graph.name()
                    + "' made a cycle between groups");
        return order;
    }
}
