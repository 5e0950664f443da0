package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.onnx.OnnxImporter;
import dev.gale.passes.LowerGradientOps;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads a model from an {@code .onnx} file or a Gale text-IR {@code .gir} file, ready to execute (training
 * {@code Gradient} nodes lowered to explicit backward nodes).
 */
final class ModelFiles {
    private ModelFiles() {}

    static Model load(Path file) {
        if (!Files.exists(file)) throw new GaleException(file + ": no such file");
        if (Files.isDirectory(file)) throw new GaleException(file + ": is a folder, expected a model file");
        String name = file.getFileName().toString();
        Model m = name.endsWith(".gir") ? TextModels.parse(file) : OnnxImporter.load(file);
        return LowerGradientOps.apply(m);
    }
}
