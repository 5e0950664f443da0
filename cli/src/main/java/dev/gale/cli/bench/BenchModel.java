package dev.gale.cli.bench;

import dev.gale.ir.GaleException;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * One model folder written by scripts/export_bench_models.py: {@code infer.onnx}, {@code train.onnx} (trainable
 * models), {@code data-B.npz} per batch size, and {@code bench.properties} describing them.
 */
record BenchModel(String name, Path folder, String description, List<String> inputs, String loss, List<Integer> batches,
                  boolean trains) {
    /** The models the export script knows, in the order a full run measures them. */
    static final List<String> ALL = List.of("mlp", "mlp-large", "cnn", "transformer", "minilm", "resnet18");

    static BenchModel load(Path folder) {
        Path file = folder.resolve("bench.properties");
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new GaleException(file + ": cannot read the benchmark model description (" + e.getMessage()
                    + "); export it with scripts/export_bench_models.py");
        }
        List<Integer> batches = new ArrayList<>();
        for (String b : p.getProperty("batches", "").split(",")) if (!b.isBlank()) batches.add(Integer.parseInt(b.trim()));
        return new BenchModel(folder.getFileName().toString(), folder, p.getProperty("description", ""),
                Arrays.asList(p.getProperty("inputs", "x").split(",")), p.getProperty("loss", ""), batches,
                Boolean.parseBoolean(p.getProperty("train", "false")));
    }

    Path inferModel() { return folder.resolve("infer.onnx"); }

    Path trainModel() { return folder.resolve("train.onnx"); }

    Path data(int batch) { return folder.resolve("data-" + batch + ".npz"); }
}
