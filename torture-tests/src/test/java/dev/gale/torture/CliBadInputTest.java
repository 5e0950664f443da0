package dev.gale.torture;

import dev.gale.torture.GaleCli.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.gale.torture.GaleCli.gale;
import static org.junit.jupiter.api.Assertions.*;

/** Bad input at the command line: one clear line on stderr, a non-zero exit, no stack trace. */
class CliBadInputTest {
    static void assertOneLineError(Result r, String expected) {
        assertNotEquals(0, r.code(), r.err());
        assertTrue(r.err().contains(expected), "stderr should mention '" + expected + "': " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void missingModelFile(@TempDir Path tmp) {
        assertOneLineError(gale("run", tmp.resolve("nope.onnx").toString(), "--inputs", tmp.toString(),
                "--outputs", tmp.resolve("o").toString()), "no such file");
    }

    @Test
    void randomBytesAreNotAModel(@TempDir Path tmp) throws IOException {
        byte[] junk = new byte[4096];
        new Random(7).nextBytes(junk);
        Path f = tmp.resolve("junk.onnx");
        Files.write(f, junk);
        assertOneLineError(gale("run", f.toString(), "--inputs", tmp.toString(), "--outputs", tmp.resolve("o").toString()),
                "junk.onnx");
    }

    @Test
    void truncatedModel(@TempDir Path tmp) throws IOException {
        byte[] model = Files.readAllBytes(PyTorchModelsTest.model("cnn").resolve("model.onnx"));
        Path f = tmp.resolve("cut.onnx");
        Files.write(f, java.util.Arrays.copyOf(model, model.length / 2));
        assertOneLineError(gale("run", f.toString(), "--inputs", tmp.toString(), "--outputs", tmp.resolve("o").toString()),
                "cut.onnx");
    }

    @Test
    void missingInputFile(@TempDir Path tmp) {
        Path model = PyTorchModelsTest.model("mlp").resolve("model.onnx");
        assertOneLineError(gale("run", model.toString(), "--inputs", tmp.toString(), "--outputs", tmp.resolve("o").toString()),
                "no value for input 0 'x'");
    }

    /** One SGD step of {@code gale train} on the MLP with data x and labels y, saved as d.npz in tmp. */
    private static Result trainMlp(Path tmp, dev.gale.ir.Tensor x, dev.gale.ir.Tensor y) throws IOException {
        Path data = tmp.resolve("d.npz");
        Files.write(data, dev.gale.ir.io.Npz.write(new java.util.LinkedHashMap<>(java.util.Map.of("x", x, "y", y))));
        Path model = PyTorchModelsTest.model("mlp").resolve("model.onnx");
        return gale("train", model.toString(), "--data", data.toString(), "--feed", "x=x", "--labels", "y",
                "--loss", "cross-entropy", "--optimizer", "sgd", "--batch-size", "2", "--steps", "1",
                "--out", tmp.resolve("o.onnx").toString());
    }

    @Test
    void labelsOutOfRange(@TempDir Path tmp) throws IOException {
        var x = dev.gale.ir.Tensor.zeros(dev.gale.ir.DType.FLOAT32, 4, 784);
        var y = dev.gale.ir.Tensor.ofLongs(new long[] {4}, 1, 2, 12, 3);
        assertOneLineError(trainMlp(tmp, x, y), "label 12 at row 2");
    }

    @Test
    void wrongShapeForTheModel(@TempDir Path tmp) throws IOException {
        var x = dev.gale.ir.Tensor.zeros(dev.gale.ir.DType.FLOAT32, 4, 100);
        var y = dev.gale.ir.Tensor.ofLongs(new long[] {4}, 1, 2, 1, 3);
        assertOneLineError(trainMlp(tmp, x, y), "input 'x' expects");
    }

    @Test
    void conformanceOnAMissingFolder(@TempDir Path tmp) {
        assertOneLineError(gale("conformance", tmp.resolve("none").toString()), "not a folder");
    }

    @Test
    void unknownCommandIsAUsageError() {
        Result r = gale("frobnicate");
        assertEquals(2, r.code());
    }

    @Test
    void runWritesOutputs(@TempDir Path tmp) throws IOException {
        Path dir = PyTorchModelsTest.model("cnn");
        Result r = gale("run", dir.resolve("model.onnx").toString(), "--inputs", dir.resolve("test_data_set_0").toString(),
                "--outputs", tmp.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(tmp.resolve("output_0.pb")) > 0);
    }
}
