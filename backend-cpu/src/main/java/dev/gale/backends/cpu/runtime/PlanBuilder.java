package dev.gale.backends.cpu.runtime;

import dev.gale.backends.Region;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds an {@link ExecutionPlan} from a graph whose types are as precise as the feeds allow (usually every shape
 * static) and, when the compiler made one, its memory plan.
 *
 * <ol>
 *   <li>Flatten: a fused {@code gale::Kernel} node becomes its body's nodes, body inputs and outputs renamed to the
 *       kernel's operands and the body's own values given private names; Constant nodes become constants.</li>
 *   <li>Slots: float32 values of static shape go to the arena, everything else to boxes.</li>
 *   <li>Offsets: the memory plan's offset for each planned intermediate; a group (a plain node or a flattened
 *       kernel) whose output the plan puts over one of its inputs keeps it there only when the group is one node
 *       whose step is known to be safe in place, otherwise the output is computed into a private buffer and copied
 *       at the end of the group. Everything else (inputs, constants, outputs, kernel insides, every value when there
 *       is no plan) is packed after the planned region by {@link OffsetPacker}, by lifetime.</li>
 *   <li>Regions the caller bound ({@link dev.gale.backends.Session#bind}) come first after the planned region, each
 *       value at the caller's offset; an output that cannot live there (an input or a constant passed through, a
 *       value bound twice) gets its own slot there and a copy step at the end.</li>
 *   <li>The arena is allocated once and touched (zero-filled) so that no run pays for first-touch page faults, and
 *       constants are copied in.</li>
 *   <li>Steps: each node's native step when {@link NativeOps} has one for it, else a {@link FallbackStep}. With
 *       {@link CodegenKernels} on, a kernel the codegen module can lower stays whole and runs as generated code.</li>
 * </ol>
 */
final class PlanBuilder {
    private static final int FOREVER = Integer.MAX_VALUE;

    private final Graph graph;
    private final PlannedOffsets planned;
    private final KernelPool pool;
    private final List<Region> regions;
    private final List<Node> exec = new ArrayList<>();
    private final List<Integer> groupOf = new ArrayList<>();
    private final Map<String, Type> types = new HashMap<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private Map<Node, CompiledKernel> compiled = Map.of();
    private int groups;

    private PlanBuilder(Graph graph, PlannedOffsets planned, KernelPool pool, List<Region> regions) {
        this.graph = graph;
        this.planned = planned;
        this.pool = pool;
        this.regions = regions;
    }

    static ExecutionPlan build(Graph graph, PlannedOffsets planned, KernelPool pool,
                               java.util.function.Function<String, ExecutionPlan.InputKind> kinds) {
        return build(graph, planned, pool, kinds, List.of());
    }

    /** Builds a plan with {@code regions} bound; a value that cannot be bound is a {@link NotBindable}. */
    static ExecutionPlan build(Graph graph, PlannedOffsets planned, KernelPool pool,
                               java.util.function.Function<String, ExecutionPlan.InputKind> kinds, List<Region> regions) {
        return new PlanBuilder(graph, planned, pool, regions).build(kinds);
    }

    /** Why a region asked for cannot be bound. */
    static final class NotBindable extends RuntimeException {
        NotBindable(String message) { super(message, null, false, false); }
    }

    private ExecutionPlan build(java.util.function.Function<String, ExecutionPlan.InputKind> kinds) {
        for (Node n : graph.nodes()) {
            OpTable.require(n.domain(), n.op(), n.describe());
        }
        types.putAll(graph.valueTypes());
        Set<String> inputNames = new HashSet<>();
        for (Value v : graph.inputs()) inputNames.add(v.name());
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet())
            if (!inputNames.contains(e.getKey())) constants.put(e.getKey(), e.getValue());
        if (CodegenKernels.enabled()) compiled = CodegenKernels.compile(graph.nodes());
        for (Node n : graph.nodes()) flatten(n);
        for (Map.Entry<String, Tensor> e : constants.entrySet()) types.put(e.getKey(), e.getValue().type());
        for (Map.Entry<String, Type> e : types.entrySet()) slots.put(e.getKey(), new Slot(e.getKey(), e.getValue()));
        for (String c : constants.keySet()) slots.get(c).constant = true;

        Set<String> persistent = new HashSet<>(constants.keySet());
        persistent.addAll(inputNames);
        for (Value v : graph.outputs()) persistent.add(v.name());
        Set<String> placed = placePlanned(persistent);
        redirectInPlaceHazards(placed);
        Map<String, long[]> bound = bindRegions(inputNames);

        // Lifetimes over the flattened order.
        Map<String, Integer> first = new HashMap<>(), last = new HashMap<>();
        for (int i = 0; i < exec.size(); i++) {
            Node n = exec.get(i);
            for (String r : reads(n)) last.put(r, i);
            for (Value v : n.outputs()) if (!v.isNone()) first.putIfAbsent(v.name(), i);
        }
        List<Slot> rest = new ArrayList<>();
        List<OffsetPacker.Item> items = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (!s.wantsArena() || placed.contains(s.name) || bound.containsKey(s.name)) continue;
            boolean always = persistent.contains(s.name);
            int f = always ? -1 : first.getOrDefault(s.name, -1);
            int l = always ? FOREVER : Math.max(f, last.getOrDefault(s.name, f));
            rest.add(s);
            items.add(new OffsetPacker.Item(s.numel, f, l));
        }
        long base = planned == null ? 0 : OffsetPacker.align((planned.arenaBytes() + 3) / 4);
        long[] regionStart = new long[regions.size()];
        for (int r = 0; r < regions.size(); r++) {
            regionStart[r] = base;
            base = OffsetPacker.align(base + regions.get(r).size());
        }
        for (Map.Entry<String, long[]> e : bound.entrySet())
            slots.get(e.getKey()).offset = regionStart[(int) e.getValue()[0]] + e.getValue()[1];
        long[] end = new long[1];
        long[] offsets = OffsetPacker.place(items, end);
        for (int i = 0; i < rest.size(); i++) rest.get(i).offset = base + offsets[i];
        long floats = base + end[0];

        int boxCount = 0;
        for (Slot s : slots.values()) if (!s.inArena()) s.box = boxCount++;
        Object[] boxes = new Object[boxCount];

        Arena arena = Arena.ofShared();
        try {
            MemorySegment mem = arena.allocate(Math.max(64, floats * Float.BYTES), 64);
            mem.fill((byte) 0);
            for (Map.Entry<String, Tensor> e : constants.entrySet())
                store(slots.get(e.getKey()), e.getValue(), mem, boxes);
            List<ExecutionPlan.Input> inputs = new ArrayList<>();
            for (Value v : graph.inputs()) {
                Tensor def = graph.initializers().get(v.name());
                Slot s = slots.get(v.name());
                if (def != null) store(s, def, mem, boxes);
                inputs.add(new ExecutionPlan.Input(v.name(), s, def, kinds.apply(v.name()), bound.containsKey(v.name())));
            }
            long constantBytes = 0;
            for (Tensor t : constants.values()) constantBytes += (long) t.numel() * Math.max(1, t.dtype().byteSize());
            List<Step> steps = new ArrayList<>();
            List<FallbackStep> fallbacks = new ArrayList<>();
            Map<String, Integer> nativeOps = new TreeMap<>(), fallbackOps = new TreeMap<>();
            for (Node n : exec) {
                Step step = null;
                if (!readsUnknownValue(n)) {
                    EmitContext c = new EmitContext(n, slotsOf(n.inputs()), slotsOf(n.outputs()), mem, pool, boxes,
                            constants, arena, constantBytes);
                    CompiledKernel k = compiled.get(n);
                    step = k != null ? CodegenKernels.step(c, k) : NativeOps.build(c);
                }
                if (step != null) {
                    nativeOps.merge(n.qualifiedOp(), 1, Integer::sum);
                } else {
                    FallbackStep f = new FallbackStep(n, slots, constants, mem, boxes);
                    fallbacks.add(f);
                    step = f;
                    fallbackOps.merge(n.qualifiedOp(), 1, Integer::sum);
                    if (Boolean.getBoolean("gale.cpu.verbose"))
                        System.err.println("gale cpu: falls back: " + n.describe() + " inputs "
                                + Arrays.toString(slotsOf(n.inputs())) + " outputs "
                                + Arrays.toString(slotsOf(n.outputs())));
                }
                steps.add(step);
            }
            List<Slot> outputs = new ArrayList<>();
            boolean[] outputBound = new boolean[graph.outputs().size()];
            for (int i = 0; i < graph.outputs().size(); i++) {
                String name = graph.outputs().get(i).name();
                String at = boundOutputs.get(name);
                outputBound[i] = at != null;
                outputs.add(slots.get(at != null ? at : name));
            }
            List<MemorySegment> regionMemory = new ArrayList<>();
            for (int r = 0; r < regions.size(); r++)
                regionMemory.add(mem.asSlice(regionStart[r] * Float.BYTES, regions.get(r).size() * Float.BYTES));
            return new ExecutionPlan(pool, arena, mem, boxes, steps, exec, inputs, outputs, outputBound, regionMemory,
                    fallbacks, nativeOps, fallbackOps, placed.size());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    // ---- bound regions

    /** Graph output name to the slot holding it in a region (itself, or a copy written at the end). */
    private final Map<String, String> boundOutputs = new HashMap<>();

    /**
     * Checks the regions and says where each bound slot goes: slot name to {region, offset}. Outputs that cannot be
     * placed themselves get a private slot there, filled by a copy step appended to the plan.
     */
    private Map<String, long[]> bindRegions(Set<String> inputNames) {
        Map<String, long[]> at = new LinkedHashMap<>();
        Set<String> outputNames = new HashSet<>();
        for (Value v : graph.outputs()) outputNames.add(v.name());
        for (int r = 0; r < regions.size(); r++) {
            Region region = regions.get(r);
            List<long[]> spans = new ArrayList<>();
            for (int i = 0; i < region.names().size(); i++) {
                String name = region.names().get(i);
                Slot s = slots.get(name);
                boolean input = inputNames.contains(name), output = outputNames.contains(name);
                if (s == null || !input && !output)
                    throw new NotBindable("'" + name + "' is not an input or output of the graph");
                if (!s.wantsArena())
                    throw new NotBindable("'" + name + "' is " + s.type + ", not a float32 tensor of static shape");
                long off = region.offset(i);
                if (off < 0 || off + s.numel > region.size())
                    throw new NotBindable("'" + name + "' (" + s.numel + " elements) does not fit at " + off
                            + " in a region of " + region.size());
                spans.add(new long[] {off, off + s.numel});
                if (input) {
                    if (at.containsKey(name) || boundOutputs.containsValue(name))
                        throw new NotBindable("input '" + name + "' is bound twice");
                    at.put(name, new long[] {r, off});
                    continue;
                }
                if (boundOutputs.containsKey(name)) throw new NotBindable("output '" + name + "' is bound twice");
                String holder = name;
                if (at.containsKey(name) || s.constant) {
                    holder = "bound/" + r + "/" + i;
                    Slot copy = new Slot(holder, s.type);
                    slots.put(holder, copy);
                    types.put(holder, s.type);
                    exec.add(new Node(holder + "/copy", "", "Identity", List.of(new Value(name, s.type)),
                            List.of(new Value(holder, s.type)), Map.of()));
                    groupOf.add(groups++);
                }
                at.put(holder, new long[] {r, off});
                boundOutputs.put(name, holder);
            }
            spans.sort((a, b) -> Long.compare(a[0], b[0]));
            for (int i = 1; i < spans.size(); i++)
                if (spans.get(i)[0] < spans.get(i - 1)[1])
                    throw new NotBindable("values of one region overlap at element " + spans.get(i)[0]);
        }
        return at;
    }

    // ---- flattening

    private void flatten(Node n) {
        if (n.domain().isEmpty() && n.op().equals("Constant")) {
            constants.put(n.output(0).name(), evaluateConstant(n));
            return;
        }
        if (n.domain().equals("gale") && n.op().equals("Kernel") && n.attr("body") instanceof Attr.GraphAttr body
                && !compiled.containsKey(n)) {
            inlineKernel(n, body.value());
            return;
        }
        exec.add(n);
        groupOf.add(groups++);
    }

    private static Tensor evaluateConstant(Node n) {
        Graph g = new Graph("constant", List.of(), List.of(n.output(0)), List.of(n), Map.of());
        return (Tensor) Interpreter.run(Model.of(g), Map.of()).get(0);
    }

    /** The body's nodes with its inputs and outputs renamed to the kernel's and its own values made private. */
    private void inlineKernel(Node kernel, Graph body) {
        int group = groups++;
        String prefix = "kernel" + group + "/";
        Map<String, String> rename = new HashMap<>();
        for (int i = 0; i < body.inputs().size(); i++)
            rename.put(body.inputs().get(i).name(), i < kernel.inputs().size() ? kernel.input(i).name() : "");
        for (Map.Entry<String, Tensor> e : body.initializers().entrySet()) {
            if (rename.containsKey(e.getKey())) continue;
            rename.put(e.getKey(), prefix + e.getKey());
            constants.put(prefix + e.getKey(), e.getValue());
        }
        Map<String, String> outputOf = new HashMap<>();
        for (int j = 0; j < body.outputs().size(); j++)
            if (j < kernel.outputs().size() && !kernel.output(j).isNone())
                outputOf.putIfAbsent(body.outputs().get(j).name(), kernel.output(j).name());
        Set<String> produced = new HashSet<>();
        for (Node b : body.nodes()) {
            for (Value v : b.outputs()) {
                if (v.isNone()) continue;
                String to = outputOf.getOrDefault(v.name(), prefix + v.name());
                rename.put(v.name(), to);
                produced.add(v.name());
                types.put(to, v.type());
            }
        }
        for (Node b : body.nodes()) {
            if (b.domain().isEmpty() && b.op().equals("Constant")) {
                constants.put(rename.get(b.output(0).name()), evaluateConstant(b));
                continue;
            }
            exec.add(renamed(b, rename));
            groupOf.add(group);
        }
        // Kernel outputs that no body node writes (a body input or a constant passed through) are copied.
        for (int j = 0; j < body.outputs().size() && j < kernel.outputs().size(); j++) {
            Value o = body.outputs().get(j), k = kernel.output(j);
            if (k.isNone() || produced.contains(o.name()) && rename.get(o.name()).equals(k.name())) continue;
            String from = rename.getOrDefault(o.name(), o.name());
            exec.add(new Node(k.name() + "/copy", "", "Identity", List.of(new Value(from, o.type())), List.of(k),
                    Map.of()));
            groupOf.add(group);
        }
    }

    private static Node renamed(Node n, Map<String, String> rename) {
        List<Value> ins = new ArrayList<>(), outs = new ArrayList<>();
        for (Value v : n.inputs()) ins.add(v.isNone() ? v : rename(v, rename));
        for (Value v : n.outputs()) outs.add(v.isNone() ? v : rename(v, rename));
        return new Node(n.name(), n.domain(), n.op(), ins, outs, n.attrs());
    }

    private static Value rename(Value v, Map<String, String> rename) {
        String to = rename.get(v.name());
        if (to == null) return v;
        return to.isEmpty() ? Value.NONE : new Value(to, v.type());
    }

    // ---- placement

    /** Gives planned intermediates their offsets from the memory plan; returns their names. */
    private Set<String> placePlanned(Set<String> persistent) {
        Set<String> placed = new HashSet<>();
        if (planned == null) return placed;
        for (Node n : graph.nodes()) {
            for (Value v : n.outputs()) {
                if (v.isNone() || persistent.contains(v.name())) continue;
                Slot s = slots.get(v.name());
                long[] at = planned.offsets().get(v.name());
                if (s == null || !s.wantsArena() || at == null || at[0] % 4 != 0 || at[1] < s.numel * 4) continue;
                s.offset = at[0] / 4;
                placed.add(v.name());
            }
        }
        return placed;
    }

    /**
     * Where the plan puts a group's output over one of its inputs and the group cannot compute in place, the output
     * is written to a private buffer and copied once the group is done.
     */
    private void redirectInPlaceHazards(Set<String> placed) {
        for (int start = 0; start < exec.size(); ) {
            int end = start;
            while (end < exec.size() && groupOf.get(end).equals(groupOf.get(start))) end++;
            Set<String> groupInputs = new HashSet<>(), groupOutputs = new HashSet<>();
            for (int i = start; i < end; i++) {
                for (String r : reads(exec.get(i))) groupInputs.add(r);
                for (Value v : exec.get(i).outputs()) if (!v.isNone()) groupOutputs.add(v.name());
            }
            groupInputs.removeAll(groupOutputs);
            boolean single = end - start == 1;
            List<Node> copies = new ArrayList<>();
            for (String o : groupOutputs) {
                if (!placed.contains(o)) continue;
                Slot out = slots.get(o);
                for (String in : groupInputs) {
                    Slot s = slots.get(in);
                    if (s == null || !placed.contains(in) || !overlaps(out, s)) continue;
                    Node producer = exec.get(indexOfProducer(start, end, o));
                    // A generated kernel handles overlap itself: in place only when every read of the input is
                    // at the store's index before it, else into scratch copied over afterwards (CodegenKernels).
                    boolean safe = compiled.containsKey(producer) || single && out.offset == s.offset
                            && out.numel == s.numel && NativeOps.isInPlace(producer.domain(), producer.op());
                    if (safe) continue;
                    String priv = "inplace/" + o;
                    Slot p = new Slot(priv, out.type);
                    slots.put(priv, p);
                    types.put(priv, out.type);
                    for (int i = start; i < end; i++) exec.set(i, replaceName(exec.get(i), o, priv));
                    copies.add(new Node(o + "/copy", "", "Identity", List.of(new Value(priv, out.type)),
                            List.of(new Value(o, out.type)), Map.of()));
                    break;
                }
            }
            for (Node c : copies) {
                exec.add(end, c);
                groupOf.add(end, groupOf.get(start));
                end++;
            }
            start = end;
        }
    }

    private int indexOfProducer(int start, int end, String value) {
        for (int i = start; i < end; i++)
            for (Value v : exec.get(i).outputs()) if (v.name().equals(value)) return i;
        throw new IllegalStateException("no producer of " + value);
    }

    private static boolean overlaps(Slot a, Slot b) {
        return a.offset < b.offset + Math.max(1, b.numel) && b.offset < a.offset + Math.max(1, a.numel);
    }

    private static Node replaceName(Node n, String from, String to) {
        Map<String, String> m = Map.of(from, to);
        return renamed(n, m);
    }

    // ---- helpers

    private static List<String> reads(Node n) {
        List<String> r = new ArrayList<>();
        for (Value v : n.inputs()) if (!v.isNone()) r.add(v.name());
        r.addAll(Scopes.outerReads(n));
        return r;
    }

    private boolean readsUnknownValue(Node n) {
        for (Value v : n.inputs()) if (!v.isNone() && slots.get(v.name()) == null) return true;
        return false;
    }

    private Slot[] slotsOf(List<Value> values) {
        Slot[] r = new Slot[values.size()];
        for (int i = 0; i < r.length; i++) r[i] = values.get(i).isNone() ? null : slots.get(values.get(i).name());
        return r;
    }

    private static void store(Slot s, Tensor t, MemorySegment mem, Object[] boxes) {
        if (s.inArena()) MemorySegment.copy(t.floats(), 0, mem, Vec.F, s.offset << 2, t.numel());
        else boxes[s.box] = t;
    }
}
