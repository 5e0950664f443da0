package dev.gale.torture;

import dev.gale.backends.Backends;
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
 * Runs Debian's ONNX conformance suites ({@code libonnx-testdata}) on the reference interpreter and fails when the
 * pass count drops below the floor kept in {@code conformance-floor.properties}.
 */
class ConformanceSuiteTest {
    @ParameterizedTest
    @ValueSource(strings = {"node", "simple", "pytorch-converted", "pytorch-operator"})
    void passCountStaysAboveFloor(String suite) throws IOException {
        Path dir = ConformanceModels.DATA.resolve(suite);
        assertTrue(Files.isDirectory(dir), dir + " is missing: install Debian's libonnx-testdata (.ci/run does)");
        List<TestOutcome> outcomes = new ConformanceRunner(Backends.get("interp"), 120).runAll(dir, o -> { });
        ConformanceReport report = new ConformanceReport(outcomes);
        System.out.println("conformance " + suite + ": " + report.summary());
        for (Map.Entry<String, List<String>> e : report.failuresByOp().entrySet())
            System.out.println("  " + e.getKey() + " (" + e.getValue().size() + ")");
        long floor = floor(suite);
        assertTrue(report.passed() >= floor, suite + ": " + report.passed() + " tests passed, below the floor of "
                + floor + " in conformance-floor.properties");
    }

    static long floor(String suite) throws IOException {
        Properties p = new Properties();
        try (InputStream in = ConformanceSuiteTest.class.getResourceAsStream("/conformance-floor.properties")) {
            p.load(in);
        }
        return Long.parseLong(p.getProperty(suite + ".passed", "0"));
    }
}
