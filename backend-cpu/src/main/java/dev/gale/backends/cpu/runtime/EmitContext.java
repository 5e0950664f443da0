package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.Attrs;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * What an op's step builder sees of one node while a plan is built: the slots of its inputs and outputs, constant
 * input values, attributes with the op table's defaults, the arena, the kernel pool, and a way to get scratch
 * memory and preallocated boxed outputs that the step then reuses on every run.
 */
final class EmitContext {
    final Node node;
    private final OpSchema schema;
    private final Slot[] in, out;
    final MemorySegment mem;
    final KernelPool pool;
    final Object[] boxes;
    private final Map<String, Tensor> constants;
    private final Arena arena;
    /** Bytes of the plan's constants (mostly a model's weights), for kernels that care whether they fit in cache. */
    final long constantBytes;

    EmitContext(Node node, Slot[] in, Slot[] out, MemorySegment mem, KernelPool pool, Object[] boxes,
                Map<String, Tensor> constants, Arena arena, long constantBytes) {
        this.constantBytes = constantBytes;
        this.node = node;
        this.schema = OpTable.lookup(node.domain(), node.op());
        this.in = in;
        this.out = out;
        this.mem = mem;
        this.pool = pool;
        this.boxes = boxes;
        this.constants = constants;
        this.arena = arena;
    }

    String op() { return node.op(); }

    int numInputs() { return in.length; }

    int numOutputs() { return out.length; }

    boolean has(int i) { return i < in.length && in[i] != null; }

    Slot in(int i) { return i < in.length ? in[i] : null; }

    Slot out(int i) { return i < out.length ? out[i] : null; }

    /** Input {@code i} is given and lives in the arena. */
    boolean arenaIn(int i) { return has(i) && in[i].inArena(); }

    /** Every given input and output lives in the arena. */
    boolean allArena() {
        for (Slot s : in) if (s != null && !s.inArena()) return false;
        for (Slot s : out) if (s != null && !s.inArena()) return false;
        return true;
    }

    /** Number of outputs that are used (not omitted). */
    int usedOutputs() {
        int k = 0;
        for (Slot s : out) if (s != null) k++;
        return k;
    }

    /** The value of input {@code i} when it is a constant (initializer or Constant node), else null. */
    Tensor constant(int i) { return has(i) ? constants.get(in[i].name) : null; }

    /** A constant integer vector input (axes, shapes, pads) as longs, or null when absent or not constant. */
    long[] constantLongs(int i) {
        Tensor t = constant(i);
        if (t == null || t.dtype().isFloat() || t.dtype() == DType.STRING) return null;
        return t.toLongArray();
    }

    Attr attr(String name) {
        Attr a = node.attr(name);
        if (a != null || schema == null) return a;
        var spec = schema.attr(name);
        return spec == null ? null : spec.defaultValue();
    }

    boolean hasAttr(String name) { return node.attr(name) != null; }

    long attrInt(String name) { return Attrs.asInt(attr(name), node, name); }

    float attrFloat(String name) { return Attrs.asFloat(attr(name), node, name); }

    String attrString(String name) { return Attrs.asString(attr(name), node, name); }

    long[] attrInts(String name) {
        Attr a = attr(name);
        return a == null ? null : Attrs.asInts(a, node, name);
    }

    /** Off-heap scratch of {@code floats} floats owned by the plan, allocated now and reused by the step. */
    MemorySegment scratch(long floats) { return arena.allocate(Math.max(1, floats) * Float.BYTES, 64); }

    /**
     * The tensor a native step writes boxed output {@code i} into (a value of static shape that is not float32, such
     * as a comparison's booleans): allocated now, placed in the box, reused on every run.
     */
    Tensor ownedOutput(int i) {
        Slot s = out[i];
        if (s.inArena() || s.shape == null) throw new IllegalStateException(s + " is not a static boxed value");
        Tensor t = Tensor.zeros(s.dtype, s.shape);
        boxes[s.box] = t;
        return t;
    }

    GaleException error(String message) { return new GaleException(node.describe() + ": " + message); }

    /** Makes run-time errors that name the node, without keeping the context alive. */
    interface Where {
        GaleException error(String message);
    }

    Where where() {
        String d = node.describe();
        return message -> new GaleException(d + ": " + message);
    }
}
