package dev.gale.passes.partition;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import dev.gale.passes.partition.FusionPartitioner.Unit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns the partitioner's groups into the partitioned graph: each fused group becomes one {@code gale::Kernel} node
 * whose inputs are the values the group reads from outside, whose outputs are the values read outside it (by other
 * kernels, plain nodes or as graph outputs), and whose {@code body} is the group's nodes as a closed graph.
 *
 * <p>Naming inside a body: input {@code i} is {@code %p<i>}, the value behind kernel output {@code j} is
 * {@code %o<j>}, other values keep their names (they no longer exist outside). A {@code Constant} a kernel reads is
 * copied into its body rather than passed in; it stays outside only while a plain node or a graph output needs it.
 * A name that would shadow an outer value gets a numeric suffix, so names stay unique across the nesting.
 */
final class KernelBuilder {
    /** Op names used in a kernel's name before it is cut short. */
    private static final int NAME_OPS = 4;

    record Result(Graph graph, int kernels, int fusedNodes, int plainNodes, int inlinedConstants) {}

    private final Graph graph;
    private final List<Unit> units;
    private final Map<String, Type> types;
    private final Set<String> graphOutputs = new HashSet<>();
    /** Constant nodes left alone by the partitioner, by the value they produce. */
    private final Map<String, Node> constants = new HashMap<>();
    private final List<List<Value>> externalInputs = new ArrayList<>();
    /** Value -> the units that read it from outside themselves (a kernel reads its constants inside). */
    private final Map<String, Set<Integer>> readers = new HashMap<>();
    private final List<List<Value>> exports = new ArrayList<>();
    private final Set<String> droppedConstants = new HashSet<>();

    private KernelBuilder(Graph graph, List<Unit> units) {
        this.graph = graph;
        this.units = units;
        this.types = graph.valueTypes();
        for (Value v : graph.outputs()) graphOutputs.add(v.name());
        for (Unit u : units)
            if (!u.fused() && FusionRules.kind(u.nodes().get(0), types) == FusionRules.Kind.CONSTANT)
                constants.put(u.nodes().get(0).output(0).name(), u.nodes().get(0));
    }

    static Result build(Graph g, List<Unit> units) { return new KernelBuilder(g, units).build(); }

    private Result build() {
        for (int u = 0; u < units.size(); u++) {
            Unit unit = units.get(u);
            externalInputs.add(unit.fused() ? externalInputs(unit) : List.of());
            if (unit.fused()) {
                for (Value v : externalInputs.get(u)) if (!constants.containsKey(v.name())) addReader(v.name(), u);
            } else {
                for (String r : plainReads(unit)) addReader(r, u);
            }
        }
        // A kernel's outputs: the values of its group read elsewhere or returned by the graph.
        for (Unit unit : units) {
            List<Value> out = new ArrayList<>();
            if (unit.fused())
                for (Node n : unit.nodes())
                    for (Value v : n.outputs())
                        if (!v.isNone() && (graphOutputs.contains(v.name()) || readers.containsKey(v.name())))
                            out.add(v);
            exports.add(out);
        }
        // A group whose results nobody reads stays as plain nodes (removing dead code is not this pass's job).
        for (int u = 0; u < units.size(); u++)
            if (units.get(u).fused() && !isKernel(u)) for (String r : plainReads(units.get(u))) addReader(r, u);
        // A constant copied into every kernel that reads it, and needed by nothing else, goes away.
        for (int u = 0; u < units.size(); u++)
            if (isKernel(u))
                for (Value v : externalInputs.get(u))
                    if (constants.containsKey(v.name()) && !graphOutputs.contains(v.name())
                            && !readers.containsKey(v.name())) droppedConstants.add(v.name());

        Set<String> outer = outerNames();
        List<Node> out = new ArrayList<>();
        int kernels = 0, fusedNodes = 0, plainNodes = 0, inlined = 0;
        for (int u = 0; u < units.size(); u++) {
            Unit unit = units.get(u);
            if (isKernel(u)) {
                String name = kernelName(unit, kernels);
                Body body = body(unit, name, externalInputs.get(u), exports.get(u), outer);
                Map<String, Attr> attrs = new LinkedHashMap<>();
                attrs.put("body", Attr.of(body.graph()));
                attrs.put("pattern", Attr.of(unit.pattern()));
                attrs.put("name", Attr.of(name));
                out.add(new Node(name, GaleOps.DOMAIN, "Kernel", body.inputs(), exports.get(u), attrs));
                kernels++;
                fusedNodes += unit.nodes().size();
                inlined += body.constants();
            } else if (unit.fused() || !isDroppedConstant(unit.nodes().get(0))) {
                out.addAll(unit.nodes());
                plainNodes += unit.nodes().size();
            }
        }
        Graph result = new Graph(graph.name(), graph.inputs(), graph.outputs(), out, graph.initializers());
        return new Result(result, kernels, fusedNodes, plainNodes, inlined);
    }

    private void addReader(String value, int unit) { readers.computeIfAbsent(value, x -> new HashSet<>()).add(unit); }

    private boolean isKernel(int u) { return units.get(u).fused() && !exports.get(u).isEmpty(); }

    private boolean isDroppedConstant(Node n) {
        return FusionRules.kind(n, types) == FusionRules.Kind.CONSTANT && droppedConstants.contains(n.output(0).name());
    }

    /** Names defined in the outer graph once partitioned: bodies must not shadow them. */
    private Set<String> outerNames() {
        Set<String> outer = new HashSet<>();
        for (Value v : graph.inputs()) outer.add(v.name());
        outer.addAll(graph.initializers().keySet());
        for (int u = 0; u < units.size(); u++) {
            if (isKernel(u)) {
                for (Value v : exports.get(u)) outer.add(v.name());
            } else {
                for (Node n : units.get(u).nodes())
                    for (Value v : n.outputs())
                        if (!v.isNone() && !droppedConstants.contains(v.name())) outer.add(v.name());
            }
        }
        return outer;
    }

    /** What a unit left as plain nodes reads: node inputs and captures of nested graphs. */
    private static Set<String> plainReads(Unit unit) {
        Set<String> reads = new LinkedHashSet<>();
        for (Node n : unit.nodes()) reads.addAll(FusionGroups.reads(n));
        return reads;
    }

    /** The values a fused unit reads from outside, in first-use order. */
    private static List<Value> externalInputs(Unit unit) {
        Set<String> defined = new HashSet<>();
        for (Node n : unit.nodes()) for (Value v : n.outputs()) if (!v.isNone()) defined.add(v.name());
        Map<String, Value> ext = new LinkedHashMap<>();
        for (Node n : unit.nodes())
            for (Value v : n.inputs())
                if (!v.isNone() && !defined.contains(v.name())) ext.putIfAbsent(v.name(), v);
        return new ArrayList<>(ext.values());
    }

    record Body(Graph graph, List<Value> inputs, int constants) {}

    /** The kernel's body and inputs: {@code ext} minus the constants copied in. */
    private Body body(Unit unit, String name, List<Value> ext, List<Value> outputs, Set<String> outer) {
        Set<String> local = new HashSet<>();
        Map<String, String> rename = new HashMap<>();
        List<Node> nodes = new ArrayList<>();
        List<Value> bodyInputs = new ArrayList<>(), kernelInputs = new ArrayList<>();
        int inlined = 0;
        for (Value v : ext) {
            Node c = constants.get(v.name());
            if (c != null) {
                String n = unique(v.name(), outer, local);
                rename.put(v.name(), n);
                nodes.add(c.withOutputs(List.of(new Value(n, types.get(v.name())))));
                inlined++;
            } else {
                String n = unique("p" + bodyInputs.size(), outer, local);
                rename.put(v.name(), n);
                bodyInputs.add(new Value(n, types.get(v.name())));
                kernelInputs.add(new Value(v.name(), types.get(v.name())));
            }
        }
        for (int j = 0; j < outputs.size(); j++) rename.put(outputs.get(j).name(), unique("o" + j, outer, local));
        for (Node n : unit.nodes())
            for (Value v : n.outputs())
                if (!v.isNone() && !rename.containsKey(v.name())) // a copy takes the recomputed value's name
                    rename.put(v.name(), unique(unit.copied().getOrDefault(v.name(), v.name()), outer, local));
        Map<String, Type> bodyTypes = new HashMap<>();
        for (Value v : bodyInputs) bodyTypes.put(v.name(), v.type());
        for (Node c : nodes) bodyTypes.put(c.output(0).name(), c.output(0).type());
        for (Node n : unit.nodes()) {
            List<Value> in = new ArrayList<>(), outs = new ArrayList<>();
            for (Value v : n.inputs()) {
                if (v.isNone()) {
                    in.add(v);
                    continue;
                }
                String r = rename.get(v.name());
                in.add(new Value(r, bodyTypes.get(r)));
            }
            for (Value v : n.outputs()) {
                if (v.isNone()) {
                    outs.add(v);
                    continue;
                }
                Value nv = new Value(rename.get(v.name()), v.type());
                bodyTypes.put(nv.name(), nv.type());
                outs.add(nv);
            }
            nodes.add(new Node(n.name(), n.domain(), n.op(), in, outs, n.attrs()));
        }
        List<Value> bodyOutputs = new ArrayList<>();
        for (Value v : outputs) {
            String r = rename.get(v.name());
            bodyOutputs.add(new Value(r, bodyTypes.get(r)));
        }
        return new Body(new Graph(name, bodyInputs, bodyOutputs, nodes, Map.of()), kernelInputs, inlined);
    }

    private static String unique(String base, Set<String> outer, Set<String> local) {
        String n = base;
        for (int k = 1; outer.contains(n) || local.contains(n); k++) n = base + "_" + k;
        local.add(n);
        return n;
    }

    /** {@code fused_matmul_add_relu_3}: the first few ops of the group and the kernel's index. */
    private static String kernelName(Unit unit, int index) {
        StringBuilder sb = new StringBuilder("fused");
        int shown = 0;
        for (Node n : unit.nodes()) {
            if (n.domain().isEmpty() && n.op().equals("Constant")) continue;
            if (shown++ == NAME_OPS) break;
            sb.append('_').append(n.op().toLowerCase(Locale.ROOT));
        }
        return sb.append('_').append(index).toString();
    }
}
