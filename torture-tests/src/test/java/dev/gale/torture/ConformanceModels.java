package dev.gale.torture;

import dev.gale.cli.conformance.ConformanceRunner;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Value;
import dev.gale.onnx.OnnxImporter;
import dev.gale.onnx.OnnxTensors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Conformance test folders as the torture tests read them: Debian's ONNX suites ({@code libonnx-testdata}) and the
 * PyTorch models, each folder a {@code model.onnx} beside {@code test_data_set_N/input_K.pb} files.
 */
public final class ConformanceModels {
    private ConformanceModels() {}

    /** The suites' root; {@code -Dgale.onnx.testdata=DIR} points elsewhere. */
    public static final Path DATA = Path.of(System.getProperty("gale.onnx.testdata",
            "/usr/share/libonnx-testdata/data"));

    /** The node suite: one folder per operator test. */
    public static final Path NODE = DATA.resolve("node");

    /** The test folders under root (those holding a model.onnx), sorted. */
    public static List<Path> tests(Path root) { return ConformanceRunner.findTests(root); }

    /** The folder's model.onnx, imported. */
    public static Model load(Path dir) { return OnnxImporter.load(dir.resolve("model.onnx")); }

    /**
     * The inputs of the folder's first data set: {@code input_K.pb} feeds g's K-th runtime input. A missing file
     * leaves its input out (an optional input, or one with an initializer).
     */
    public static Map<String, Object> firstInputs(Graph g, Path dir) {
        Path set = dir.resolve("test_data_set_0");
        Map<String, Object> feeds = new HashMap<>();
        List<Value> inputs = g.runtimeInputs();
        for (int k = 0; k < inputs.size(); k++) {
            Path f = set.resolve("input_" + k + ".pb");
            if (Files.exists(f)) feeds.put(inputs.get(k).name(), OnnxTensors.readValue(f, inputs.get(k).type()));
        }
        return feeds;
    }
}
