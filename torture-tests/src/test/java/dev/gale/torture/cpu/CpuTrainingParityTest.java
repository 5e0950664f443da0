package dev.gale.torture.cpu;

import dev.gale.cli.Gale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gale train --backend cpu} against PyTorch, as {@code TrainingParityTest} does for the interpreter: the same
 * exported models (MLP with GELU and LayerNorm, CNN with BatchNorm and pooling, encoder-decoder with ConvTranspose,
 * upsampling head with Resize, transformer encoder) from the same initial weights on the same batches; every step's
 * loss within 1e-4 relative of PyTorch's.
 */
class CpuTrainingParityTest {
    static final double RTOL = 1e-4;

    @TempDir
    static Path work;

    @BeforeAll
    static void pytorchSide() throws IOException, InterruptedException {
        Path script = Path.of(System.getProperty("gale.root", "..")).resolve("scripts/pytorch_train.py")
                .toAbsolutePath();
        assertTrue(Files.exists(script), script + " not found");
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), work.toString(), "--all")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "PyTorch side timed out");
        assertEquals(0, p.exitValue(), "PyTorch side failed (python3-torch installed?):\n" + out);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mlp-sgd", "mlp-adam", "mlp-adamw", "mlp-adagrad", "cnn-sgd", "cnn-adam", "cnn-adamw",
            "upconv-sgd", "upconv-adam", "upconv-adamw", "upsample-sgd", "upsample-adam", "upsample-adamw",
            "transformer-sgd", "transformer-adam", "transformer-adamw"})
    void lossesMatchPyTorchEveryStep(String run) throws IOException {
        Path dir = work.resolve(run);
        List<String> args = new ArrayList<>(List.of("train", dir.resolve("model.onnx").toString(),
                "--data", dir.resolve("data.npz").toString(), "--backend", "cpu"));
        args.addAll(Arrays.asList(Files.readString(dir.resolve("args.txt")).trim().split("\\s+")));
        args.addAll(List.of("--loss-log", dir.resolve("cpu_losses.csv").toString(),
                "--out", dir.resolve("cpu_trained.onnx").toString()));
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Gale.execute(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, "gale train --backend cpu failed: " + err);
        assertTrue(out.toString().contains("no copies per step"),
                "the cpu backend should train with the parameters and gradients bound in its arena:\n" + out);
        double[] torch = losses(dir.resolve("torch_losses.csv")), cpu = losses(dir.resolve("cpu_losses.csv"));
        assertEquals(torch.length, cpu.length, "number of steps");
        double worst = 0;
        for (int s = 0; s < torch.length; s++) {
            double rel = Math.abs(cpu[s] - torch[s]) / Math.abs(torch[s]);
            worst = Math.max(worst, rel);
            assertTrue(rel <= RTOL, run + " step " + (s + 1) + ": cpu " + cpu[s] + " vs torch " + torch[s]
                    + " (relative difference " + rel + ")");
        }
        System.out.printf("cpu parity %s: %d steps, largest relative loss difference %.3g%n", run, torch.length, worst);
    }

    static double[] losses(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        assertEquals("step,loss", lines.get(0));
        return lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
    }
}
