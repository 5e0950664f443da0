package dev.gale.torture.cpu;

import dev.gale.backends.Backends;
import dev.gale.backends.cpu.runtime.RuntimeStats;
import dev.gale.cli.conformance.ConformanceRunner;
import dev.gale.cli.conformance.TestOutcome;
import dev.gale.torture.PyTorchModelsTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The PyTorch-exported MLP, CNN and transformer run forward on the {@code cpu} backend and reproduce PyTorch's
 * outputs within the conformance tolerance, with every node on the runtime's own steps.
 */
class CpuPyTorchModelsTest {
    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void cpuMatchesPyTorch(String name) {
        RuntimeStats.reset();
        TestOutcome o = new ConformanceRunner(Backends.get("cpu"), 300).runOne("models", PyTorchModelsTest.model(name));
        assertEquals(TestOutcome.Status.PASS, o.status(), name + ": " + o.message());
        assertEquals(java.util.Map.of(), RuntimeStats.fallbackOps(), name + ": nodes that fell back to the interpreter");
    }
}
