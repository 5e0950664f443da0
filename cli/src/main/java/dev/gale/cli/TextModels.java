package dev.gale.cli;

import dev.gale.ir.Model;
import dev.gale.ir.text.TextParser;

import java.nio.file.Path;

/** Reads {@code .gir} text IR files; errors name {@code file:line:col}. */
final class TextModels {
    private TextModels() {}

    static Model parse(Path file) { return TextParser.parse(file); }
}
