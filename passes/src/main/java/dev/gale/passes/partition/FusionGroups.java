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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The working state of fusion partitioning: the graph's nodes (then the copies of recomputed nodes), what each is,
 * and the groups they form, a union-find over node indices whose roots name the groups.
 *
 * <p>It also keeps the groups in a topological order of the group graph ({@code order}: a slot per group, -1 for a
 * freed slot; {@code rank}: each root's slot). Initially the graph's node order. {@link #mergeAcyclic} uses it to
 * look for a cycle only among the groups ordered between those it merges, and restores it after each merge.
 */
final class FusionGroups {
    /** Where a node sits in its group. */
    enum Role { FREE, PROLOGUE, ANCHOR, EPILOGUE }

    private static final class Group {
        final List<Integer> members = new ArrayList<>();
        int anchor = -1;
    }

    private final Graph graph;
    private final Set<String> graphOutputs = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<Kind> kinds = new ArrayList<>();
    private final List<Integer> pos = new ArrayList<>();
    private final List<Integer> origin = new ArrayList<>();
    private final List<Role> roles = new ArrayList<>();
    private final List<Boolean> dead = new ArrayList<>();
    private final List<Boolean> host = new ArrayList<>();
    private final List<Integer> parent = new ArrayList<>();
    private final Map<Integer, Group> groups = new HashMap<>();
    private final List<Integer> order = new ArrayList<>();
    private final Map<Integer, Integer> rank = new HashMap<>();
    private final Map<String, Integer> producer = new HashMap<>();
    /** Value name -> the live nodes reading it (directly or from a nested graph), each once. */
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private int copies;

    FusionGroups(Graph graph) {
        this.graph = graph;
        Map<String, Type> types = graph.valueTypes();
        for (Value v : graph.outputs()) graphOutputs.add(v.name());
        names.addAll(types.keySet());
        for (Node n : graph.nodes()) names.addAll(FusionRules.captured(n));
        for (Node n : graph.nodes()) add(n, FusionRules.kind(n, types), nodes.size(), nodes.size());
        for (int i = 0; i < nodes.size(); i++) { // the graph's order is a topological order of singleton groups
            order.add(i);
            rank.put(i, i);
        }
        markShapeComputations();
    }

    // ---------------------------------------------------------------- nodes

    Node node(int i) { return nodes.get(i); }

    Kind kind(int i) { return kinds.get(i); }

    int position(int i) { return pos.get(i); }

    /** The graph node a node is a copy of (itself for the graph's nodes). */
    int origin(int i) { return origin.get(i); }

    Role role(int i) { return roles.get(i); }

    void setRole(int i, Role r) { roles.set(i, r); }

    /** Computes shapes: reads only what Shape and Size give (and constants); runs apart from tensor data. */
    boolean host(int i) { return host.get(i); }

    boolean fusable(int i) { return !dead.get(i) && kinds.get(i) != Kind.OPAQUE && kinds.get(i) != Kind.CONSTANT; }

    /** Live nodes in topological order (copies sit at their original's position). */
    List<Integer> liveInOrder() {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) if (!dead.get(i)) r.add(i);
        r.sort(Comparator.<Integer>comparingInt(pos::get).thenComparingInt(i -> i));
        return r;
    }

    // ---------------------------------------------------------------- values

    List<Integer> consumersOf(String value) { return consumers.getOrDefault(value, List.of()); }

    Integer producerOf(String value) { return producer.get(value); }

    boolean isGraphOutput(String value) { return graphOutputs.contains(value); }

    /** Whether a {@code Constant} node produces the value. */
    boolean isConstant(String value) {
        Integer p = producer.get(value);
        return p != null && kinds.get(p) == Kind.CONSTANT;
    }

    // ---------------------------------------------------------------- groups

    int find(int i) {
        int r = i;
        while (parent.get(r) != r) r = parent.get(r);
        while (parent.get(i) != r) {
            int next = parent.get(i);
            parent.set(i, r);
            i = next;
        }
        return r;
    }

    List<Integer> members(int root) { return groups.get(root).members; }

    /** The group's anchor (an out-elementwise-fusable op or a reduction), or -1. */
    int anchor(int root) { return groups.get(root).anchor; }

    boolean hostGroup(int root) { return host.get(members(root).get(0)); }

    /** Groups reading a value of group {@code root}. */
    Set<Integer> successors(int root) {
        Set<Integer> r = new LinkedHashSet<>();
        for (int m : members(root))
            for (Value v : nodes.get(m).outputs())
                if (!v.isNone()) for (int c : consumersOf(v.name())) {
                    int s = find(c);
                    if (s != root) r.add(s);
                }
        return r;
    }

    /** Group roots in a topological order of the group graph. */
    List<Integer> rootsInOrder() { return order.stream().filter(r -> r >= 0).toList(); }

    /**
     * Merges the groups {@code roots} (the first becomes the root) unless that would close a cycle: a path that
     * leaves them and comes back through another group. Only the groups ordered between the first and the last of
     * them can be on such a path; after the merge that stretch of the order becomes: what does not depend on the
     * merged groups, the merged group, what does. Returns the root, or -1 when refused.
     */
    int mergeAcyclic(List<Integer> roots) {
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

    private void union(int a, int b) {
        Group ga = groups.get(a), gb = groups.remove(b);
        parent.set(b, a);
        ga.members.addAll(gb.members);
        if (ga.anchor < 0) ga.anchor = gb.anchor;
    }

    // ---------------------------------------------------------------- recomputation

    /**
     * Copies node {@code p} into group {@code root} for its consumers {@code cs} there, which read the copy from now
     * on. The copy cannot close a cycle: it reads what {@code p} reads, which already reaches the group through p.
     */
    void copyInto(int p, int root, List<Integer> cs, Role role) {
        Node orig = nodes.get(p);
        Value old = orig.output(0);
        Value fresh = new Value(freshName(old.name()), old.type());
        int copy = add(orig.withOutputs(List.of(fresh)), kinds.get(p), pos.get(p), origin.get(p));
        copies++;
        host.set(copy, host.get(p));
        roles.set(copy, role);
        for (int c : cs) {
            Node n = nodes.get(c);
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(v.name().equals(old.name()) ? fresh : v);
            nodes.set(c, n.withInputs(in));
            consumers.computeIfAbsent(fresh.name(), x -> new ArrayList<>()).add(c);
            consumersOf(old.name()).remove(Integer.valueOf(c));
        }
        union(root, copy);
    }

    /** Removes a node nobody reads any more (a recomputed node after its copies took over). */
    void remove(int p) {
        dead.set(p, true);
        for (String in : reads(nodes.get(p))) consumersOf(in).remove(Integer.valueOf(p));
        for (Value v : nodes.get(p).outputs()) {
            producer.remove(v.name());
            consumers.remove(v.name());
        }
        order.set(rank.remove(p), -1);
        groups.remove(find(p));
    }

    /** How many copies recomputation made. */
    int copies() { return copies; }

    // ---------------------------------------------------------------- construction

    private int add(Node n, Kind k, int position, int originIndex) {
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

    /** The value names a node reads: its inputs and what its nested graphs capture. */
    static Set<String> reads(Node n) {
        Set<String> r = new LinkedHashSet<>();
        for (Value v : n.inputs()) if (!v.isNone()) r.add(v.name());
        r.addAll(FusionRules.captured(n));
        return r;
    }

    private String freshName(String base) {
        for (int k = 1; ; k++) {
            String n = base + "_" + k;
            if (names.add(n)) return n;
        }
    }
}
