package dev.gale.ir.text;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.UnsupportedException;
import dev.gale.ir.Verifier;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Gale text IR (see {@link TextPrinter} and {@code GaleIR.g4} for the syntax) into a {@link Model}, the way the
 * ONNX importer reads a model: the types written in the text, then {@link ShapeInference} and the {@link Verifier}.
 * Every error names the place: {@code file:line:col: message}.
 *
 * <p>Tensors printed as {@code elided {...}} summaries have no data, so the parser refuses them, naming the
 * tensor and pointing at {@code --inline-weights}. Node inputs get the types of their definitions ({@link UseTypes}).
 */
public final class TextParser {
    private TextParser() {}

    /** Reads a {@code .gir} file. */
    public static Model parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new GaleException(file + ": not a text IR file (not valid UTF-8)");
        } catch (IOException e) {
            throw new GaleException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    public static Model parse(String text) { return parse(text, "<text>"); }

    /** Parses {@code text}; {@code source} names it in error messages. */
    public static Model parse(String text, String source) {
        GaleIRParser.Module_Context tree = syntaxTree(text, source);
        GraphReader reader = new GraphReader(source, true);
        Graph raw = reader.graph(tree.graph(), java.util.Set.of());
        Model header = header(tree.modelHeader(), raw, reader);
        Graph typed;
        try {
            typed = ShapeInference.run(raw);
            Verifier.verify(typed);
        } catch (GaleException e) {
            Token at = reader.locate(e.getMessage());
            String msg = at == null ? source + ": " + e.getMessage() : reader.where(at) + ": " + e.getMessage();
            throw e instanceof UnsupportedException ? new UnsupportedException(msg) : new GaleException(msg, e);
        }
        return new Model(UseTypes.refresh(typed, Map.of()), header.opsets(), header.producer(), header.metadata());
    }

    /**
     * Reads the text as written, without the op table: no op lookup, type inference or verification, only syntax,
     * literals and the scoping of values. For tests and tools that handle ops Gale does not know; node inputs carry
     * the types written at their definitions.
     */
    public static Model parseUnverified(String text, String source) {
        GaleIRParser.Module_Context tree = syntaxTree(text, source);
        GraphReader reader = new GraphReader(source, false);
        Graph raw = reader.graph(tree.graph(), java.util.Set.of());
        Model header = header(tree.modelHeader(), raw, reader);
        return new Model(UseTypes.refresh(raw, Map.of()), header.opsets(), header.producer(), header.metadata());
    }

    /** What a model header's absent fields mean: {@link Model#of}'s opsets and producer, no metadata. */
    static Model defaultModel(Graph g) { return Model.of(g); }

    private static GaleIRParser.Module_Context syntaxTree(String text, String source) {
        BaseErrorListener fail = new BaseErrorListener() {
            @Override
            public void syntaxError(Recognizer<?, ?> r, Object offending, int line, int col, String msg,
                                    RecognitionException e) {
                throw new GaleException(source + ":" + line + ":" + (col + 1) + ": " + SyntaxMessages.simplify(msg));
            }
        };
        GaleIRLexer lexer = new GaleIRLexer(CharStreams.fromString(text, source));
        lexer.removeErrorListeners();
        lexer.addErrorListener(fail);
        GaleIRParser parser = new GaleIRParser(new CommonTokenStream(lexer));
        parser.removeErrorListeners();
        parser.addErrorListener(fail);
        return parser.module_();
    }

    private static Model header(GaleIRParser.ModelHeaderContext ctx, Graph g, GraphReader r) {
        Model d = defaultModel(g);
        if (ctx == null) return d;
        Map<String, Integer> opsets = d.opsets();
        String producer = d.producer();
        Map<String, String> metadata = d.metadata();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (GaleIRParser.ModelFieldContext f : ctx.modelField()) {
            String field = f.name().getText();
            if (!seen.add(field)) throw r.error(f.start, "model field '" + field + "' is given twice");
            switch (field) {
                case "producer" -> {
                    if (f.STRING() == null) throw r.error(f.start, "producer must be a string: producer = \"...\"");
                    producer = TextSyntax.unquote(f.STRING().getText());
                }
                case "opsets" -> {
                    opsets = new HashMap<>();
                    for (GaleIRParser.MapEntryContext e : entries(f, r, "opsets = {\"\" = 18}")) {
                        if (e.INT() == null) throw r.error(e.start, "an opset version is an integer");
                        opsets.put(TextSyntax.unquote(e.STRING(0).getText()), r.intValue(e.INT().getSymbol()));
                    }
                }
                case "metadata" -> {
                    metadata = new HashMap<>();
                    for (GaleIRParser.MapEntryContext e : entries(f, r, "metadata = {\"key\" = \"value\"}")) {
                        if (e.STRING().size() != 2) throw r.error(e.start, "a metadata value is a string");
                        metadata.put(TextSyntax.unquote(e.STRING(0).getText()),
                                TextSyntax.unquote(e.STRING(1).getText()));
                    }
                }
                default -> throw r.error(f.start, "unknown model field '" + field
                        + "'; the header has opsets, producer and metadata");
            }
        }
        return new Model(g, opsets, producer, metadata);
    }

    private static List<GaleIRParser.MapEntryContext> entries(GaleIRParser.ModelFieldContext f, GraphReader r,
                                                               String example) {
        if (f.STRING() != null) throw r.error(f.start, "expected a map: " + example);
        return f.mapEntry();
    }
}
