package dev.gale.torture.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.onnx.OnnxImporter;
import dev.gale.passes.memory.ArenaChecker;
import dev.gale.passes.memory.MemoryPlan;
import dev.gale.passes.memory.MemoryPlanner;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.torture.PyTorchModelsTest;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Memory plans of the PyTorch MLP, CNN and transformer, forward and training step, at batch 8: valid, within 5% of
 * the lower bound, and executable (the interpreter's run replayed through one arena by {@link ArenaChecker}).
 */
class MemoryPlanTest {
    static final double TARGET = 1.05;

    static Graph forward(String name) {
        return OnnxImporter.load(PyTorchModelsTest.model(name).resolve("model.onnx")).graph();
    }

    static Graph training(String name) {
        return TrainingProgram.build(forward(name), "logits", LossKind.CROSS_ENTROPY, n -> true, Long.MIN_VALUE)
                .graph();
    }

    static MemoryPlan plan(Graph g, PassContext ctx, Graph[] scheduled) {
        scheduled[0] = PassRegistry.parse("schedule,plan-memory").run(g, ctx, true, null).graph();
        return ctx.get(MemoryPlanner.PLAN_KEY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer", "mlp-train", "cnn-train", "transformer-train"})
    void planIsTightAndExecutable(String which) {
        String name = which.replace("-train", "");
        Graph g = which.endsWith("-train") ? training(name) : forward(name);
        PassContext ctx = new PassContext(Map.of("batch", "8"));
        Graph[] scheduled = new Graph[1];
        MemoryPlan plan = plan(g, ctx, scheduled);
        plan.verify();
        System.out.printf("%-18s nodes %4d values %4d naive %10d lower %10d planned %10d ratio %.4f%n", which,
                g.nodes().size(), plan.allocations().size(), plan.naiveBytes(), plan.lowerBound(),
                plan.arenaBytes(), plan.ratio());
        System.out.println("  " + ctx.counters());
        assertTrue(plan.ratio() <= TARGET, which + ": planned " + plan.arenaBytes() + " > " + TARGET
                + " x lower bound " + plan.lowerBound());
        ArenaChecker checker = new ArenaChecker(scheduled[0], plan);
        Interpreter in = new Interpreter(Model.of(scheduled[0]));
        in.setListener(checker::computed);
        in.run(feeds(scheduled[0], 8));
        assertEquals(scheduled[0].nodes().size(), checker.steps());
    }

    /** Random inputs with symbolic dims set to {@code batch}: floats in [-1, 1), integers in [0, 10). */
    static Map<String, Object> feeds(Graph g, long batch) {
        Random r = new Random(42);
        Map<String, Object> feeds = new HashMap<>();
        for (Value v : g.runtimeInputs()) {
            Type.TensorType t = v.tensorType();
            long[] shape = new long[t.shape().rank()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.shape().dim(i).sizeOr(batch);
            Tensor x = Tensor.zeros(t.dtype(), shape);
            for (int i = 0; i < x.numel(); i++) {
                if (t.dtype() == DType.FLOAT32 || t.dtype() == DType.FLOAT64) x.setDouble(i, r.nextDouble() * 2 - 1);
                else x.setLong(i, r.nextInt(10));
            }
            feeds.put(v.name(), x);
        }
        return feeds;
    }
}
