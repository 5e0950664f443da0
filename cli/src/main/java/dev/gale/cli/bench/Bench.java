package dev.gale.cli.bench;

import dev.gale.cli.Json;
import dev.gale.ir.GaleException;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point of {@code gale bench}: checks the options, runs the {@link BenchRunner}, prints a line per comparison
 * and writes the JSON report.
 *
 * <pre>{@code
 * gale bench --models mlp,cnn --threads 2 --runs 10 --warmup 3 --backend interp --report bench.json
 * }</pre>
 */
public final class Bench {
    private Bench() {}

    /** The command's options; null where not given. */
    public record Options(List<String> models, int threads, int runs, int warmup, String backend, Path report,
                          Path modelsDir, Path scripts, double warmupSeconds, double runMillis) {}

    public static int run(Options o, PrintWriter out, PrintWriter err) {
        List<String> models = o.models() == null || o.models().isEmpty() ? BenchModel.ALL : o.models();
        for (String m : models)
            if (!BenchModel.ALL.contains(m))
                throw new GaleException("--models: unknown model '" + m + "'; known: " + String.join(", ", BenchModel.ALL));
        if (o.threads() < 1) throw new GaleException("--threads must be at least 1, got " + o.threads());
        if (o.runs() < 1) throw new GaleException("--runs must be at least 1, got " + o.runs());
        if (o.warmup() < 1)
            throw new GaleException("--warmup must be at least 1 (the first run includes session setup), got " + o.warmup());
        if (!(o.warmupSeconds() >= 0)) throw new GaleException("--warmup-seconds must be 0 or more, got " + o.warmupSeconds());
        if (!(o.runMillis() > 0)) throw new GaleException("--run-ms must be positive, got " + o.runMillis());
        dev.gale.backends.Backends.get(o.backend()); // an unknown backend fails here, before any export
        Path dir = o.modelsDir() != null ? o.modelsDir() : defaultModelsDir();
        BenchRunner.Settings s = new BenchRunner.Settings(models, o.threads(), o.runs(), o.warmup(), o.backend(), dir,
                o.warmupSeconds(), o.runMillis());
        BenchEnvironment env = new BenchEnvironment(o.scripts(), o.threads());

        out.printf("gale bench: backend %s, %d threads, %d timed runs of about %.0f ms of steps each, after at least %d "
                        + "warmup runs and %.1f s per side; models in %s%n",
                o.backend(), o.threads(), o.runs(), o.runMillis(), o.warmup(), o.warmupSeconds(), dir);
        out.println("times are per step; ratio = Gale / peer (above 1: Gale slower or larger); median over paired runs, "
                + "IQR, min, max");
        out.flush();
        String loadBefore = loadAverage();
        warnIfBusy(loadBefore, err);
        BenchRunner runner = new BenchRunner(s, env, out, err);
        List<BenchResult> results = runner.run();
        String loadAfter = loadAverage();

        Map<String, Object> peers = new LinkedHashMap<>(runner.peers());
        peers.remove("pytorch_warned");
        for (Map.Entry<String, Object> e : peers.entrySet()) out.println("peer " + e.getKey() + ": " + e.getValue());
        long failed = results.stream().filter(r -> r.error() != null).count();
        if (failed > 0) out.println(failed + " of " + results.size() + " comparisons could not be made (see above)");
        out.println("load average (1, 5, 15 min) before: " + loadBefore + ", after: " + loadAfter + " on "
                + Runtime.getRuntime().availableProcessors() + " CPUs");
        if (o.report() != null) writeReport(o, s, peers, results, loadBefore, loadAfter, runner.roundTrips());
        return 0;
    }

    /** The first three fields of /proc/loadavg, or "unknown". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void warnIfBusy(String load, PrintWriter err) {
        try {
            double one = Double.parseDouble(load.split(" ")[0]);
            int cpus = Runtime.getRuntime().availableProcessors();
            if (one > cpus) {
                err.printf("gale bench: warning: the machine is busy (load %.1f on %d CPUs); thread pools that spin "
                        + "(OpenMP, OpenBLAS, ONNX Runtime) lose most from that; read the ratios with care%n", one, cpus);
                err.flush();
            }
        } catch (RuntimeException ignored) {
            // no load average: no warning
        }
    }

    private static Path defaultModelsDir() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("gale").resolve("bench-models");
    }

    private static void writeReport(Options o, BenchRunner.Settings s, Map<String, Object> peers,
                                    List<BenchResult> results, String loadBefore, String loadAfter,
                                    Map<String, List<Double>> roundTrips) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("models", s.models());
        settings.put("threads", s.threads());
        settings.put("runs", s.runs());
        settings.put("warmup", s.warmup());
        settings.put("warmup_seconds", s.warmupSeconds());
        settings.put("run_ms", s.runMillis());
        settings.put("backend", s.backend());
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("java", Runtime.version().toString());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("cpus", Runtime.getRuntime().availableProcessors());
        env.put("load_average_before", loadBefore);
        env.put("load_average_after", loadAfter);
        env.put("core_round_trip_ns", roundTrips);
        env.put("peers", peers);
        List<Object> rs = new ArrayList<>();
        for (BenchResult r : results) rs.add(r.toJson());
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("settings", settings);
        report.put("environment", env);
        report.put("ratio", "gale / peer, per pair of runs taken back to back; above 1: Gale slower or larger");
        report.put("results", rs);
        try {
            if (o.report().getParent() != null) Files.createDirectories(o.report().getParent());
            Files.writeString(o.report(), Json.write(report), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new GaleException("cannot write the report " + o.report() + ": " + e.getMessage());
        }
    }
}
