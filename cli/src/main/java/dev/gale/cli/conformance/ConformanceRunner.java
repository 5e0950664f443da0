package dev.gale.cli.conformance;

import dev.gale.backends.Backend;
import dev.gale.backends.Session;
import dev.gale.ir.Attr;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.UnsupportedException;
import dev.gale.ir.Value;
import dev.gale.onnx.OnnxImporter;
import dev.gale.onnx.OnnxTensors;
import dev.gale.passes.LowerGradientOps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs test folders in the ONNX backend-test layout ({@code model.onnx}, {@code test_data_set_N/input_K.pb} and
 * {@code output_K.pb}) on a backend and compares the outputs with {@link Allclose}. A test whose model uses an op
 * the backend lacks is "unsupported"; any other problem (import error, crash, mismatch) is a failure.
 */
public final class ConformanceRunner {
    public static final double RTOL = 1e-3, ATOL = 1e-7;
    private final Backend backend;
    private final long timeoutSeconds;

    public ConformanceRunner(Backend backend, long timeoutSeconds) {
        this.backend = backend;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** Every folder under {@code root} (or root itself) that holds a {@code model.onnx}, sorted by path. */
    public static List<Path> findTests(Path root) {
        if (!Files.isDirectory(root)) throw new GaleException(root + ": not a folder");
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("model.onnx"))).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<TestOutcome> runAll(Path root, Consumer<TestOutcome> onEach) {
        List<TestOutcome> out = new ArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(null, r, "conformance", 1L << 28);
            t.setDaemon(true);
            return t;
        });
        try {
            for (Path dir : findTests(root)) {
                String suite = root.getFileName() == null ? root.toString() : root.getFileName().toString();
                TestOutcome o = runWithTimeout(pool, suite, dir);
                if (o.message() != null && o.message().contains("timed out")) {
                    pool.shutdownNow();
                    pool = Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(null, r, "conformance", 1L << 28);
                        t.setDaemon(true);
                        return t;
                    });
                }
                out.add(o);
                onEach.accept(o);
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private TestOutcome runWithTimeout(ExecutorService pool, String suite, Path dir) {
        Future<TestOutcome> f = pool.submit(() -> runOne(suite, dir));
        try {
            return f.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            return new TestOutcome(suite, dir.getFileName().toString(), TestOutcome.Status.FAIL,
                    "timed out after " + timeoutSeconds + " s", List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GaleException("interrupted");
        } catch (ExecutionException e) {
            return new TestOutcome(suite, dir.getFileName().toString(), TestOutcome.Status.FAIL,
                    "crashed: " + e.getCause(), List.of());
        }
    }

    /** Runs one test folder; never throws for a problem of the test itself. */
    public TestOutcome runOne(String suite, Path dir) {
        String name = dir.getFileName().toString();
        List<String> ops = OnnxImporter.opTypes(dir.resolve("model.onnx"));
        try {
            Model model = OnnxImporter.load(dir.resolve("model.onnx"));
            ops = opsOf(model.graph());
            model = LowerGradientOps.apply(model); // training Gradient nodes become explicit backward nodes
            List<Path> sets;
            try (Stream<Path> s = Files.list(dir)) {
                sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
            }
            try (Session session = backend.open(model)) {
                for (Path set : sets) {
                    String m = runDataSet(model.graph(), session, set);
                    if (m != null)
                        return new TestOutcome(suite, name, TestOutcome.Status.FAIL, set.getFileName() + ": " + m, ops);
                }
            }
            return new TestOutcome(suite, name, TestOutcome.Status.PASS, null, ops);
        } catch (UnsupportedException e) {
            return new TestOutcome(suite, name, TestOutcome.Status.UNSUPPORTED, e.getMessage(), ops);
        } catch (GaleException e) {
            return new TestOutcome(suite, name, TestOutcome.Status.FAIL, e.getMessage(), ops);
        } catch (IOException e) {
            return new TestOutcome(suite, name, TestOutcome.Status.FAIL, "I/O: " + e.getMessage(), ops);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            return new TestOutcome(suite, name, TestOutcome.Status.FAIL, "crashed: " + e, ops);
        }
    }

    private static String runDataSet(Graph g, Session session, Path set) {
        List<Value> inputs = g.runtimeInputs();
        Map<String, Object> feeds = new HashMap<>();
        for (int k = 0; k < inputs.size(); k++) {
            Path f = set.resolve("input_" + k + ".pb");
            if (!Files.exists(f)) {
                // Inputs that also have initializers may be fed; optional trailing inputs may be absent.
                continue;
            }
            feeds.put(inputs.get(k).name(), OnnxTensors.readValue(f, inputs.get(k).type()));
        }
        List<Object> actual = session.run(feeds);
        for (int k = 0; k < g.outputs().size(); k++) {
            Path f = set.resolve("output_" + k + ".pb");
            if (!Files.exists(f)) continue;
            Object expected = OnnxTensors.readValue(f, g.outputs().get(k).type());
            String m = Allclose.compare(expected, actual.get(k), RTOL, ATOL);
            if (m != null) return "output " + k + " ('" + g.outputs().get(k).name() + "'): " + m;
        }
        return null;
    }

    /** The distinct op types of a graph and its nested graphs, for grouping failures. */
    public static List<String> opsOf(Graph g) {
        TreeSet<String> s = new TreeSet<>();
        collect(g, s);
        return List.copyOf(s);
    }

    private static void collect(Graph g, TreeSet<String> s) {
        for (Node n : g.nodes()) {
            s.add(n.op());
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) collect(ga.value(), s);
                if (a instanceof Attr.GraphsAttr gs) gs.values().forEach(x -> collect(x, s));
            }
        }
    }
}
