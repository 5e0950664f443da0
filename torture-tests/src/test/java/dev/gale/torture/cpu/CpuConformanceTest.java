package dev.gale.torture.cpu;

import dev.gale.backends.Backends;
import dev.gale.backends.cpu.runtime.RuntimeStats;
import dev.gale.cli.conformance.ConformanceReport;
import dev.gale.cli.conformance.ConformanceRunner;
import dev.gale.cli.conformance.TestOutcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's ONNX conformance suites on the {@code cpu} backend: the pass count must stay at or above the floor in
 * {@code cpu-conformance-floor.properties}. Prints the failures by op, and which ops the runtime ran with its own
 * steps and which fell back to the interpreter's kernels (nodes counted over every plan the suite built).
 */
class CpuConformanceTest {
    static final Path DATA = Path.of(System.getProperty("gale.onnx.testdata", "/usr/share/libonnx-testdata/data"));

    @ParameterizedTest
    @ValueSource(strings = {"node", "simple", "pytorch-converted", "pytorch-operator"})
    void passCountStaysAboveFloor(String suite) throws IOException {
        Path dir = DATA.resolve(suite);
        assertTrue(Files.isDirectory(dir), dir + " is missing: install Debian's libonnx-testdata (.ci/run does)");
        RuntimeStats.reset();
        List<TestOutcome> outcomes = new ConformanceRunner(Backends.get("cpu"), 120).runAll(dir, o -> { });
        ConformanceReport report = new ConformanceReport(outcomes);
        System.out.println("cpu conformance " + suite + ": " + report.summary());
        for (Map.Entry<String, List<String>> e : report.failuresByOp().entrySet())
            System.out.println("  failing " + e.getKey() + " (" + e.getValue().size() + "): " + e.getValue());
        System.out.println("  native nodes by op: " + RuntimeStats.nativeOps());
        System.out.println("  fallback nodes by op: " + RuntimeStats.fallbackOps());
        long floor = floor(suite);
        assertTrue(report.passed() >= floor, suite + ": " + report.passed() + " tests passed on cpu, below the floor of "
                + floor + " in cpu-conformance-floor.properties");
    }

    static long floor(String suite) throws IOException {
        Properties p = new Properties();
        try (InputStream in = CpuConformanceTest.class.getResourceAsStream("/cpu-conformance-floor.properties")) {
            p.load(in);
        }
        return Long.parseLong(p.getProperty(suite + ".passed", "0"));
    }
}
