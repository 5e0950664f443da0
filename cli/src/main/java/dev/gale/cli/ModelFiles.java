package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.onnx.OnnxImporter;

import java.nio.file.Files;
import java.nio.file.Path;

/** Loads a model from an {@code .onnx} file or a Gale text-IR {@code .gir} file. */
final class ModelFiles {
    private ModelFiles() {}

    static Model load(Path file) {
        if (!Files.exists(file)) throw new GaleException(file + ": no such file");
        if (Files.isDirectory(file)) throw new GaleException(file + ": is a folder, expected a model file");
        String name = file.getFileName().toString();
        if (name.endsWith(".gir")) return TextModels.parse(file);
        return OnnxImporter.load(file);
    }
}
