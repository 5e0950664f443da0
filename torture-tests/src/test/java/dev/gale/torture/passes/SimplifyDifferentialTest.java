package dev.gale.torture.passes;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.simplify.Simplify;
import dev.gale.torture.ConformanceModels;
import dev.gale.torture.PyTorchModelsTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static dev.gale.torture.ConformanceModels.NODE;
import static dev.gale.torture.passes.DifferentialRuns.assertSameOutputs;
import static dev.gale.torture.passes.DifferentialRuns.random;
import static dev.gale.torture.passes.DifferentialRuns.run;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Simplification preserves meaning: every ONNX {@code node} conformance model that imports and runs on the
 * interpreter gives the same outputs before and after the {@code simplify} pipeline, once with its test inputs fed
 * at run time and once with them baked in as initializers (so constant folding evaluates the whole model at compile
 * time). The PyTorch MLP, CNN and transformer are checked the same way, and their exported shape chains must fold.
 */
class SimplifyDifferentialTest {
    /** Rule firings over all conformance models, printed at the end so a silent rule stands out. */
    static final Map<String, Long> FIRINGS = new TreeMap<>();

    @AfterAll
    static void printFirings() {
        if (!FIRINGS.isEmpty()) System.out.println("simplify firings over the node conformance models: " + FIRINGS);
    }

    record Case(Graph graph, Map<String, Object> feeds, List<Object> expected) {}

    /** The model's graph, its first data set's inputs and its interpreter outputs; null when it does not run. */
    static Case load(Path dir) {
        try {
            Graph g = ConformanceModels.load(dir).graph();
            Map<String, Object> feeds = ConformanceModels.firstInputs(g, dir);
            return new Case(g, feeds, run(g, feeds));
        } catch (RuntimeException | StackOverflowError e) {
            return null;
        }
    }

    static Graph simplify(Graph g, PassContext ctx) {
        return new Pipeline(List.<Pass>of(new Simplify())).run(g, ctx, true, null).graph();
    }

    /** The graph with the fed tensor inputs turned into initializers (compile-time constants). */
    static Graph bakeInputs(Graph g, Map<String, Object> feeds) {
        List<Value> inputs = new ArrayList<>();
        Map<String, Tensor> init = new LinkedHashMap<>(g.initializers());
        for (Value v : g.inputs()) {
            if (feeds.get(v.name()) instanceof Tensor t && !g.initializers().containsKey(v.name())) init.put(v.name(), t);
            else inputs.add(v);
        }
        return new Graph(g.name(), inputs, g.outputs(), g.nodes(), init);
    }

    @TestFactory
    Stream<DynamicTest> conformanceModelsKeepTheirOutputs() {
        Assumptions.assumeTrue(Files.isDirectory(NODE), NODE + " is missing");
        return ConformanceModels.tests(NODE).stream().map(dir -> DynamicTest.dynamicTest(
                dir.getFileName().toString(), () -> {
                    Case c = load(dir);
                    Assumptions.assumeTrue(c != null, "does not import or run on the interpreter");
                    Assumptions.assumeFalse(random(c.graph()), "random outputs");
                    PassContext ctx = PassContext.defaults();
                    Graph s = simplify(c.graph(), ctx);
                    assertSameOutputs(c.expected(), run(s, c.feeds()), "fed inputs");
                    Map<String, Object> rest = new HashMap<>(c.feeds());
                    Graph baked = bakeInputs(c.graph(), c.feeds());
                    rest.keySet().retainAll(baked.inputs().stream().map(Value::name).toList());
                    Graph sb = simplify(baked, ctx);
                    assertSameOutputs(c.expected(), run(sb, rest), "inputs as constants");
                    synchronized (FIRINGS) {
                        ctx.counters().forEach((k, v) -> FIRINGS.merge(k, v, Long::sum));
                    }
                }));
    }

    static Map<String, Integer> opCounts(Graph g) {
        Map<String, Integer> m = new TreeMap<>();
        for (Node n : g.nodes()) m.merge(n.op(), 1, Integer::sum);
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "transformer"})
    void pyTorchModelsKeepTheirOutputsAndFoldShapeChains(String name) {
        Case c = load(PyTorchModelsTest.model(name));
        if (c == null) fail(name + " does not run on the interpreter");
        PassContext ctx = PassContext.defaults();
        Graph s = simplify(c.graph(), ctx);
        System.out.println("simplify " + name + ": " + c.graph().nodes().size() + " -> " + s.nodes().size()
                + " nodes; before " + opCounts(c.graph()) + "; after " + opCounts(s) + "; " + ctx.counters());
        assertSameOutputs(c.expected(), run(s, c.feeds()), name);
        // The passes one by one reach the same meaning.
        Graph steps = new Pipeline(Simplify.steps()).run(c.graph(), PassContext.defaults(), true, null).graph();
        assertSameOutputs(c.expected(), run(steps, c.feeds()), name + " (passes one by one)");
        assertTrue(s.nodes().size() <= c.graph().nodes().size(), name + " grew");
        for (String op : List.of("Shape", "Concat", "Unsqueeze", "Identity"))
            assertTrue(s.nodes().stream().noneMatch(n -> n.op().equals(op)),
                    name + ": a " + op + " is left: " + opCounts(s));
    }
}
