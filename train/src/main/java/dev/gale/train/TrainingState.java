package dev.gale.train;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The whole mutable state of a training run as flat float32 buffers over one {@link ParameterLayout}: parameters,
 * gradients, and the optimizer's named moment buffers ({@code exp_avg}, {@code momentum_buffer}, ...), plus the step
 * count. A shard of it is a contiguous index range of every buffer.
 *
 * <p>The buffers are off-heap segments, allocated once. {@link #relocateParams} and {@link #relocateGrads} move the
 * parameters or gradients into memory a backend runs from (a bound region of its arena), so that a training step
 * reads the parameters and writes the gradients in place and the optimizer updates them there, with no copy.
 */
public final class TrainingState {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final ParameterLayout layout;
    private MemorySegment params;
    /** Null until first used: a state whose gradients live in a backend's memory never makes its own. */
    private MemorySegment grads;
    /** The arenas of the buffers this state made itself (closed when a buffer moves to a backend's memory). */
    private final java.util.IdentityHashMap<MemorySegment, Arena> own = new java.util.IdentityHashMap<>();
    private final Map<String, MemorySegment> moments = new LinkedHashMap<>();
    private long step;

    public TrainingState(ParameterLayout layout) {
        this.layout = layout;
        this.params = allocate();
    }

    /** A zero-filled buffer of the layout's size, freed when the state lets go of it (or by the GC). */
    private MemorySegment allocate() {
        Arena arena = Arena.ofShared();
        MemorySegment m = arena.allocate(Math.max(1L, layout.size()) * Float.BYTES, 64);
        m.fill((byte) 0);
        own.put(m, arena);
        // Freed when the state is collected, unless relocation freed it first.
        CLEANER.register(this, () -> {
            if (arena.scope().isAlive()) arena.close();
        });
        return m;
    }

    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

    public ParameterLayout layout() { return layout; }

    /** The flat parameter buffer ({@code layout().size()} floats). */
    public MemorySegment params() { return params; }

    /** The flat gradient buffer. */
    public MemorySegment grads() {
        if (grads == null) grads = allocate();
        return grads;
    }

    /** The optimizer buffer {@code name}, created zero-filled on first use. */
    public MemorySegment moment(String name) { return moments.computeIfAbsent(name, k -> allocate()); }

    public boolean hasMoment(String name) { return moments.containsKey(name); }

    /** The names of the optimizer buffers made so far, in creation order. */
    public java.util.Set<String> momentNames() { return Collections.unmodifiableSet(moments.keySet()); }

    /**
     * Moves the parameters into {@code to} (at least {@code layout().size()} floats, this layout's offsets): their
     * values are copied there once and from now on {@link #params()} is {@code to}.
     */
    public void relocateParams(MemorySegment to) { params = relocate(params, to); }

    /** As {@link #relocateParams}, for the gradients. */
    public void relocateGrads(MemorySegment to) { grads = relocate(grads, to); }

    /** Copies {@code from} (null: zeros) into {@code to} and frees {@code from} when this state made it. */
    private MemorySegment relocate(MemorySegment from, MemorySegment to) {
        long bytes = (long) layout.size() * Float.BYTES;
        if (to.byteSize() < bytes)
            throw new IllegalArgumentException("a buffer of " + to.byteSize() + " bytes for " + bytes + " bytes of state");
        MemorySegment view = to.asSlice(0, bytes);
        if (from != null) MemorySegment.copy(from, 0, view, 0, bytes);
        else view.fill((byte) 0);
        Arena a = from == null ? null : own.remove(from);
        if (a != null) a.close();
        return view;
    }

    /** Moves the parameters and gradients back into memory of this state's own (before a backend's goes away). */
    public void ownBuffers() {
        params = relocate(params, allocate());
        if (grads != null) grads = relocate(grads, allocate());
    }

    /** Optimizer steps taken so far. */
    public long step() { return step; }

    public void setStep(long s) { step = s; }

    /** Copies a parameter tensor (float32 or float64, rounded to float32) into its slot. */
    public void setParam(String name, Tensor t) { copyIn(params, layout.slot(name), t); }

    public void setGrad(String name, Tensor t) { copyIn(grads(), layout.slot(name), t); }

    /** The parameter as a float32 tensor (a copy). */
    public Tensor param(String name) { return copyOut(params, layout.slot(name)); }

    public Tensor grad(String name) { return copyOut(grads(), layout.slot(name)); }

    /** A copy of a whole buffer ({@code params}, {@code grads} or a moment's name) as an array, for checkpoints. */
    public float[] snapshot(String buffer) { return segment(buffer).toArray(F); }

    /** Overwrites a whole buffer ({@code params} or a moment's name, created if new) from an array. */
    public void load(String buffer, float[] values) {
        MemorySegment m = buffer.equals("params") ? params : buffer.equals("grads") ? grads() : moment(buffer);
        if (values.length != layout.size())
            throw new IllegalArgumentException(buffer + ": " + values.length + " values for " + layout.size());
        MemorySegment.copy(values, 0, m, F, 0, values.length);
    }

    private MemorySegment segment(String buffer) {
        if (buffer.equals("params")) return params;
        if (buffer.equals("grads")) return grads();
        MemorySegment m = moments.get(buffer);
        if (m == null) throw new IllegalArgumentException("no optimizer buffer '" + buffer + "'");
        return m;
    }

    private static void copyIn(MemorySegment buf, ParameterLayout.Slot s, Tensor t) {
        if (t.numel() != s.numel())
            throw new IllegalArgumentException(s.name() + ": " + t.numel() + " elements for a slot of " + s.numel());
        if (t.dtype() == DType.FLOAT32) MemorySegment.copy(t.floats(), 0, buf, F, (long) s.offset() * 4, s.numel());
        else for (int i = 0; i < s.numel(); i++) buf.setAtIndex(F, s.offset() + i, (float) t.getDouble(i));
    }

    private static Tensor copyOut(MemorySegment buf, ParameterLayout.Slot s) {
        float[] out = new float[s.numel()];
        MemorySegment.copy(buf, F, (long) s.offset() * 4, out, 0, s.numel());
        return new Tensor(DType.FLOAT32, s.shape(), out);
    }
}
