package dev.gale.torture.golden;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextParser;
import dev.gale.ir.text.TextPrinter;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Golden text-IR tests (STYLE.md convention 7). Each {@code golden/NAME.gir} holds cases split by {@code // -----};
 * {@code NAME.gir.expected} holds, case by case in the same order, what the pipeline printed. An optional first line
 * {@code // RUN: print [--inline-weights] [--passes=fold,cse]} says what to run: parse, run the passes (verified),
 * print.
 *
 * <p>A case that must fail marks the line of the error inline, MLIR style:
 * {@code // expected-error@+1 {{use of undefined value}}} (the error is on the next line; {@code @+0} or no offset:
 * this line); its expected output is the message, {@code // error: NAME.gir:LINE:COL: ...}. Every case that parses
 * must also read back from its fully inlined print to an equal model.
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

    @TestFactory
    Stream<DynamicNode> goldenFiles() throws IOException {
        boolean bless = Boolean.getBoolean("gale.bless");
        List<DynamicNode> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(goldenDir())) {
            for (Path file : s.filter(p -> p.toString().endsWith(".gir")).sorted().toList())
                files.add(runFile(file, bless));
        }
        assertFalse(files.isEmpty(), "no golden files under " + goldenDir());
        return files.stream();
    }

    private DynamicContainer runFile(Path file, boolean bless) throws IOException {
        String name = file.getFileName().toString();
        String content = Files.readString(file, StandardCharsets.UTF_8);
        PrintOptions options = runOptions(content, name);
        String passes = runPasses(content);
        List<Case> cases = split(content);
        List<String> actual = new ArrayList<>();
        for (Case c : cases) actual.add(run(c, name, options, passes));
        Path expectedFile = file.resolveSibling(name + ".expected");
        String actualText = String.join("\n" + SEPARATOR + "\n", actual);
        if (bless) Files.writeString(expectedFile, actualText, StandardCharsets.UTF_8);
        List<String> expected = new ArrayList<>();
        if (Files.exists(expectedFile))
            for (Case c : split(Files.readString(expectedFile, StandardCharsets.UTF_8))) expected.add(c.text().strip());
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases) {
            String label = name + " case " + (c.index() + 1) + " (line " + c.firstLine() + ")";
            tests.add(DynamicTest.dynamicTest(label, () -> {
                checkCase(c, name, actual.get(c.index()), options);
                assertTrue(c.index() < expected.size(), expectedFile.getFileName() + " has no case " + (c.index() + 1)
                        + "; run with -Dgale.bless=true to write it");
                assertEquals(expected.get(c.index()), actual.get(c.index()).strip(), label + " prints differently "
                        + "(if the new text is right, rerun with -Dgale.bless=true and review the diff)");
            }));
        }
        tests.add(DynamicTest.dynamicTest(name + ": case count", () -> assertEquals(cases.size(), expected.size(),
                expectedFile.getFileName() + " has " + expected.size() + " cases, " + name + " has " + cases.size())));
        return DynamicContainer.dynamicContainer(name, tests);
    }

    /** The case's output: its printed form (after {@code passes}, if any), or {@code // error: ...}. */
    static String run(Case c, String name, PrintOptions options, String passes) {
        try {
            Model m = parse(c, name);
            if (passes != null)
                m = m.withGraph(PassRegistry.parse(passes).run(m.graph(), PassContext.defaults(), true, null).graph());
            return TextPrinter.print(m, options).strip();
        } catch (GaleException e) {
            return "// error: " + e.getMessage();
        }
    }

    /** Parses a case with its lines numbered as in the file, so errors point into the golden file. */
    static Model parse(Case c, String name) {
        return TextParser.parse("\n".repeat(c.firstLine() - 1) + c.text(), name);
    }

    private static void checkCase(Case c, String name, String output, PrintOptions options) {
        List<ExpectedError> errors = expectedErrors(c);
        if (output.startsWith("// error: ")) {
            String message = output.substring("// error: ".length());
            assertFalse(errors.isEmpty(), "unexpected error: " + message + " (mark it with // expected-error)");
            Matcher m = ERROR_AT.matcher(message);
            assertTrue(m.find(), "error without a line: " + message);
            ExpectedError want = errors.get(0);
            assertEquals(want.line(), Integer.parseInt(m.group(1)), "error on another line: " + message);
            assertTrue(message.contains(want.substring()),
                    "error should mention '" + want.substring() + "': " + message);
            return;
        }
        assertTrue(errors.isEmpty(), "expected an error on line " + (errors.isEmpty() ? 0 : errors.get(0).line())
                + " but the case parsed");
        Model m = parse(c, name);
        Model back = TextParser.parse(TextPrinter.print(m, PrintOptions.INLINE), name + " (inlined print)");
        assertEquals(m, back, "parse(print(m, inline)) differs from m");
        if (!options.inlineWeights() && output.contains(" elided {")) return;
        assertEquals(output, TextPrinter.print(TextParser.parse(output, name + " (printed)"), options).strip(),
                "printing is not a fixed point");
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

    static PrintOptions runOptions(String content, String name) {
        String first = content.lines().findFirst().orElse("");
        if (!first.startsWith("// RUN:")) return PrintOptions.SUMMARY;
        List<String> words = List.of(first.substring("// RUN:".length()).trim().split("\\s+"));
        if (!words.get(0).equals("print")) fail(name + ": unknown RUN command '" + words.get(0) + "' (known: print)");
        PrintOptions o = PrintOptions.SUMMARY;
        for (String w : words.subList(1, words.size())) {
            if (w.equals("--inline-weights")) o = PrintOptions.INLINE;
            else if (!w.startsWith("--passes=")) fail(name + ": unknown print option '" + w + "'");
        }
        return o;
    }

    /** The pipeline of {@code // RUN: print --passes=fold,cse} (run before printing), or null. */
    static String runPasses(String content) {
        String first = content.lines().findFirst().orElse("");
        if (!first.startsWith("// RUN:")) return null;
        for (String w : first.split("\\s+")) if (w.startsWith("--passes=")) return w.substring("--passes=".length());
        return null;
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
