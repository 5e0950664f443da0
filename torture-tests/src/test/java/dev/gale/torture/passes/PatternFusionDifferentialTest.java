package dev.gale.torture.passes;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.fuse.FusePatterns;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.simplify.Simplify;
import dev.gale.torture.ConformanceModels;
import dev.gale.torture.PyTorchModelsTest;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.gale.torture.ConformanceModels.NODE;
import static dev.gale.torture.ConformanceModels.firstInputs;
import static dev.gale.torture.passes.DifferentialRuns.assertSameOutputs;
import static dev.gale.torture.passes.DifferentialRuns.random;
import static dev.gale.torture.passes.DifferentialRuns.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pattern fusion preserves meaning: the interpreter gives the same outputs (rtol 1e-5, atol 1e-6: a fused kernel
 * rounds once where the pattern rounded per op) before and after {@code fuse-patterns}, run after
 * {@code simplify} as a pipeline runs it, on every ONNX {@code node} conformance model that runs (the expanded
 * function bodies of LayerNormalization, Softmax and LogSoftmax fuse back), and on the PyTorch MLP, CNN and
 * transformer, forward and as training steps (loss, logits and every gradient). For the PyTorch models the fusions
 * that fire are pinned, so a fusion that silently stops firing (or starts firing somewhere new) shows up here.
 */
class PatternFusionDifferentialTest {
    /** What fuse-patterns makes, counted in the report. */
    static final Set<String> FUSED_OPS = Set.of("Gelu", "LayerNormalization", "Softmax", "LogSoftmax", "FusedMatMul",
            "FusedGemm", "FusedConv", "Attention");

    /** Which conformance models each fusion fired on, printed at the end. */
    static final Map<String, List<String>> FIRED_ON = new TreeMap<>();

    @AfterAll
    static void report() {
        FIRED_ON.forEach((k, v) -> System.out.println("fuse-patterns on the node conformance models: " + k
                + " fired on " + v.size() + ": " + v.stream().sorted().collect(Collectors.joining(" "))));
    }

    static Graph apply(Graph g, PassContext ctx, Pass... passes) {
        return new Pipeline(List.of(passes)).run(g, ctx, true, null).graph();
    }

    @TestFactory
    Stream<DynamicTest> conformanceModelsKeepTheirOutputs() {
        Assumptions.assumeTrue(Files.isDirectory(NODE), NODE + " is missing");
        return ConformanceModels.tests(NODE).stream().map(dir -> DynamicTest.dynamicTest(
                dir.getFileName().toString(), () -> {
                    Graph g;
                    Map<String, Object> feeds;
                    List<Object> expected;
                    try {
                        g = ConformanceModels.load(dir).graph();
                        feeds = firstInputs(g, dir);
                        expected = run(g, feeds);
                    } catch (RuntimeException | StackOverflowError e) {
                        Assumptions.abort("does not import or run on the interpreter");
                        return;
                    }
                    Assumptions.assumeFalse(random(g), "random");
                    // simplify first, as a pipeline does: it removes the Casts and folds the constants that
                    // expanded function bodies carry; the comparison isolates fuse-patterns
                    Graph simple;
                    try {
                        simple = apply(g, PassContext.defaults(), new Simplify());
                        expected = run(simple, feeds);
                    } catch (RuntimeException e) {
                        Assumptions.abort("simplify fails: " + e.getMessage());
                        return;
                    }
                    PassContext ctx = PassContext.defaults();
                    Graph fused = apply(simple, ctx, new FusePatterns());
                    Assumptions.assumeFalse(fused == simple, "nothing fused");
                    assertSameOutputs(expected, run(fused, feeds), "fuse-patterns");
                    synchronized (FIRED_ON) {
                        FusePatterns.fired(ctx).keySet().forEach(k -> FIRED_ON.computeIfAbsent(k,
                                x -> new java.util.ArrayList<>()).add(dir.getFileName().toString()));
                    }
                }));
    }

    /** Forward: simplify, then fuse; the fused model agrees with the simplified one and these fusions fire. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
            "mlp; {fuse.gelu=1, fuse.gemm-activation=1}",
            "cnn; {fuse.conv-activation=2, fuse.conv-averagepool=1, fuse.conv-maxpool=1}",
            "transformer; {fuse.attention=2, fuse.matmul-activation=2, fuse.matmul-bias=4}"})
    void pyTorchModelsForward(String name, String expectedFirings) {
        Path dir = PyTorchModelsTest.model(name);
        Graph g = ConformanceModels.load(dir).graph();
        Map<String, Object> feeds = firstInputs(g, dir);
        Graph simple = apply(g, PassContext.defaults(), new Simplify());
        PassContext ctx = PassContext.defaults();
        Graph fused = apply(simple, ctx, new FusePatterns());
        System.out.println("fuse-patterns " + name + " forward: " + simple.nodes().size() + " -> "
                + fused.nodes().size() + " nodes, fired " + FusePatterns.fired(ctx) + ", fused ops " + fusedOps(fused));
        assertSameOutputs(run(simple, feeds), run(fused, feeds), name);
        assertEquals(expectedFirings, FusePatterns.fired(ctx).toString(), name + ": fusions fired");
    }

    /**
     * Training step: the loss, logits and gradients of {@code TrainingProgram.build(...)} agree before and after
     * (simplify, then fuse-patterns, the order a training pipeline runs them in, after autodiff).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
            "mlp; {fuse.gelu=1}",
            // conv-activation, matmul-activation: Relu's gradient reads its output, so the pre-activation has the
            // Relu as its one use in training graphs too
            "cnn; {fuse.conv-activation=2}",
            // gemm-bias 4: the weight gradients of the three MatMul weights both layers share are Gemms, summed;
            // matmul-transposed-b 6: products with a transposed weight matrix, which they now read in place
            "transformer; {fuse.gemm-bias=4, fuse.matmul-activation=2, fuse.matmul-bias=8, fuse.matmul-transposed-b=6}"})
    void pyTorchModelsTraining(String name, String expectedFirings) {
        Path dir = PyTorchModelsTest.model(name);
        Graph forward = ConformanceModels.load(dir).graph();
        TrainingProgram p = TrainingProgram.build(forward, "logits", LossKind.CROSS_ENTROPY, n -> true, Long.MIN_VALUE);
        Map<String, Object> feeds = trainingFeeds(forward, p, dir);
        PassContext ctx = new PassContext(Map.of("train.params", String.join(",", p.params())));
        Graph simple = apply(p.graph(), ctx, new Simplify());
        PassContext fctx = new PassContext(Map.of("train.params", String.join(",", p.params())));
        Graph fused = apply(simple, fctx, new FusePatterns());
        System.out.println("fuse-patterns " + name + " training step: " + simple.nodes().size() + " -> "
                + fused.nodes().size() + " nodes, fired " + FusePatterns.fired(fctx) + ", fused ops "
                + fusedOps(fused));
        assertSameOutputs(run(simple, feeds), run(fused, feeds), name + " training step");
        assertEquals(expectedFirings, FusePatterns.fired(fctx).toString(), name + ": fusions fired");
    }

    /**
     * fuse-decomposed before autodiff: the training step of the fused forward graph (autodiff then uses the gradient
     * rules of Gelu, LayerNormalization, ...) has the loss, logits and gradients of the unfused one.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {"mlp; {fuse.gelu=1}", "cnn; {}", "transformer; {}"})
    void fuseDecomposedBeforeAutodiff(String name, String expectedFirings) {
        Path dir = PyTorchModelsTest.model(name);
        Graph forward = ConformanceModels.load(dir).graph();
        PassContext ctx = PassContext.defaults();
        Graph fusedForward = apply(forward, ctx, FusePatterns.decomposedOnly());
        assertEquals(expectedFirings, FusePatterns.fired(ctx).toString(), name + ": fusions fired");
        TrainingProgram plain = TrainingProgram.build(forward, "logits", LossKind.CROSS_ENTROPY, n -> true,
                Long.MIN_VALUE);
        TrainingProgram fused = TrainingProgram.build(fusedForward, "logits", LossKind.CROSS_ENTROPY, n -> true,
                Long.MIN_VALUE);
        Map<String, Object> feeds = trainingFeeds(forward, plain, dir);
        System.out.println("fuse-decomposed " + name + " before autodiff: training step " + plain.graph().nodes().size()
                + " -> " + fused.graph().nodes().size() + " nodes");
        Map<String, Object> a = byName(plain.graph(), feeds), b = byName(fused.graph(), feeds);
        assertEquals(a.keySet(), b.keySet(), name + ": outputs");
        for (String k : a.keySet()) assertSameOutputs(List.of(a.get(k)), List.of(b.get(k)), name + " " + k);
    }

    /** The inputs of one training step: the test inputs, labels (3i + 1) mod 10, the parameters' initial values. */
    static Map<String, Object> trainingFeeds(Graph forward, TrainingProgram p, Path dir) {
        Map<String, Object> feeds = firstInputs(forward, dir);
        long batch = ((Tensor) feeds.values().iterator().next()).dim(0);
        long[] labels = new long[(int) batch];
        for (int i = 0; i < batch; i++) labels[i] = (3L * i + 1) % 10;
        feeds.put(TrainingProgram.LABELS, Tensor.ofLongs(new long[] {batch}, labels));
        for (Value v : p.graph().inputs())
            if (!feeds.containsKey(v.name()) && forward.initializers().containsKey(v.name()))
                feeds.put(v.name(), forward.initializers().get(v.name()));
        return feeds;
    }

    static Map<String, Object> byName(Graph g, Map<String, Object> feeds) {
        List<Object> out = run(g, feeds);
        Map<String, Object> m = new TreeMap<>();
        for (int i = 0; i < out.size(); i++) m.put(g.outputs().get(i).name(), out.get(i));
        return m;
    }

    static Map<String, Integer> fusedOps(Graph g) {
        Map<String, Integer> m = new TreeMap<>();
        for (Node n : g.nodes())
            if (FUSED_OPS.contains(n.op()))
                m.merge((n.domain().isEmpty() ? "" : n.domain() + "::") + n.op(), 1, Integer::sum);
        return m;
    }
}
