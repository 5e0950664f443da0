package dev.gale.torture.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.cli.conformance.Allclose;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * What the simplify and fuse-patterns differential tests share: a seeded interpreter run and the comparison, at
 * {@link PassDifferential}'s tolerance (far tighter than conformance asks: simplification evaluates with the same
 * kernels, and a fused kernel only rounds once where its pattern rounded per op).
 */
final class DifferentialRuns {
    private DifferentialRuns() {}

    /** Whether a node of g (not of its subgraphs) draws random numbers: a different draw is not a different meaning. */
    static boolean random(Graph g) {
        return g.nodes().stream().anyMatch(n -> PassDifferential.RANDOM_OPS.contains(n.op()));
    }

    /** The graph's outputs on the interpreter, seeded so that runs agree. */
    static List<Object> run(Graph g, Map<String, Object> feeds) {
        Interpreter interp = new Interpreter(Model.of(g));
        interp.seed(0);
        return interp.run(feeds);
    }

    static void assertSameOutputs(List<Object> expected, List<Object> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": number of outputs");
        for (int i = 0; i < expected.size(); i++) {
            String m = Allclose.compare(expected.get(i), actual.get(i), PassDifferential.RTOL, PassDifferential.ATOL);
            assertNull(m, what + ": output " + i + ": " + m);
        }
    }
}
