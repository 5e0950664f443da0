package dev.gale.train;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The whole mutable state of a training run as flat float32 buffers over one {@link ParameterLayout}: parameters,
 * gradients, and the optimizer's named moment buffers ({@code exp_avg}, {@code momentum_buffer}, ...), plus the step
 * count. A shard of it is a contiguous index range of every buffer.
 */
public final class TrainingState {
    private final ParameterLayout layout;
    private final float[] params;
    private final float[] grads;
    private final Map<String, float[]> moments = new LinkedHashMap<>();
    private long step;

    public TrainingState(ParameterLayout layout) {
        this.layout = layout;
        this.params = new float[layout.size()];
        this.grads = new float[layout.size()];
    }

    public ParameterLayout layout() { return layout; }

    public float[] params() { return params; }

    public float[] grads() { return grads; }

    /** The optimizer buffer {@code name}, created zero-filled on first use. */
    public float[] moment(String name) { return moments.computeIfAbsent(name, k -> new float[layout.size()]); }

    public boolean hasMoment(String name) { return moments.containsKey(name); }

    public Map<String, float[]> moments() { return Collections.unmodifiableMap(moments); }

    /** Optimizer steps taken so far. */
    public long step() { return step; }

    public void setStep(long s) { step = s; }

    /** Copies a parameter tensor (float32 or float64, rounded to float32) into its slot. */
    public void setParam(String name, Tensor t) { copyIn(params, layout.slot(name), t); }

    public void setGrad(String name, Tensor t) { copyIn(grads, layout.slot(name), t); }

    /** The parameter as a float32 tensor (a copy). */
    public Tensor param(String name) { return copyOut(params, layout.slot(name)); }

    public Tensor grad(String name) { return copyOut(grads, layout.slot(name)); }

    private static void copyIn(float[] buf, ParameterLayout.Slot s, Tensor t) {
        if (t.numel() != s.numel())
            throw new IllegalArgumentException(s.name() + ": " + t.numel() + " elements for a slot of " + s.numel());
        if (t.dtype() == DType.FLOAT32) System.arraycopy(t.floats(), 0, buf, s.offset(), s.numel());
        else for (int i = 0; i < s.numel(); i++) buf[s.offset() + i] = (float) t.getDouble(i);
    }

    private static Tensor copyOut(float[] buf, ParameterLayout.Slot s) {
        float[] out = new float[s.numel()];
        System.arraycopy(buf, s.offset(), out, 0, s.numel());
        return new Tensor(DType.FLOAT32, s.shape(), out);
    }
}
