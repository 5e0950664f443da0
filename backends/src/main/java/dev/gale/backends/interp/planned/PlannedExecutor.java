package dev.gale.backends.interp.planned;

import dev.gale.backends.Session;
import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.plan.BufferPlan;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a compiled graph (partitioned into {@code gale::Kernel} nodes, scheduled, memory-planned) on the
 * interpreter's kernels with every planned intermediate in one arena, as a compiled backend would.
 *
 * <p>The arena is allocated once, when the session opens, with the plan's size. Each top-level node is one step:
 * its arena inputs are read back from their planned offsets (so a value exists between steps only as arena bytes),
 * the interpreter's kernel runs (a kernel node runs its body), and each output with a slot is copied to its offset.
 * {@link ArenaResidents} checks every write and read against the plan, so a plan that would clobber a live value
 * fails the run with the step and both values named, instead of computing a wrong result. Values without a slot
 * (graph inputs, initializers, graph outputs, values whose size only the run time knows) live in a map, as in the
 * interpreter.
 *
 * <p>Before the first run the plan is checked against the graph: each slot belongs to a value some step writes, at
 * the step the plan says, and each read happens within the value's planned lifetime.
 */
public final class PlannedExecutor implements Session {
    private final Graph graph;
    private final BufferPlan plan;
    private final Interpreter interpreter;
    private final Arena memory;
    private final MemorySegment arena;
    /** Per step: the outer-scope names its nested graphs read (If branches, loop bodies; kernel bodies read none). */
    private final List<Set<String>> captures = new ArrayList<>();
    private final ArenaResidents residents;
    private long bytesStored, bytesLoaded, peakResident;

    public PlannedExecutor(Model model, BufferPlan plan) {
        this.graph = model.graph();
        this.plan = plan;
        this.interpreter = new Interpreter(model);
        for (Node n : graph.nodes()) captures.add(NestedReads.captures(n));
        check();
        this.residents = new ArenaResidents(graph.nodes().size());
        this.memory = Arena.ofShared();
        this.arena = memory.allocate(Math.max(plan.arenaBytes(), 1), Math.max(plan.alignment(), 8));
    }

    /** The plan fits this graph: slots only for values written by a top-level step, read within their lifetimes. */
    private void check() {
        Map<String, Integer> writtenAt = new HashMap<>();
        List<Node> nodes = graph.nodes();
        for (int s = 0; s < nodes.size(); s++) {
            Node n = nodes.get(s);
            for (String r : reads(s)) {
                BufferPlan.Slot slot = plan.slot(r);
                if (slot != null && (slot.first() >= s || slot.last() < s))
                    throw mismatch("step " + s + " (" + n.describe() + ") reads '" + r + "', planned for steps "
                            + slot.first() + ".." + slot.last());
            }
            for (Value v : n.outputs()) {
                if (v.isNone()) continue;
                writtenAt.put(v.name(), s);
                BufferPlan.Slot slot = plan.slot(v.name());
                if (slot != null && slot.first() != s)
                    throw mismatch("'" + v.name() + "' is written at step " + s + " (" + n.describe()
                            + ") but planned from step " + slot.first());
            }
        }
        for (String v : plan.slots().keySet())
            if (!writtenAt.containsKey(v)) throw mismatch("'" + v + "' has a slot but no step of the graph writes it");
        for (Value v : graph.outputs())
            if (plan.slot(v.name()) != null)
                throw mismatch("graph output '" + v.name() + "' has a slot; outputs belong to the caller");
    }

    private static GaleException mismatch(String what) {
        return new GaleException("the memory plan does not fit the graph: " + what
                + " (was the graph changed after plan-memory?)");
    }

    /** Names step {@code s} reads: node inputs and nested-graph captures. */
    private Set<String> reads(int s) {
        Set<String> r = new LinkedHashSet<>();
        for (Value v : graph.nodes().get(s).inputs()) if (!v.isNone()) r.add(v.name());
        r.addAll(captures.get(s));
        return r;
    }

    @Override
    public void seed(long seed) { interpreter.seed(seed); }

    /** Runs the graph on {@code feeds} (by input name); returns the graph outputs in order. */
    @Override
    public List<Object> run(Map<String, Object> feeds) {
        for (Value v : graph.runtimeInputs())
            if (!feeds.containsKey(v.name()))
                throw new GaleException("missing input '" + v.name() + "' (expected " + v.type() + ")");
        Set<String> inputNames = new HashSet<>();
        for (Value v : graph.inputs()) inputNames.add(v.name());
        for (String name : feeds.keySet())
            if (!inputNames.contains(name))
                throw new GaleException("'" + name + "' is not an input of the graph; inputs are "
                        + graph.runtimeInputs().stream().map(Value::name).toList());
        Map<String, Object> env = new HashMap<>(graph.initializers());
        env.putAll(feeds);
        Map<String, Layout> layout = new HashMap<>(); // of each arena value written this run
        residents.clear();
        List<Node> nodes = graph.nodes();
        for (int s = 0; s < nodes.size(); s++) {
            Node n = nodes.get(s);
            Map<String, Object> loaded = new HashMap<>();
            List<Object> in = new ArrayList<>(n.inputs().size());
            for (Value v : n.inputs()) in.add(v.isNone() ? null : value(v.name(), s, n, env, layout, loaded));
            Map<String, Object> scope = new HashMap<>();
            for (String c : captures.get(s)) scope.put(c, value(c, s, n, env, layout, loaded));
            List<Object> out = interpreter.runNode(n, in, scope);
            for (int i = 0; i < n.outputs().size() && i < out.size(); i++) {
                Value v = n.output(i);
                if (v.isNone()) continue;
                BufferPlan.Slot slot = plan.slot(v.name());
                if (slot == null) {
                    env.put(v.name(), out.get(i));
                    continue;
                }
                if (!(out.get(i) instanceof Tensor t))
                    throw new GaleException("step " + s + ", " + n.describe() + ": arena value '" + v.name()
                            + "' is not a tensor");
                long bytes = ArenaTensors.bytes(t);
                if (bytes != slot.bytes())
                    throw new GaleException("step " + s + ", " + n.describe() + ": '" + v.name() + "' is planned with "
                            + slot.bytes() + " bytes but the run produced " + bytes + " (" + t.type() + ")");
                residents.write(v.name(), slot, s, n);
                ArenaTensors.store(t, arena, slot.offset());
                layout.put(v.name(), new Layout(t.dtype(), t.shape()));
                bytesStored += bytes;
            }
            peakResident = Math.max(peakResident, residents.residentBytes());
            residents.endStep(s);
        }
        List<Object> result = new ArrayList<>(graph.outputs().size());
        for (Value v : graph.outputs()) {
            if (!env.containsKey(v.name())) throw new GaleException("graph output '" + v.name() + "' was not computed");
            result.add(env.get(v.name()));
        }
        return result;
    }

    /** What an arena value's bytes hold: element type and shape. */
    private record Layout(DType dtype, long[] shape) {}

    /** The run-time value of {@code name} for step {@code s}: read back from the arena when it has a slot. */
    private Object value(String name, int s, Node n, Map<String, Object> env, Map<String, Layout> layout,
                         Map<String, Object> loaded) {
        BufferPlan.Slot slot = plan.slot(name);
        if (slot == null) {
            Object x = env.get(name);
            if (x == null && !env.containsKey(name))
                throw new GaleException(n.describe() + ": input '" + name + "' has no value");
            return x;
        }
        Object cached = loaded.get(name);
        if (cached != null) return cached;
        residents.checkReadable(name, s, n);
        Layout like = layout.get(name);
        Tensor t = ArenaTensors.load(like.dtype(), like.shape(), arena, slot.offset());
        bytesLoaded += slot.bytes();
        loaded.put(name, t);
        return t;
    }

    public long arenaBytes() { return plan.arenaBytes(); }

    /** Bytes copied into the arena so far (all runs). */
    public long bytesStored() { return bytesStored; }

    /** Bytes read back from the arena so far (all runs). */
    public long bytesLoaded() { return bytesLoaded; }

    /** The most bytes of values still to be read held in the arena after any step so far. */
    public long peakResidentBytes() { return peakResident; }

    @Override
    public void close() { memory.close(); }
}
