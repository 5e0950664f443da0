package dev.gale.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warmup's rules: steps that stopped getting faster, and a JIT that stopped compiling. */
class BenchRunnerTest {
    @Test
    void stepsAreSteadyWhenTheLastThreeBlocksGainLittle() {
        assertFalse(BenchRunner.steady(List.of(3.0, 2.0, 1.0)), "too few blocks to tell");
        assertFalse(BenchRunner.steady(List.of(4.0, 3.0, 2.0, 1.0)), "still getting faster");
        assertTrue(BenchRunner.steady(List.of(4.0, 1.0, 1.01, 0.99, 1.0)), "within 3% of the best before");
        assertFalse(BenchRunner.steady(List.of(4.0, 1.0, 1.0, 0.9, 1.0)), "one block 10% faster");
    }

    @Test
    void aBlockIsQuietWhenItsWorkerCompiledLittle() {
        assertTrue(BenchRunner.jitQuiet(-1, 500), "the first block has nothing to compare with");
        assertTrue(BenchRunner.jitQuiet(500, -1), "a worker that does not report its JIT");
        assertTrue(BenchRunner.jitQuiet(500, 500 + BenchRunner.JIT_QUIET_MS));
        assertFalse(BenchRunner.jitQuiet(500, 501 + BenchRunner.JIT_QUIET_MS), "the block made the JIT compile");
    }
}
