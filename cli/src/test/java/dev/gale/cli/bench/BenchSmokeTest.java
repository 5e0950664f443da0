package dev.gale.cli.bench;

import dev.gale.cli.Gale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gale bench} end to end on the small MLP: exports it, runs the forward worker (Gale and ONNX Runtime), the
 * training worker and the PyTorch worker, prints the ratio lines and writes the report. A smoke test: it checks
 * that every comparison is made and reported, never how fast anything is.
 */
@Tag("smoke")
class BenchSmokeTest {
    private static final Pattern LINE = Pattern.compile(
            "^(forward|train|memory)\\s+mlp\\s+b(32|64)\\s+gale .* ratio \\d+(\\.\\d+)?x.*$", Pattern.MULTILINE);

    @Test
    void benchRunsEndToEndAndReportsEveryComparison(@TempDir Path tmp) throws Exception {
        Path report = tmp.resolve("bench.json");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Gale.execute(new String[] {"bench", "--models", "mlp", "--runs", "2", "--warmup", "1", "--warmup-seconds", "0", "--run-ms", "1",
                        "--models-dir", tmp.resolve("models").toString(), "--report", report.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true));
        String printed = out.toString();
        assertEquals(0, rc, "gale bench failed:\n" + printed + err);
        assertFalse(printed.contains("not measured"), printed + err);
        // forward, train and memory for batches 32 and 64
        assertEquals(6, LINE.matcher(printed).results().count(), "ratio lines:\n" + printed + err);

        String json = Files.readString(report);
        for (String key : List.of("\"settings\"", "\"environment\"", "\"peers\"", "\"onnxruntime\"", "\"pytorch\"",
                "\"blas\"", "\"results\"", "\"kind\": \"forward\"", "\"kind\": \"train\"", "\"kind\": \"memory\"",
                "\"gale_io\": \"bound\"", "\"gale_alloc_bytes_per_run\"", "\"gale\"", "\"peer_stats\"", "\"ratio\"",
                "\"median\"", "\"q1\"", "\"q3\"", "\"min\"", "\"max\""))
            assertTrue(json.contains(key), "report lacks " + key + ":\n" + json);
        assertFalse(json.contains("\"error\""), json);
    }

    @Test
    void unknownModelIsAUserError() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Gale.execute(new String[] {"bench", "--models", "resnet"}, new PrintWriter(out, true),
                new PrintWriter(err, true));
        assertEquals(1, rc);
        assertTrue(err.toString().contains("unknown model 'resnet'"), err.toString());
    }

    @Test
    void unknownBackendIsAUserError() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Gale.execute(new String[] {"bench", "--backend", "tpu"}, new PrintWriter(out, true),
                new PrintWriter(err, true));
        assertEquals(1, rc);
        assertTrue(err.toString().contains("unknown backend 'tpu'"), err.toString());
    }
}
