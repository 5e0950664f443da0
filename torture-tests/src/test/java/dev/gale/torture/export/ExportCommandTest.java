package dev.gale.torture.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.gale.cli.Gale;
import dev.gale.ir.Tensor;
import dev.gale.onnx.OnnxTensors;
import dev.gale.torture.PyTorchModelsTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code gale export}: a PyTorch model printed as .gir text IR ({@code gale print --inline-weights}) exports to an ONNX
 * file that ONNX Runtime runs to PyTorch's outputs; bad arguments give one-line errors.
 */
class ExportCommandTest {
    record Result(int code, String out, String err) {}

    static Result gale(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Gale.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static OrtEnvironment ort() {
        try {
            return OrtEnvironment.getEnvironment();
        } catch (Throwable t) {
            Assumptions.abort("ONNX Runtime is not available here: " + t);
            return null;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void girFromPyTorchRunsOnOrt(String name, @TempDir Path tmp) throws Exception {
        Path dir = PyTorchModelsTest.model(name);
        Result printed = gale("print", dir.resolve("model.onnx").toString(), "--inline-weights");
        assertEquals(0, printed.code(), printed.err());
        Path gir = tmp.resolve(name + ".gir");
        Files.writeString(gir, printed.out());

        for (boolean external : new boolean[] {false, true}) {
            Path onnx = tmp.resolve(name + (external ? "-ext" : "") + ".onnx");
            Result r = external ? gale("export", gir.toString(), "-o", onnx.toString(), "--external-data")
                    : gale("export", gir.toString(), "-o", onnx.toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(external, Files.exists(tmp.resolve(onnx.getFileName() + ".data")), "external data file");
            assertEquals("wrote " + onnx + (external ? " and " + onnx.getFileName() + ".data" : ""), r.out().strip());

            Tensor x = OnnxTensors.readTensor(dir.resolve("test_data_set_0/input_0.pb"));
            Tensor want = OnnxTensors.readTensor(dir.resolve("test_data_set_0/output_0.pb"));
            OrtEnvironment env = ort();
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                opts.setIntraOpNumThreads(1);
                try (OrtSession s = env.createSession(onnx.toString(), opts);
                     OnnxTensor in = x.data() instanceof long[] ids
                             ? OnnxTensor.createTensor(env, LongBuffer.wrap(ids), x.shape())
                             : OnnxTensor.createTensor(env, FloatBuffer.wrap(x.floats()), x.shape());
                     OrtSession.Result out = s.run(Map.of(s.getInputNames().iterator().next(), in))) {
                    OnnxTensor y = (OnnxTensor) out.get(0);
                    assertArrayEquals(want.shape(), y.getInfo().getShape(), name + ": output shape");
                    FloatBuffer got = y.getFloatBuffer();
                    float[] w = want.floats();
                    for (int i = 0; i < w.length; i++)
                        assertTrue(Math.abs(w[i] - got.get(i)) <= 1e-5 + 1e-3 * Math.abs(w[i]),
                                name + ": element " + i + " is " + got.get(i) + ", expected " + w[i]);
                }
            }
        }
    }

    @Test
    void badArgumentsAreOneLineErrors(@TempDir Path tmp) throws IOException {
        Path model = PyTorchModelsTest.model("mlp").resolve("model.onnx");
        Result missing = gale("export", tmp.resolve("nope.gir").toString(), "-o", tmp.resolve("o.onnx").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().strip().endsWith("nope.gir: no such file"), missing.err());

        Path txt = Files.writeString(tmp.resolve("model.txt"), "hello");
        Result format = gale("export", txt.toString(), "-o", tmp.resolve("o.onnx").toString());
        assertEquals(1, format.code());
        assertTrue(format.err().contains("expected a file ending in .onnx or .gir"), format.err());

        Result ext = gale("export", model.toString(), "-o", tmp.resolve("o.gir").toString());
        assertEquals(1, ext.code());
        assertTrue(ext.err().contains("must be an .onnx file"), ext.err());

        Result folder = gale("export", model.toString(), "-o", tmp.resolve("no/such/o.onnx").toString());
        assertEquals(1, folder.code());
        assertTrue(folder.err().contains("does not exist"), folder.err());

        Result noOut = gale("export", model.toString());
        assertEquals(2, noOut.code());
        assertTrue(noOut.err().contains("--output"), noOut.err());

        for (Result r : new Result[] {missing, format, ext, folder})
            assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Arrays.stream(tmp.toFile().list()).anyMatch(f -> f.endsWith(".onnx")), "nothing written");
    }
}
