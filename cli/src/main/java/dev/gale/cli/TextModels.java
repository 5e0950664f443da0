package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;

import java.nio.file.Path;

/** Reads {@code .gir} text IR files (the text-IR parser lands with the text format). */
final class TextModels {
    private TextModels() {}

    static Model parse(Path file) {
        throw new GaleException(file + ": reading .gir text IR is not available in this build");
    }
}
