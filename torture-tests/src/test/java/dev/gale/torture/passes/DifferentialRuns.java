package dev.gale.torture.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.cli.conformance.Allclose;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What the simplify and fuse-patterns differential tests share: a seeded interpreter run and the comparison. */
final class DifferentialRuns {
    private DifferentialRuns() {}

    /**
     * Far tighter than conformance asks: simplification evaluates with the same kernels, and a fused kernel only
     * rounds once where its pattern rounded per op.
     */
    static final double RTOL = 1e-5, ATOL = 1e-6;

    /** Ops whose outputs are random draws: a different draw order is not a different meaning. */
    static final Set<String> RANDOM = Set.of("RandomUniform", "RandomNormal", "RandomUniformLike",
            "RandomNormalLike", "Bernoulli", "Multinomial", "Dropout");

    static boolean random(Graph g) {
        return g.nodes().stream().anyMatch(n -> RANDOM.contains(n.op()));
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
            String m = Allclose.compare(expected.get(i), actual.get(i), RTOL, ATOL);
            assertNull(m, what + ": output " + i + ": " + m);
        }
    }
}
