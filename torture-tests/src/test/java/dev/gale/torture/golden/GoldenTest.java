package dev.gale.torture.golden;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextParser;
import dev.gale.ir.text.TextPrinter;
import dev.gale.passes.memory.MemoryPlan;
import dev.gale.passes.memory.MemoryPlanner;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.torture.passes.PassDifferential;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Golden text-IR tests (STYLE.md convention 7). Each {@code golden/**}{@code /NAME.gir} holds cases split by
 * {@code // -----}; {@code NAME.gir.expected} holds, case by case in the same order, what the case printed. An
 * optional first line says what to run:
 * <ul>
 *   <li>{@code // RUN: print [--inline-weights]} (the default): parse, then print ({@code print --passes=P,P} is
 *       another way to write {@code pipeline P,P});</li>
 *   <li>{@code // RUN: pipeline PASS,PASS,... [--inline-weights] [KEY=VALUE ...]}: parse, run the passes (by their
 *       {@link PassRegistry} names, as one {@link Pipeline} with verification after each pass; {@code KEY=VALUE}
 *       words are pass options), then print the result. The result must also compute what the input computed:
 *       both run on the interpreter with seeded random inputs ({@link PassDifferential#compareOnRandomInputs}) when
 *       every input has a static shape and the input graph runs. A memory plan the passes leave follows the graph
 *       as {@code // memory-plan:} comment lines. Pass golden files live in {@code golden/passes/}, one per
 *       pass.</li>
 * </ul>
 *
 * <p>A case that must fail marks the line of the error inline, MLIR style:
 * {@code // expected-error@+1 {{use of undefined value}}} (the error is on the next line; {@code @+0} or no offset:
 * this line); its expected output is the message, {@code // error: NAME.gir:LINE:COL: ...}. A pass that rejects
 * the graph prints {@code // error: in pass 'P': ...}; when the message names a node, the marker must point at the
 * line that defines it. Every case that parses must also read back from its fully inlined print to an equal model.
 *
 * <p>Bless: {@code scripts/bless-golden.sh} (that is, this test with {@code -Dgale.bless=true}) rewrites the
 * {@code .expected} files from what the code prints now; review the diff.
 */
class GoldenTest {
    static final String SEPARATOR = "// -----";
    private static final Pattern EXPECTED_ERROR =
            Pattern.compile("//\\s*expected-error(?:@([+-]\\d+))?\\s*\\{\\{(.*?)}}");
    private static final Pattern ERROR_AT = Pattern.compile("^[^:]+:(\\d+):\\d+: ");

    static Path goldenDir() {
        return Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/golden");
    }

    record Case(int index, int firstLine, String text) {}

    record ExpectedError(int line, String substring) {}

    /** What a file's {@code // RUN:} line asks for: print options and, for pass tests, a pipeline and its options. */
    record Run(PrintOptions print, String pipeline, Map<String, String> passOptions) {}

    /** A case's printed output, and for pipeline cases that ran, the model before and after the passes. */
    record Output(String text, Model before, Model after) {
        static Output error(String message) { return new Output("// error: " + message, null, null); }

        boolean isError() { return text.startsWith("// error: "); }
    }

    @TestFactory
    Stream<DynamicNode> goldenFiles() throws IOException {
        boolean bless = Boolean.getBoolean("gale.bless");
        List<DynamicNode> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(goldenDir())) {
            for (Path file : s.filter(p -> p.toString().endsWith(".gir")).sorted().toList())
                files.add(runFile(file, bless));
        }
        assertFalse(files.isEmpty(), "no golden files under " + goldenDir());
        return files.stream();
    }

    private DynamicContainer runFile(Path file, boolean bless) throws IOException {
        String name = file.getFileName().toString();
        String path = goldenDir().relativize(file).toString();
        String content = Files.readString(file, StandardCharsets.UTF_8);
        Run run;
        try {
            run = runSpec(content, name);
        } catch (AssertionError e) { // a bad RUN line fails this file only
            return DynamicContainer.dynamicContainer(path, List.of(DynamicTest.dynamicTest(path + ": RUN line", () -> {
                throw e;
            })));
        }
        List<Case> cases = split(content);
        List<Output> outputs = new ArrayList<>();
        for (Case c : cases) outputs.add(run(c, name, run));
        List<String> actual = outputs.stream().map(Output::text).toList();
        Path expectedFile = file.resolveSibling(name + ".expected");
        String actualText = String.join("\n" + SEPARATOR + "\n", actual);
        if (bless) Files.writeString(expectedFile, actualText, StandardCharsets.UTF_8);
        List<String> expected = new ArrayList<>();
        if (Files.exists(expectedFile))
            for (Case c : split(Files.readString(expectedFile, StandardCharsets.UTF_8))) expected.add(c.text().strip());
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases) {
            String label = path + " case " + (c.index() + 1) + " (line " + c.firstLine() + ")";
            tests.add(DynamicTest.dynamicTest(label, () -> {
                checkCase(c, name, outputs.get(c.index()), run);
                assertTrue(c.index() < expected.size(), expectedFile.getFileName() + " has no case " + (c.index() + 1)
                        + "; run with -Dgale.bless=true to write it");
                assertEquals(expected.get(c.index()), actual.get(c.index()).strip(), label + " prints differently "
                        + "(if the new text is right, rerun with -Dgale.bless=true and review the diff)");
            }));
        }
        tests.add(DynamicTest.dynamicTest(name + ": case count", () -> assertEquals(cases.size(), expected.size(),
                expectedFile.getFileName() + " has " + expected.size() + " cases, " + name + " has " + cases.size())));
        return DynamicContainer.dynamicContainer(path, tests);
    }

    /** The case's output: its printed form (after the pipeline, if any), or {@code // error: ...}. */
    static Output run(Case c, String name, Run run) {
        Model m;
        try {
            m = parse(c, name);
        } catch (GaleException e) {
            return Output.error(e.getMessage());
        }
        if (run.pipeline() == null) return new Output(TextPrinter.print(m, run.print()).strip(), null, null);
        Pipeline pipeline;
        try {
            pipeline = PassRegistry.parse(run.pipeline());
        } catch (GaleException e) {
            return Output.error("RUN line: " + e.getMessage());
        }
        String[] last = {null};
        Model after;
        PassContext ctx = new PassContext(run.passOptions());
        try {
            after = m.withGraph(pipeline.run(m.graph(), ctx, true, (pass, g) -> last[0] = pass).graph());
        } catch (GaleException e) {
            return Output.error(e.getMessage().startsWith("after pass '") || e.getMessage().startsWith("pipeline [")
                    ? e.getMessage() : "in pass '" + failingPass(pipeline, last[0]) + "': " + e.getMessage());
        } catch (RuntimeException | StackOverflowError e) { // a pass bug: this case fails, the others still run
            return Output.error("crash in pass '" + failingPass(pipeline, last[0]) + "': " + e);
        }
        String text = TextPrinter.print(after, run.print()).strip();
        if (ctx.get(MemoryPlanner.PLAN_KEY) instanceof MemoryPlan plan)
            text += "\n" + PLAN_MARKER + "\n" + plan.toJson().strip().replaceAll("(?m)^", "// ");
        return new Output(text, m, after);
    }

    /** Where the memory plan, as comment lines, follows the printed graph. */
    static final String PLAN_MARKER = "// memory-plan:";

    /** The pass after {@code lastDone} (null: none done yet), the one that threw. */
    private static String failingPass(Pipeline p, String lastDone) {
        List<String> names = p.passes().stream().map(dev.gale.passes.pipeline.Pass::name).toList();
        return lastDone == null ? names.get(0) : names.get(Math.min(names.indexOf(lastDone) + 1, names.size() - 1));
    }

    /** Parses a case with its lines numbered as in the file, so errors point into the golden file. */
    static Model parse(Case c, String name) {
        return TextParser.parse("\n".repeat(c.firstLine() - 1) + c.text(), name);
    }

    private static void checkCase(Case c, String name, Output out, Run run) {
        List<ExpectedError> errors = expectedErrors(c);
        String output = out.text();
        if (out.isError()) {
            String message = output.substring("// error: ".length());
            assertFalse(errors.isEmpty(), "unexpected error: " + message + " (mark it with // expected-error)");
            ExpectedError want = errors.get(0);
            Matcher m = ERROR_AT.matcher(message);
            int line = m.find() ? Integer.parseInt(m.group(1)) : nodeLine(c, message);
            assertTrue(line > 0 || message.startsWith("in pass '") || message.startsWith("after pass '")
                    || message.startsWith("pipeline ["), "error without a line: " + message);
            if (line > 0) assertEquals(want.line(), line, "error on another line: " + message);
            assertTrue(message.contains(want.substring()),
                    "error should mention '" + want.substring() + "': " + message);
            return;
        }
        assertTrue(errors.isEmpty(), "expected an error on line " + (errors.isEmpty() ? 0 : errors.get(0).line())
                + " but the case " + (run.pipeline() == null ? "parsed" : "went through the pipeline"));
        Model m = parse(c, name);
        Model back = TextParser.parse(TextPrinter.print(m, PrintOptions.INLINE), name + " (inlined print)");
        assertEquals(m, back, "parse(print(m, inline)) differs from m");
        if (out.after() != null) {
            String diff = PassDifferential.compareOnRandomInputs(out.before(), out.after(), c.index());
            assertNull(diff, "the pipeline changed what the graph computes: " + diff);
        }
        if (!run.print().inlineWeights() && output.contains(" elided {")) return;
        String graph = output.contains(PLAN_MARKER) ? output.substring(0, output.indexOf(PLAN_MARKER)).strip() : output;
        assertEquals(graph, TextPrinter.print(TextParser.parse(graph, name + " (printed)"), run.print()).strip(),
                "printing is not a fixed point");
    }

    private static final Pattern NODE_REF = Pattern.compile("node '([^']+)'");

    /** The file line that defines the node a pass error names ({@code %name ... =} or {@code @name}), or -1. */
    static int nodeLine(Case c, String message) {
        Matcher m = NODE_REF.matcher(message);
        if (!m.find()) return -1;
        Pattern def = Pattern.compile("%" + Pattern.quote(m.group(1)) + "(?![\\w.])");
        Pattern named = Pattern.compile("@" + Pattern.quote(m.group(1)) + "\\s*$");
        String[] lines = c.text().split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            int eq = line.indexOf(" = ");
            if (line.startsWith("//") || eq < 0) continue;
            if (def.matcher(line.substring(0, eq)).find() || named.matcher(line).find()) return c.firstLine() + i;
        }
        return -1;
    }

    static List<ExpectedError> expectedErrors(Case c) {
        List<ExpectedError> r = new ArrayList<>();
        String[] lines = c.text().split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher m = EXPECTED_ERROR.matcher(lines[i]);
            if (m.find()) {
                int offset = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
                r.add(new ExpectedError(c.firstLine() + i + offset, m.group(2).strip()));
            }
        }
        return r;
    }

    static Run runSpec(String content, String name) {
        String first = content.lines().findFirst().orElse("");
        if (!first.startsWith("// RUN:")) return new Run(PrintOptions.SUMMARY, null, Map.of());
        List<String> words = List.of(first.substring("// RUN:".length()).trim().split("\\s+"));
        String pipeline = null;
        int from = 1;
        switch (words.get(0)) {
            case "print" -> { }
            case "pipeline" -> {
                if (words.size() < 2) fail(name + ": '// RUN: pipeline' needs a pass list, e.g. fold,cse,dce");
                pipeline = words.get(1);
                from = 2;
            }
            default -> fail(name + ": unknown RUN command '" + words.get(0) + "' (known: print, pipeline)");
        }
        PrintOptions o = PrintOptions.SUMMARY;
        Map<String, String> passOptions = new TreeMap<>();
        for (String w : words.subList(from, words.size())) {
            if (w.equals("--inline-weights")) o = PrintOptions.INLINE;
            else if (pipeline == null && w.startsWith("--passes=")) pipeline = w.substring("--passes=".length());
            else if (pipeline != null && w.indexOf('=') > 0) passOptions.put(w.substring(0, w.indexOf('=')),
                    w.substring(w.indexOf('=') + 1));
            else fail(name + ": unknown " + words.get(0) + " option '" + w + "'");
        }
        return new Run(o, pipeline, passOptions);
    }

    /** Splits at {@code // -----} lines, remembering where each case starts (1-based line). */
    static List<Case> split(String content) {
        List<Case> cases = new ArrayList<>();
        String[] lines = content.split("\n", -1);
        StringBuilder cur = new StringBuilder();
        int start = 1;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].strip().equals(SEPARATOR)) {
                cases.add(new Case(cases.size(), start, cur.toString()));
                cur.setLength(0);
                start = i + 2;
            } else {
                cur.append(lines[i]).append('\n');
            }
        }
        if (!cur.toString().isBlank() || cases.isEmpty()) cases.add(new Case(cases.size(), start, cur.toString()));
        return cases;
    }
}
