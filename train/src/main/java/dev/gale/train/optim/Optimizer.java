package dev.gale.train.optim;

import dev.gale.train.TrainingState;

import java.util.Map;

/**
 * An optimizer over the flat training buffers. {@link #update} touches only elements {@code [from, to)} of the
 * parameter, gradient and moment buffers, so a data-parallel shard updates its own range with the same code.
 * Arithmetic follows PyTorch's CPU implementation (float32 tensors, bias corrections in double), so losses agree
 * step for step.
 */
public interface Optimizer {
    String name();

    /**
     * Applies one step to {@code [from, to)}; {@code step} is the 1-based count of this step (for bias correction)
     * and {@code lr} the learning rate the schedule gives for it.
     */
    void update(TrainingState s, int from, int to, long step, double lr);

    /** Hyper-parameters by name (recorded in checkpoints, checked on resume). */
    Map<String, Double> hyperParameters();
}
