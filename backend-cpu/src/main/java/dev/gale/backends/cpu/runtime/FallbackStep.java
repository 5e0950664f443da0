package dev.gale.backends.cpu.runtime;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one node with the reference interpreter's kernel: arena inputs are copied into fresh tensors, the node runs
 * as a one-node graph (constant inputs as its initializers, values its nested graphs read from outside as extra
 * inputs), and each output is copied back into the arena or stored in its box. Slow, but it keeps every op the
 * interpreter supports working, and it is safe when an output shares memory with an input.
 */
final class FallbackStep implements Step {
    private final Node node;
    private final Interpreter interpreter;
    private final String[] feedNames;
    private final Slot[] feedSlots;
    private final Slot[] outSlots;
    private final MemorySegment mem;
    private final Object[] boxes;

    FallbackStep(Node node, Map<String, Slot> slots, Map<String, Tensor> constants, MemorySegment mem, Object[] boxes) {
        this.node = node;
        this.mem = mem;
        this.boxes = boxes;
        Map<String, Value> inputs = new LinkedHashMap<>();
        Map<String, Tensor> init = new LinkedHashMap<>();
        List<String> reads = new ArrayList<>();
        for (Value v : node.inputs()) if (!v.isNone()) reads.add(v.name());
        reads.addAll(Scopes.outerReads(node));
        for (String name : reads) {
            Tensor c = constants.get(name);
            if (c != null) init.put(name, c);
            else if (!inputs.containsKey(name)) inputs.put(name, new Value(name, slots.get(name).type));
        }
        for (String name : init.keySet()) inputs.remove(name);
        List<Value> outs = node.outputs().stream().filter(v -> !v.isNone()).toList();
        Graph g = new Graph("fallback", new ArrayList<>(inputs.values()), outs, List.of(node), init);
        this.interpreter = new Interpreter(Model.of(g));
        this.feedNames = inputs.keySet().toArray(String[]::new);
        this.feedSlots = Arrays.stream(feedNames).map(slots::get).toArray(Slot[]::new);
        this.outSlots = outs.stream().map(v -> slots.get(v.name())).toArray(Slot[]::new);
    }

    void seed(long seed) { interpreter.seed(seed); }

    @Override
    public void run() {
        Map<String, Object> feeds = new HashMap<>();
        for (int i = 0; i < feedNames.length; i++) feeds.put(feedNames[i], read(feedSlots[i], mem, boxes));
        List<Object> out = interpreter.run(feeds);
        for (int i = 0; i < outSlots.length; i++) write(node, outSlots[i], out.get(i), mem, boxes);
    }

    /** The value of a slot as the interpreter takes it: a fresh tensor for an arena value. */
    static Object read(Slot s, MemorySegment mem, Object[] boxes) {
        if (!s.inArena()) return boxes[s.box];
        float[] data = new float[Math.toIntExact(s.numel)];
        MemorySegment.copy(mem, Vec.F, s.offset << 2, data, 0, data.length);
        return new Tensor(DType.FLOAT32, s.shape, data);
    }

    /** Stores a computed value into its slot, checking that it has the type the plan expects. */
    static void write(Node node, Slot s, Object v, MemorySegment mem, Object[] boxes) {
        if (!s.inArena()) {
            boxes[s.box] = v;
            return;
        }
        if (!(v instanceof Tensor t) || t.dtype() != DType.FLOAT32 || !Arrays.equals(t.shape(), s.shape))
            throw new GaleException(node.describe() + ": output '" + s.name + "' is " + describe(v)
                    + " but the plan expects " + s.type);
        MemorySegment.copy(t.floats(), 0, mem, Vec.F, s.offset << 2, t.numel());
    }

    private static String describe(Object v) {
        return v instanceof Tensor t ? t.type().toString() : v == null ? "missing" : v.getClass().getSimpleName();
    }
}
