package dev.gale.train;

import dev.gale.train.optim.LrSchedule;
import dev.gale.train.optim.Optimizer;

import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Everything one training run is given. {@code checkpointDir} and {@code lossLog} may be null; {@code clipNorm} is
 * 0 for no clipping; {@code ignoreIndex} is {@code Long.MIN_VALUE} for none.
 */
public record TrainConfig(String output, LossKind loss, long ignoreIndex, Predicate<String> trainable,
                          Optimizer optimizer, LrSchedule schedule, double clipNorm, int batchSize, long steps,
                          boolean shuffle, long seed, String backend, Path lossLog, Path checkpointDir,
                          long checkpointEvery, boolean resume) {}
