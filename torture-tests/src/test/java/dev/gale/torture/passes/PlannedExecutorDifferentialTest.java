package dev.gale.torture.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.backends.interp.planned.PlannedExecutor;
import dev.gale.cli.Pipelines;
import dev.gale.cli.conformance.Allclose;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.train.CompiledStep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The compiled form of a model computes what the model does: each subject of the pass-differential corpus (node
 * conformance models with their inputs fed and baked in, the PyTorch models and their training steps, random graphs)
 * is compiled with the standard pipeline for its inputs' shapes ({@link CompiledStep}) and run by the
 * {@link PlannedExecutor}, every intermediate in one arena at its planned offset; the outputs must match the
 * interpreter's on the original model within the pass-differential tolerances. A plan that clobbered a live value
 * would fail the run itself.
 */
class PlannedExecutorDifferentialTest {
    /** Runs one subject; null when it agrees or is not comparable (recorded in {@code skipped}). */
    static String check(PassDifferential.Subject s, Map<String, String> skipped, long[] arenaBytes) {
        Model before = s.model();
        if (PassDifferential.usesRandomOps(before.graph())) {
            skipped.put(s.name(), "random ops");
            return null;
        }
        List<Object> expected;
        try {
            expected = Interpreter.run(before, s.feeds());
        } catch (RuntimeException | StackOverflowError e) {
            skipped.put(s.name(), "the interpreter cannot run it: " + e.getMessage());
            return null;
        }
        Map<String, long[]> shapes = new HashMap<>();
        s.feeds().forEach((k, v) -> {
            if (v instanceof Tensor t) shapes.put(k, t.shape());
        });
        CompiledStep c;
        try {
            c = CompiledStep.compile(before.graph(), shapes, Pipelines.standard(s.name().endsWith("/train")));
        } catch (RuntimeException | StackOverflowError e) {
            if (String.valueOf(e.getMessage()).contains("but is fed shape")) { // castlike tests feed [1] for [3,4]
                skipped.put(s.name(), "its test inputs contradict the declared input shapes");
                return null;
            }
            return "compiling failed: " + e.getMessage();
        }
        if (c.plan() == null) return "the standard pipeline planned no memory";
        List<Object> actual;
        try (PlannedExecutor ex = new PlannedExecutor(before.withGraph(c.graph()), c.plan())) {
            actual = ex.run(s.feeds());
            List<Object> again = ex.run(s.feeds());
            for (int k = 0; k < actual.size(); k++)
                if (actual.get(k) != null && Allclose.compare(actual.get(k), again.get(k), 0, 0) != null)
                    return "a second run in the same arena differs at output " + k;
        } catch (RuntimeException | StackOverflowError e) {
            return "the planned run failed: " + e;
        }
        arenaBytes[0] += c.plan().arenaBytes();
        for (int k = 0; k < expected.size(); k++) {
            String m = expected.get(k) == null ? (actual.get(k) == null ? null : "an output that was absent")
                    : Allclose.compare(expected.get(k), actual.get(k), PassDifferential.RTOL, PassDifferential.ATOL);
            if (m != null) return "output " + k + " ('" + before.graph().outputs().get(k).name() + "'): " + m;
        }
        return null;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void pytorchModelsAndTrainingStepsRunInTheArena(String name) {
        Path dir = dev.gale.torture.PyTorchModelsTest.model(name);
        Map<String, String> skipped = new HashMap<>();
        long[] bytes = {0};
        for (PassDifferential.Subject s : List.of(PassDifferential.subject(dir), PassDifferential.trainingSubject(dir))) {
            assertNull(check(s, skipped, bytes), s.name());
            assertTrue(skipped.isEmpty(), skipped.toString());
        }
        assertTrue(bytes[0] > 0);
    }

    @Test
    void wholeCorpusRunsInTheArena() {
        Map<String, String> skipped = new HashMap<>();
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        long[] bytes = {0};
        for (PassDifferential.Source src : PassDifferential.corpus()) {
            PassDifferential.Subject s;
            try {
                s = src.load().call();
            } catch (Exception e) {
                skipped.put(src.name(), "cannot be loaded");
                continue;
            }
            int before = skipped.size();
            String m = check(s, skipped, bytes);
            if (m != null) mismatches.add(src.name() + ": " + m);
            else if (skipped.size() == before) compared++;
        }
        System.out.printf("planned executor: %d subjects compared (%d arena bytes in all), %d mismatches, %d skipped%n",
                compared, bytes[0], mismatches.size(), skipped.size());
        mismatches.forEach(m -> System.out.println("  MISMATCH " + m));
        assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches:\n"
                + String.join("\n", mismatches.subList(0, Math.min(10, mismatches.size()))));
        assertTrue(compared > 1000, "only " + compared + " compared");
    }
}
