package dev.gale.train;

import dev.gale.passes.pipeline.Pipeline;
import dev.gale.train.optim.LrSchedule;
import dev.gale.train.optim.Optimizer;

import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Everything one training run is given. {@code checkpointDir} and {@code lossLog} may be null; {@code clipNorm} is
 * 0 for no clipping; {@code ignoreIndex} is {@code Long.MIN_VALUE} for none. {@code compile} is the pass pipeline
 * the training step goes through before it runs (see {@link CompiledStep}) on a backend that runs planned graphs
 * ({@code interp}), or null to run the step as built; backends that compile models themselves ignore it.
 */
public record TrainConfig(String output, LossKind loss, long ignoreIndex, Predicate<String> trainable,
                          Optimizer optimizer, LrSchedule schedule, double clipNorm, int batchSize, long steps,
                          boolean shuffle, long seed, String backend, Path lossLog, Path checkpointDir,
                          long checkpointEvery, boolean resume, Pipeline compile) {
    /** A run whose training step is not compiled. */
    public TrainConfig(String output, LossKind loss, long ignoreIndex, Predicate<String> trainable,
                       Optimizer optimizer, LrSchedule schedule, double clipNorm, int batchSize, long steps,
                       boolean shuffle, long seed, String backend, Path lossLog, Path checkpointDir,
                       long checkpointEvery, boolean resume) {
        this(output, loss, ignoreIndex, trainable, optimizer, schedule, clipNorm, batchSize, steps, shuffle, seed,
                backend, lossLog, checkpointDir, checkpointEvery, resume, null);
    }
}
