package dev.gale.cli.bench;

import dev.gale.ir.GaleException;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where the benchmark's pieces are and how its workers start: Gale's workers as child JVMs with this JVM's flags and
 * class path plus ONNX Runtime (kept out of the CLI's own class path, in {@code cli/target/bench-lib}), PyTorch's as
 * {@code python3 scripts/bench_pytorch.py}, and the model export as {@code scripts/export_bench_models.py}.
 */
final class BenchEnvironment {
    private final Path scripts;
    private final String python;
    private final int threads;

    BenchEnvironment(Path scripts, int threads) {
        this.scripts = scripts != null ? scripts : findScripts();
        this.python = python();
        this.threads = threads;
        if (!Files.isRegularFile(this.scripts.resolve("bench_pytorch.py")))
            throw new GaleException(this.scripts + " has no bench_pytorch.py; point --scripts at Gale's scripts folder");
    }

    Path scripts() { return scripts; }

    /** Exports the named models into {@code dir} (the script skips folders that are up to date). */
    void export(Path dir, List<String> models, java.io.PrintWriter err) {
        List<String> cmd = List.of(python, scripts.resolve("export_bench_models.py").toString(), dir.toString(),
                "--models", String.join(",", models));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            List<String> lines = out.lines().filter(l -> l.startsWith("exported") || rc != 0).toList();
            for (String l : lines.subList(Math.max(0, lines.size() - 20), lines.size())) err.println("  " + l);
            err.flush();
            if (rc != 0)
                throw new GaleException("exporting the benchmark models failed (" + String.join(" ", cmd) + "); it needs "
                        + "python3 with torch, onnx and numpy (Debian: python3-torch python3-onnx python3-numpy)");
        } catch (IOException e) {
            throw new GaleException("cannot run " + python + " to export the benchmark models: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GaleException("interrupted while exporting the benchmark models");
        }
    }

    /** A Gale worker: {@code mainClass} in a child JVM with the benchmark's thread settings. */
    WorkerProcess javaWorker(String name, Class<?> mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent") && !a.startsWith("-Xrunjdwp")
                    && !a.startsWith("-Djava.util.concurrent.ForkJoinPool") && !a.startsWith("-Dgale.threads")
                    && !a.startsWith("-XX:ActiveProcessorCount"))
                cmd.add(a);
        if (cmd.stream().noneMatch(a -> a.contains("jdk.incubator.vector"))) {
            cmd.add("--add-modules");
            cmd.add("jdk.incubator.vector");
        }
        if (cmd.stream().noneMatch(a -> a.startsWith("--enable-native-access"))) cmd.add("--enable-native-access=ALL-UNNAMED");
        // Whatever sizes a pool from the processor count (the cpu backend's kernel pool, the common pool) sees
        // --threads, as ONNX Runtime's and PyTorch's pools do.
        cmd.add("-XX:ActiveProcessorCount=" + threads);
        cmd.add("-Dgale.threads=" + threads);
        cmd.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=" + threads);
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        return WorkerProcess.start(name, cmd, Map.of(), Set.of());
    }

    /**
     * The PyTorch worker on one model folder and batch (it sets up OpenBLAS and jemalloc itself), without the
     * {@code MALLOC_ARENA_MAX} that the {@code gale} launcher sets for Gale's JVMs: the peer keeps its own setup.
     */
    WorkerProcess pytorchWorker(Path folder, int batch) {
        List<String> cmd = List.of(python, scripts.resolve("bench_pytorch.py").toString(), folder.toString(), "--batch",
                Integer.toString(batch), "--threads", Integer.toString(threads), "--serve");
        return WorkerProcess.start("pytorch", cmd, Map.of("PYTHONUNBUFFERED", "1"), Set.of("MALLOC_ARENA_MAX"));
    }

    /** This JVM's class path plus ONNX Runtime's jars from {@code bench-lib} beside Gale's jar or classes. */
    static String classPath() {
        List<String> parts = new ArrayList<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        Path lib = benchLib();
        if (lib != null) {
            try (Stream<Path> jars = Files.list(lib)) {
                jars.filter(j -> j.toString().endsWith(".jar")).sorted().forEach(j -> parts.add(j.toString()));
            } catch (IOException ignored) {
                // without the folder the forward worker reports ONNX Runtime as missing
            }
        }
        return String.join(File.pathSeparator, parts);
    }

    private static Path codeLocation() {
        try {
            return Path.of(BenchEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | NullPointerException | SecurityException e) {
            return null;
        }
    }

    private static Path benchLib() {
        Path code = codeLocation();
        if (code == null || code.getParent() == null) return null;
        Path lib = code.getParent().resolve("bench-lib"); // cli/target/gale-cli.jar or cli/target/classes
        return Files.isDirectory(lib) ? lib : null;
    }

    private static Path findScripts() {
        String root = System.getProperty("gale.root");
        if (root != null && Files.isRegularFile(Path.of(root, "scripts", "bench_pytorch.py"))) return Path.of(root, "scripts");
        for (Path p = codeLocation(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("scripts").resolve("bench_pytorch.py"))) return p.resolve("scripts");
        throw new GaleException("cannot find Gale's scripts folder (with bench_pytorch.py) above "
                + codeLocation() + "; give it with --scripts DIR");
    }

    private static String python() {
        String env = System.getenv("GALE_PYTHON");
        if (env != null && !env.isBlank()) return env;
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }
}
