package dev.gale.torture.passes;

import dev.gale.cli.Pipelines;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.pipeline.Property;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every registered pass (alone, where it needs nothing but types) and the standard pipelines of {@code gale
 * compile} keep what the conformance and PyTorch models compute; and the harness itself notices a wrong pass.
 */
class PassDifferentialTest {
    /** A pass that changes nothing: the whole corpus must compare equal. */
    static final Pass IDENTITY = new Pass() {
        @Override
        public String name() { return "identity"; }

        @Override
        public Graph run(Graph g, PassContext ctx) { return g; }
    };

    /** A wrong pass: every Add becomes a Sub. */
    static final Pass ADD_TO_SUB = new Pass() {
        @Override
        public String name() { return "add-to-sub"; }

        @Override
        public Graph run(Graph g, PassContext ctx) {
            List<Node> nodes = new ArrayList<>();
            for (Node n : g.nodes())
                nodes.add(n.op().equals("Add") && n.domain().isEmpty()
                        ? new Node(n.name(), n.domain(), "Sub", n.inputs(), n.outputs(), n.attrs()) : n);
            return g.withNodes(nodes);
        }
    };

    @Test
    void anIdentityPassMatchesOnTheWholeCorpus() {
        PassDifferential.Report r = PassDifferential.check(IDENTITY);
        r.assertNoMismatches();
        assertTrue(r.compared() >= 3, r.summary());
        if (!PassDifferential.conformanceModels().isEmpty())
            assertTrue(r.compared() > 2000, "most conformance models should be compared: " + r.summary());
    }

    @Test
    void aWrongPassIsCaught() {
        List<Path> dirs = new ArrayList<>(PassDifferential.pytorchModels());
        PassDifferential.Report r = PassDifferential.check(new Pipeline(List.of(ADD_TO_SUB)), Map.of(), dirs, true);
        // the MLP and transformer add biases and residuals with Add (Gemm holds the MLP's; the transformer has Add)
        assertFalse(r.mismatches().isEmpty(), r.summary());
        assertTrue(r.mismatches().get(0).message().contains("elements differ"), r.mismatches().toString());
    }

    @Test
    void randomGraphsAllRunAndAWrongPassShowsOnThem() {
        PassDifferential.Report same = PassDifferential.check(new Pipeline(List.of(IDENTITY)), Map.of(),
                PassDifferential.randomGraphs(100, 1));
        same.assertNoMismatches();
        assertEquals(100, same.compared(), "every random graph runs: " + same.skipped());
        PassDifferential.Report wrong = PassDifferential.check(new Pipeline(List.of(ADD_TO_SUB)), Map.of(),
                PassDifferential.randomGraphs(100, 1));
        assertTrue(wrong.mismatches().size() > 50, wrong.summary());
    }

    @TestFactory
    Stream<DynamicTest> registeredPassesPreserveSemantics() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : PassRegistry.names()) {
            if (name.startsWith("test-")) continue; // stand-ins other tests register
            Pass p = PassRegistry.get(name);
            if (!Set.of(Property.TYPED).containsAll(p.requires())) continue;
            tests.add(DynamicTest.dynamicTest(name, () -> PassDifferential.check(p).assertNoMismatches()));
        }
        for (boolean training : new boolean[] {false, true})
            tests.add(DynamicTest.dynamicTest("standard pipeline (" + (training ? "training" : "inference") + ")",
                    () -> PassDifferential.check(Pipelines.standard(training)).assertNoMismatches()));
        // a budget nothing meets: rematerialization recomputes all it can, and the result must still agree
        tests.add(DynamicTest.dynamicTest("standard training pipeline, 1-byte memory budget", () -> {
            List<PassDifferential.Source> sources = new ArrayList<>(
                    PassDifferential.testFolders(PassDifferential.pytorchModels(), true));
            sources.addAll(PassDifferential.randomGraphs(100, 1000));
            PassDifferential.check(Pipelines.standard(true), Map.of(Pipelines.MEMORY_BUDGET, "1"), sources)
                    .assertNoMismatches();
        }));
        return tests.stream();
    }
}
