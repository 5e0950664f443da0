package dev.gale.torture.train;

import dev.gale.torture.GaleCli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The acceptance test of training: PyTorch (scripts/pytorch_train.py, run here with Debian's python3-torch) and
 * {@code gale train} train the same exported models from the same initial weights on the same data order; every
 * step's loss must agree within 1e-4 relative.
 */
class TrainingParityTest {
    static final double RTOL = 1e-4;

    @TempDir
    static Path work;

    @BeforeAll
    static void pytorchSide() throws IOException, InterruptedException {
        Path script = Path.of(System.getProperty("gale.root", "..")).resolve("scripts/pytorch_train.py").toAbsolutePath();
        assertTrue(Files.exists(script), script + " not found");
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), work.toString(), "--all")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "PyTorch side timed out");
        assertEquals(0, p.exitValue(), "PyTorch side failed (python3-torch installed?):\n" + out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mlp-sgd", "mlp-adam", "mlp-adamw", "cnn-sgd", "cnn-adam", "cnn-adamw", "upconv-sgd",
            "upconv-adam", "upconv-adamw", "upsample-sgd", "upsample-adam", "upsample-adamw", "transformer-sgd",
            "transformer-adam", "transformer-adamw", "mlp-adagrad"})
    void lossesMatchPyTorchEveryStep(String run) throws IOException {
        Path dir = work.resolve(run);
        List<String> args = new ArrayList<>(List.of("train", dir.resolve("model.onnx").toString(),
                "--data", dir.resolve("data.npz").toString(), "--backend", "interp"));
        args.addAll(Arrays.asList(Files.readString(dir.resolve("args.txt")).trim().split("\\s+")));
        args.addAll(List.of("--loss-log", dir.resolve("gale_losses.csv").toString(),
                "--out", dir.resolve("trained.onnx").toString()));
        GaleCli.Result r = GaleCli.gale(args);
        assertEquals(0, r.code(), "gale train failed: " + r.err());
        double[] torch = losses(dir.resolve("torch_losses.csv")), gale = losses(dir.resolve("gale_losses.csv"));
        assertEquals(torch.length, gale.length, "number of steps");
        for (int s = 0; s < torch.length; s++) {
            double rel = Math.abs(gale[s] - torch[s]) / Math.abs(torch[s]);
            assertTrue(rel <= RTOL, run + " step " + (s + 1) + ": gale " + gale[s] + " vs torch " + torch[s]
                    + " (relative difference " + rel + ")");
        }
        assertTrainedModelRunsOnOnnxRuntime(run, dir);
        Path buffers = dir.resolve("torch_buffers.npz");
        // BatchNorm running statistics in the trained ONNX model equal PyTorch's (unbiased running variance). Only
        // with SGD: a conv bias feeding BatchNorm gets a gradient that is zero up to rounding noise, which Adam's
        // normalization turns into steps of size lr in a noise-dependent direction, moving the running mean (but
        // neither the loss nor the variance) differently in any two implementations.
        if (Files.exists(buffers) && run.endsWith("-sgd")) {
            var trained = dev.gale.onnx.OnnxImporter.load(dir.resolve("trained.onnx")).graph().initializers();
            for (var e : dev.gale.ir.io.Npz.read(buffers).entrySet()) {
                var mine = trained.get(e.getKey());
                assertNotNull(mine, "trained model lacks " + e.getKey());
                for (int i = 0; i < mine.numel(); i++) {
                    double t = e.getValue().getDouble(i), g = mine.getDouble(i);
                    assertTrue(Math.abs(g - t) <= 1e-4 * Math.max(1, Math.abs(t)),
                            run + " " + e.getKey() + "[" + i + "]: gale " + g + " vs torch " + t);
                }
            }
        }
    }

    /** The trained model loads in ONNX Runtime and gives the interpreter's outputs on a batch of the data. */
    static void assertTrainedModelRunsOnOnnxRuntime(String run, Path dir) {
        try {
            var model = dev.gale.onnx.OnnxImporter.load(dir.resolve("trained.onnx"));
            var x = dev.gale.ir.io.Npz.read(dir.resolve("data.npz")).get("x");
            int[] rows = {0, 1, 2, 3, 4, 5, 6, 7};
            var batch = dev.gale.train.BatchSampler.rows(x, rows);
            String input = model.graph().runtimeInputs().get(0).name();
            var gale = (dev.gale.ir.Tensor) dev.gale.backends.interp.Interpreter.run(model,
                    java.util.Map.of(input, batch)).get(0);
            var env = ai.onnxruntime.OrtEnvironment.getEnvironment();
            try (var session = env.createSession(dir.resolve("trained.onnx").toString());
                 var in = batch.dtype() == dev.gale.ir.DType.INT64
                         ? ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(batch.longs()), batch.shape())
                         : ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(batch.floats()), batch.shape());
                 var out = session.run(java.util.Map.of(input, in))) {
                float[] ort = ((ai.onnxruntime.OnnxTensor) out.get(0)).getFloatBuffer().array();
                assertEquals(gale.numel(), ort.length);
                for (int i = 0; i < ort.length; i++)
                    assertEquals(gale.getDouble(i), ort[i], 1e-4 * Math.max(1, Math.abs(ort[i])),
                            run + ": ONNX Runtime output " + i + " of the trained model");
            }
        } catch (ai.onnxruntime.OrtException e) {
            fail(run + ": ONNX Runtime cannot run the trained model: " + e.getMessage());
        }
    }

    static double[] losses(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        assertEquals("step,loss", lines.get(0));
        return lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
    }
}
