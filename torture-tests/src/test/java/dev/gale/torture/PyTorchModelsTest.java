package dev.gale.torture;

import dev.gale.backends.Backends;
import dev.gale.cli.conformance.ConformanceRunner;
import dev.gale.cli.conformance.TestOutcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The PyTorch-exported MLP, CNN and transformer (made by {@code scripts/export_pytorch_models.py}) run on the
 * interpreter and reproduce PyTorch's outputs within the conformance tolerance.
 */
public class PyTorchModelsTest {
    public static Path model(String name) {
        try {
            return Path.of(PyTorchModelsTest.class.getResource("/models/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void interpreterMatchesPyTorch(String name) {
        TestOutcome o = new ConformanceRunner(Backends.get("interp"), 300).runOne("models", model(name));
        assertEquals(TestOutcome.Status.PASS, o.status(), name + ": " + o.message());
    }
}
