package dev.gale.cli.bench;

import dev.gale.ir.GaleException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A measuring process driven over stdin/stdout lines: the Gale workers ({@link TrainWorker}, {@link ForwardWorker})
 * and scripts/bench_pytorch.py speak the same protocol. The worker prints {@code ready<TAB>key=value...} once set
 * up; {@code CMD N} answers {@code times<TAB>t1 ... tN} (seconds, timed inside the worker, so the pipe is not
 * counted), a JVM worker adding {@code <TAB>jit_ms=MS} (its JIT's compilation time so far) and
 * {@code <TAB>alloc_b=B} (heap bytes allocated per run in that block); {@code mem} answers
 * {@code mem<TAB>VmHWM_kB<TAB>VmRSS_kB}; {@code quit} ends it. Its stderr goes to a log file whose tail is shown when
 * it fails.
 */
final class WorkerProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final Path log;
    private final Map<String, String> info;

    private WorkerProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        this.info = parseReady(expect("ready"));
    }

    /** Starts {@code command}, with {@code env} added to this process's environment less {@code unset}, and waits for its ready line. */
    static WorkerProcess start(String name, List<String> command, Map<String, String> env, Set<String> unset) {
        Path log;
        try {
            log = Files.createTempFile("gale-bench-" + name.replaceAll("[^A-Za-z0-9]+", "-"), ".log");
        } catch (IOException e) {
            throw new GaleException("cannot create a log file for the " + name + " worker: " + e.getMessage());
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
        pb.environment().putAll(env);
        pb.environment().keySet().removeAll(unset);
        try {
            return new WorkerProcess(name, pb.start(), log);
        } catch (IOException e) {
            throw new GaleException("cannot start the " + name + " worker (" + command.getFirst() + "): " + e.getMessage());
        }
    }

    String name() { return name; }

    /** What the worker said about itself when it was ready. */
    Map<String, String> info() { return info; }

    /** Sends {@code command count} and returns the {@code count} per-run times in seconds. */
    double[] times(String command, int count) {
        in.println(command + " " + count);
        String[] answer = expect("times");
        String[] f = answer[1].trim().split(" ");
        if (f.length != count) throw failure("answered " + f.length + " times for " + count + " runs");
        double[] t = new double[count];
        for (int i = 0; i < count; i++) t[i] = Double.parseDouble(f[i]);
        jitMillis = -1;
        allocatedPerRun = -1;
        for (int i = 2; i < answer.length; i++) {
            if (answer[i].startsWith("jit_ms=")) jitMillis = Long.parseLong(answer[i].substring("jit_ms=".length()).trim());
            if (answer[i].startsWith("alloc_b="))
                allocatedPerRun = Long.parseLong(answer[i].substring("alloc_b=".length()).trim());
        }
        return t;
    }

    private long jitMillis = -1, allocatedPerRun = -1;

    /** Heap bytes per run the worker allocated in the last {@link #times} (a JVM worker says so), or -1. */
    long allocatedPerRun() { return allocatedPerRun; }

    /**
     * The worker's JIT compilation time in total (ms) when it answered the last {@link #times} (a JVM worker says
     * so), or -1 where it does not say (the PyTorch worker).
     */
    long jitMillis() { return jitMillis; }

    /** Peak and current resident memory of the worker, in kB. */
    long[] memory() {
        in.println("mem");
        String[] f = expect("mem");
        return new long[] {Long.parseLong(f[1].trim()), Long.parseLong(f[2].trim())};
    }

    /** Sends a command whose one-line answer starts with {@code tag}; returns the answer's fields. */
    String[] ask(String command, String tag) {
        in.println(command);
        return expect(tag);
    }

    private String[] expect(String tag) {
        String line;
        try {
            line = out.readLine();
        } catch (IOException e) {
            throw failure("cannot be read: " + e.getMessage());
        }
        if (line == null) throw failure("ended");
        String[] f = line.split("\t");
        if (f[0].equals("error")) throw failure(f.length > 1 ? f[1] : "failed");
        if (!f[0].equals(tag)) throw failure("answered '" + line + "' where '" + tag + "' was expected");
        return f;
    }

    private static Map<String, String> parseReady(String[] fields) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 1; i < fields.length; i++) {
            int eq = fields[i].indexOf('=');
            if (eq > 0) m.put(fields[i].substring(0, eq), fields[i].substring(eq + 1));
        }
        return m;
    }

    private GaleException failure(String what) {
        String tail = "";
        try {
            process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank() && !l.contains("WARNING: Using incubator modules")).toList();
            tail = String.join("\n  ", lines.subList(Math.max(0, lines.size() - 12), lines.size()));
        } catch (IOException | InterruptedException ignored) {
            // the message is still useful without the log
        }
        return new GaleException("the " + name + " worker " + what + (tail.isEmpty() ? "" : "; its last output:\n  " + tail));
    }

    @Override
    public void close() {
        in.println("quit");
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file left behind is harmless
        }
    }
}
