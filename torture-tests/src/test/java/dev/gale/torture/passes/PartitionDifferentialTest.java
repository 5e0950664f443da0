package dev.gale.torture.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextParser;
import dev.gale.ir.text.TextPrinter;
import dev.gale.ir.text.UseTypes;
import dev.gale.passes.LowerGradientOps;
import dev.gale.passes.partition.Partition;
import dev.gale.passes.simplify.Simplify;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.torture.ConformanceModels;
import dev.gale.torture.PyTorchModelsTest;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static dev.gale.torture.ConformanceModels.NODE;
import static dev.gale.torture.ConformanceModels.firstInputs;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Partitioning preserves semantics: the interpreter gives bit-identical outputs before and after the
 * {@code partition} pass for every ONNX node conformance model that imports and runs (on test_data_set_0), and for
 * the PyTorch MLP, CNN and transformer, forward and training graphs. The partitioned graph also verifies, re-infers
 * its types and reads back from its text form. Prints nodes before versus kernels and plain nodes after.
 */
class PartitionDifferentialTest {
    private static int modelsChecked, modelsSkipped, nodesBefore, kernelsAfter, plainAfter, multiNodeKernels;

    @AfterAll
    static void summary() {
        if (modelsChecked + modelsSkipped == 0) return;
        System.out.println("partition differential (node suite): " + modelsChecked + " models checked, "
                + modelsSkipped + " skipped (do not import or run); " + nodesBefore + " nodes before -> "
                + kernelsAfter + " kernels (" + multiNodeKernels + " fusing 2+ nodes) + " + plainAfter
                + " plain nodes after");
    }

    @TestFactory
    Stream<DynamicTest> nodeConformanceModels() {
        assertTrue(Files.isDirectory(NODE), NODE + " is missing: install Debian's libonnx-testdata");
        return ConformanceModels.tests(NODE).stream()
                .map(d -> DynamicTest.dynamicTest(d.getFileName().toString(), () -> checkNodeModel(d)));
    }

    private static void checkNodeModel(Path dir) {
        Model model;
        Map<String, Object> feeds;
        List<Object> before;
        try {
            model = LowerGradientOps.apply(ConformanceModels.load(dir));
            feeds = firstInputs(model.graph(), dir);
            before = new Interpreter(model).run(feeds);
        } catch (RuntimeException | StackOverflowError e) {
            modelsSkipped++; // only models that import and run are this test's business
            return;
        }
        Graph after = check(model, feeds, before, dir.getFileName().toString());
        modelsChecked++;
        nodesBefore += model.graph().nodes().size();
        for (Node n : after.nodes()) {
            if (isKernel(n)) {
                kernelsAfter++;
                if (((Attr.GraphAttr) n.attr("body")).value().nodes().size() > 1) multiNodeKernels++;
            } else {
                plainAfter++;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void pytorchForward(String name) {
        Path dir = PyTorchModelsTest.model(name);
        Model model = ConformanceModels.load(dir);
        Map<String, Object> feeds = firstInputs(model.graph(), dir);
        Graph after = check(model, feeds, new Interpreter(model).run(feeds), name);
        report(name + " forward", model.graph(), after);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void pytorchTraining(String name) {
        Path dir = PyTorchModelsTest.model(name);
        Model forward = ConformanceModels.load(dir);
        Graph training = TrainingProgram.build(forward.graph(), "logits", LossKind.CROSS_ENTROPY, n -> true,
                Long.MIN_VALUE).graph();
        Model model = forward.withGraph(training);
        Map<String, Object> feeds = trainingFeeds(forward, training, dir);
        Graph after = check(model, feeds, new Interpreter(model).run(feeds), name + " training");
        report(name + " training", training, after);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void pytorchTrainingSimplifiedFirst(String name) {
        // The realistic pipeline: simplify (folding, CSE, dead code) then partition.
        Path dir = PyTorchModelsTest.model(name);
        Model forward = ConformanceModels.load(dir);
        Graph training = TrainingProgram.build(forward.graph(), "logits", LossKind.CROSS_ENTROPY, n -> true,
                Long.MIN_VALUE).graph();
        Graph simplified = new Simplify().run(training, PassContext.defaults());
        Model model = forward.withGraph(simplified);
        Map<String, Object> feeds = trainingFeeds(forward, simplified, dir);
        Graph after = check(model, feeds, new Interpreter(model).run(feeds), name + " simplified training");
        report(name + " training (" + training.nodes().size() + " nodes) simplified", simplified, after);
    }

    /** Partitions, checks structure, runs again and compares every output bit for bit; returns the new graph. */
    private static Graph check(Model model, Map<String, Object> feeds, List<Object> before, String what) {
        Pipeline pipeline = new Pipeline(List.of(new Partition()));
        Graph after = pipeline.run(model.graph(), PassContext.defaults(), true, null).graph();
        assertDoesNotThrow(() -> ShapeInference.run(after), what + ": the partitioned graph does not re-infer");
        Model partitioned = model.withGraph(after);
        Model back = TextParser.parse(TextPrinter.print(partitioned, PrintOptions.INLINE), what + " (printed)");
        assertEquals(UseTypes.refresh(partitioned), back, what + ": the partitioned graph reads back differently");
        List<Object> out = new Interpreter(partitioned).run(feeds);
        assertEquals(before.size(), out.size(), what + ": output count");
        for (int i = 0; i < before.size(); i++)
            assertEquals(before.get(i), out.get(i), what + ": output " + i + " ('"
                    + model.graph().outputs().get(i).name() + "') differs after partitioning");
        return after;
    }

    private static void report(String what, Graph before, Graph after) {
        // -Dgale.partition.dump=1 prints the partitioned graphs.
        if (System.getProperty("gale.partition.dump") != null)
            System.out.println(TextPrinter.print(after, PrintOptions.SUMMARY));
        long kernels = after.nodes().stream().filter(PartitionDifferentialTest::isKernel).count();
        System.out.println("partition " + what + ": " + before.nodes().size() + " nodes -> " + kernels + " kernels + "
                + (after.nodes().size() - kernels) + " plain nodes");
    }

    private static boolean isKernel(Node n) { return n.domain().equals("gale") && n.op().equals("Kernel"); }

    /** The inputs of one training step: the test inputs, the parameters' initial values, labels in range. */
    private static Map<String, Object> trainingFeeds(Model forward, Graph step, Path dir) {
        Map<String, Object> feeds = firstInputs(forward.graph(), dir);
        Tensor logits = (Tensor) new Interpreter(forward).run(feeds).get(0);
        for (Value v : step.runtimeInputs()) // parameters are inputs of the training step
            if (forward.graph().initializers().containsKey(v.name()))
                feeds.put(v.name(), forward.graph().initializers().get(v.name()));
        feeds.put(TrainingProgram.LABELS, labels(logits.shape()));
        return feeds;
    }

    /** Class labels in range for logits of {@code shape} ([batch, classes, extra...] -> [batch, extra...]). */
    private static Tensor labels(long[] shape) {
        long classes = shape[1];
        long[] ls = new long[shape.length - 1];
        ls[0] = shape[0];
        for (int k = 2; k < shape.length; k++) ls[k - 1] = shape[k];
        Tensor t = Tensor.zeros(DType.INT64, ls);
        Random r = new Random(7);
        for (int i = 0; i < t.numel(); i++) t.setLong(i, r.nextInt((int) classes));
        return t;
    }
}
