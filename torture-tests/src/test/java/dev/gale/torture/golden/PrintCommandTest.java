package dev.gale.torture.golden;

import dev.gale.torture.ConformanceModels;
import dev.gale.torture.GaleCli.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.gale.torture.GaleCli.gale;
import static org.junit.jupiter.api.Assertions.*;

/** {@code gale print} on ONNX and .gir files, {@code gale run} on a .gir file, and one-line errors for bad text. */
class PrintCommandTest {
    @Test
    void printsOnnxAndReadsItsOwnOutput(@TempDir Path tmp) throws IOException {
        Path model = ConformanceModels.NODE.resolve("test_relu/model.onnx");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(model), "libonnx-testdata is not installed");
        Result r = gale("print", model.toString(), "--inline-weights");
        assertEquals(0, r.code(), r.err());
        assertEquals("""
                model {opsets = {"" = 14}, producer = "backend-test"}
                graph @test_relu(%x: tensor<[3,4,5],f32>) -> (%y: tensor<[3,4,5],f32>) {
                  %y: tensor<[3,4,5],f32> = Relu(%x)
                }
                """, r.out());
        Path gir = tmp.resolve("relu.gir");
        Files.writeString(gir, r.out());
        Result again = gale("print", gir.toString());
        assertEquals(r.out(), again.out(), again.err());

        Path inputs = ConformanceModels.NODE.resolve("test_relu/test_data_set_0");
        Result run = gale("run", gir.toString(), "--inputs", inputs.toString(),
                "--outputs", tmp.resolve("out").toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(Files.exists(tmp.resolve("out/output_0.pb")));
    }

    @Test
    void malformedTextIsOneLineWithLineAndColumn(@TempDir Path tmp) throws IOException {
        Path gir = tmp.resolve("bad.gir");
        Files.writeString(gir, "graph @g(%x: tensor<[2],f32>) -> (%y: tensor<[2],f32>) {\n  %y = Relu(%nope)\n}\n");
        Result r = gale("print", gir.toString());
        assertEquals(1, r.code());
        assertEquals("gale: error: " + gir + ":2:13: use of undefined value %nope", r.err().strip());
    }

    @Test
    void elidedWeightsSayHowToGetALoadableFile(@TempDir Path tmp) throws IOException {
        Path gir = tmp.resolve("elided.gir");
        Files.writeString(gir, """
                graph @g(%x: tensor<[100],f32>) -> (%y: tensor<[100],f32>) {
                  init %w = tensor<[100],f32> elided {min = 0.0, max = 1.0, mean = 0.5, first = [0.0, 0.0, 0.0, 0.0]}
                  %y = Add(%x, %w)
                }
                """);
        Result r = gale("run", gir.toString(), "--inputs", tmp.toString(), "--outputs", tmp.resolve("o").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains(gir + ":2:31: initializer %w has elided data"), r.err());
        assertTrue(r.err().contains("--inline-weights"), r.err());
    }
}
