package dev.gale.passes.partition;

import dev.gale.ir.Model;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextParser;
import dev.gale.ir.text.TextPrinter;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Golden text-IR cases of the partition pass (STYLE.md convention 7): {@code partition/partition.gir} holds input
 * graphs split by {@code // -----}; {@code partition.gir.expected} holds, case by case, what partitioning prints.
 * {@code -Dgale.bless=true} rewrites the expected file from what the code prints now; review the diff.
 */
class PartitionGoldenTest {
    static final String SEPARATOR = "// -----";

    static Path dir() { return Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/partition"); }

    @TestFactory
    Stream<DynamicTest> goldenCases() throws IOException {
        Path file = dir().resolve("partition.gir"), expectedFile = dir().resolve("partition.gir.expected");
        List<String> cases = split(Files.readString(file, StandardCharsets.UTF_8));
        List<String> actual = new ArrayList<>();
        for (String c : cases) actual.add(run(c));
        if (Boolean.getBoolean("gale.bless"))
            Files.writeString(expectedFile, String.join("\n" + SEPARATOR + "\n", actual) + "\n", StandardCharsets.UTF_8);
        List<String> expected = Files.exists(expectedFile)
                ? split(Files.readString(expectedFile, StandardCharsets.UTF_8)) : List.of();
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            int k = i;
            tests.add(DynamicTest.dynamicTest("partition.gir case " + (k + 1), () -> {
                assertTrue(k < expected.size(), "no expected output for case " + (k + 1) + "; bless to write it");
                assertEquals(expected.get(k).strip(), actual.get(k).strip(), "case " + (k + 1) + " partitions "
                        + "differently (if the new text is right, rerun with -Dgale.bless=true and review the diff)");
            }));
        }
        tests.add(DynamicTest.dynamicTest("case count", () -> assertEquals(cases.size(), expected.size())));
        return tests.stream();
    }

    /** Parses a case, partitions it and prints the result after the comment that describes the case. */
    private static String run(String text) {
        Model m = TextParser.parse(text);
        StringBuilder sb = new StringBuilder();
        for (String line : text.strip().split("\n")) {
            if (line.isBlank()) sb.setLength(0); // a file header ends at a blank line
            else if (line.startsWith("//")) sb.append(line).append('\n');
        }
        return sb + TextPrinter.print(m.withGraph(Partition.apply(m.graph())), PrintOptions.SUMMARY).strip();
    }

    private static List<String> split(String content) {
        List<String> cases = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : content.split("\n", -1)) {
            if (line.strip().equals(SEPARATOR)) {
                cases.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(line).append('\n');
            }
        }
        if (!cur.toString().isBlank()) cases.add(cur.toString());
        return cases;
    }
}
