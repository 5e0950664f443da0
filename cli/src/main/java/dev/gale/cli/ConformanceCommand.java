package dev.gale.cli;

import dev.gale.backends.Backends;
import dev.gale.cli.conformance.ConformanceReport;
import dev.gale.cli.conformance.ConformanceRunner;
import dev.gale.cli.conformance.TestOutcome;
import dev.gale.onnx.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gale conformance DIR...}: runs ONNX backend-test folders and reports pass, fail and unsupported. */
@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = "Run ONNX backend-test folders (model.onnx + test_data_set_N) and compare the outputs "
                + "(rtol 1e-3, atol 1e-7). Exits 0 even when tests fail.")
final class ConformanceCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Folders holding test folders.")
    List<Path> dirs;

    @Option(names = "--report", paramLabel = "FILE.json", description = "Write a JSON report.")
    Path report;

    @Option(names = "--backend", defaultValue = "interp", description = "Backend to test (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--timeout", defaultValue = "120", description = "Seconds allowed per test (default: ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = {"-q", "--quiet"}, description = "Print only failures and the summary.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ConformanceRunner runner = new ConformanceRunner(Backends.get(backend), timeout);
        List<TestOutcome> all = new ArrayList<>();
        for (Path dir : dirs) {
            List<TestOutcome> suite = runner.runAll(dir, o -> {
                if (!quiet || o.status() != TestOutcome.Status.PASS) {
                    out.println(o.status() + " " + o.name() + (o.message() == null ? "" : ": " + oneLine(o.message())));
                    out.flush();
                }
            });
            all.addAll(suite);
            out.println("== " + dir + ": " + new ConformanceReport(suite).summary());
        }
        ConformanceReport r = new ConformanceReport(all);
        out.println("== failures by op:");
        for (Map.Entry<String, List<String>> e : r.failuresByOp().entrySet())
            out.println("  " + e.getKey() + " (" + e.getValue().size() + "): " + String.join(" ", e.getValue()));
        out.println("== total: " + r.summary());
        if (report != null) AtomicFiles.write(report, r.toJson().getBytes(StandardCharsets.UTF_8));
        return 0;
    }

    private static String oneLine(String s) {
        String t = s.replace('\n', ' ');
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }
}
