package dev.gale.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warmup's rules: steps that stopped getting faster, a JIT that stopped compiling, and for slow steps vector code
 * that stopped allocating.
 */
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

    @Test
    void aSlowStepMustAlsoHaveStoppedAllocating() {
        assertFalse(BenchRunner.compiled(0.065, 870_000), "ResNet-18's training step with kernels still in C1");
        assertTrue(BenchRunner.compiled(0.065, 105_000), "the same once compiled");
        assertTrue(BenchRunner.compiled(0.065, -1), "a worker that does not report its allocation");
        assertTrue(BenchRunner.compiled(0.0003, 4_000_000), "a fast step: its kernels reach C2 within seconds");
    }
}
