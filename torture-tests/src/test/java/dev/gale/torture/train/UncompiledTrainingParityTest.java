package dev.gale.torture.train;

import dev.gale.cli.Gale;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link TrainingParityTest} runs {@code gale train} as users do: the training step compiled by the standard
 * pipeline and run in one memory-planned arena. This variant checks both modes on one run per model: the compiled
 * run says it compiled, {@code --no-compile} runs the step as built, and both match PyTorch's losses.
 */
class UncompiledTrainingParityTest {
    @TempDir
    Path work;

    @ParameterizedTest(name = "{0}-{1}")
    @CsvSource({"mlp,adam", "cnn,sgd", "transformer,adamw"})
    void bothModesMatchPyTorch(String model, String optimizer) throws IOException, InterruptedException {
        Path script = Path.of(System.getProperty("gale.root", "..")).resolve("scripts/pytorch_train.py")
                .toAbsolutePath();
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), work.toString(), "--model", model,
                "--optimizer", optimizer, "--steps", "10").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "PyTorch side timed out");
        assertEquals(0, p.exitValue(), "PyTorch side failed:\n" + log);
        double[] torch = TrainingParityTest.losses(work.resolve("torch_losses.csv"));
        for (boolean compile : new boolean[] {true, false}) {
            String mode = compile ? "compiled" : "uncompiled";
            List<String> args = new ArrayList<>(List.of("train", work.resolve("model.onnx").toString(),
                    "--data", work.resolve("data.npz").toString(), "--backend", "interp"));
            args.addAll(Arrays.asList(Files.readString(work.resolve("args.txt")).trim().split("\\s+")));
            args.addAll(List.of("--loss-log", work.resolve(mode + ".csv").toString(),
                    "--out", work.resolve(mode + ".onnx").toString()));
            if (!compile) args.add("--no-compile");
            StringWriter out = new StringWriter(), err = new StringWriter();
            assertEquals(0, Gale.execute(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err)),
                    mode + ": " + err);
            assertEquals(compile, out.toString().contains("compiled the training step"), mode + ": " + out);
            double[] gale = TrainingParityTest.losses(work.resolve(mode + ".csv"));
            assertEquals(torch.length, gale.length);
            for (int s = 0; s < torch.length; s++)
                assertEquals(torch[s], gale[s], TrainingParityTest.RTOL * Math.abs(torch[s]),
                        mode + " step " + (s + 1));
        }
    }
}
