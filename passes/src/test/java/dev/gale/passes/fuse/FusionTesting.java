package dev.gale.passes.fuse;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.text.TextParser;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks for pattern fusion tests written in text IR: run {@code fuse-patterns} on a graph, compare which fusions
 * fired and what ops are left, and run the interpreter on random inputs before and after (a fusion that fires must
 * keep the outputs; rtol 1e-5, atol 1e-6).
 */
final class FusionTesting {
    static final double RTOL = 1e-5, ATOL = 1e-6;

    private FusionTesting() {}

    record Fused(Graph before, Graph after, Map<String, Long> fired) {
        /** Count of each op (domain::op for non-ONNX domains) in the fused graph. */
        Map<String, Integer> ops() {
            Map<String, Integer> m = new TreeMap<>();
            for (Node n : after.nodes())
                m.merge((n.domain().isEmpty() ? "" : n.domain() + "::") + n.op(), 1, Integer::sum);
            return m;
        }

        /** The one node of {@code op} in the fused graph. */
        Node node(String op) {
            List<Node> found = after.nodes().stream().filter(n -> n.op().equals(op)).toList();
            assertEquals(1, found.size(), "nodes of " + op + " in\n" + after);
            return found.get(0);
        }
    }

    static Graph parse(String text) { return TextParser.parse(text, "<test>").graph(); }

    static Fused fuse(String text, Map<String, String> options) {
        Graph g = parse(text);
        PassContext ctx = new PassContext(options);
        Graph out = new Pipeline(List.of(new FusePatterns())).run(g, ctx, true, null).graph();
        return new Fused(g, out, FusePatterns.fired(ctx));
    }

    /** Fuses {@code text}; the fusions that fired are {@code fired} ("{fuse.gelu=1}") and the outputs agree. */
    static Fused assertFuses(String text, String fired) { return assertFuses(text, fired, Map.of()); }

    static Fused assertFuses(String text, String fired, Map<String, String> options) {
        Fused f = fuse(text, options);
        assertEquals(fired, f.fired().toString(), "fusions fired; graph after:\n" + f.after());
        assertSameOutputs(f.before(), f.after());
        return f;
    }

    /** Nothing fires on {@code text}: a near miss that would change the result if it fused. */
    static void assertNoFusion(String text) { assertNoFusion(text, Map.of()); }

    static void assertNoFusion(String text, Map<String, String> options) {
        Fused f = fuse(text, options);
        assertEquals("{}", f.fired().toString(), "no fusion may fire; graph after:\n" + f.after());
    }

    /** Runs both graphs on the same random inputs (symbolic and unknown dims of size 3) and compares. */
    static void assertSameOutputs(Graph before, Graph after) {
        Map<String, Object> feeds = new HashMap<>();
        Random rng = new Random(42);
        for (Value v : before.runtimeInputs()) {
            if (!(v.type() instanceof Type.TensorType t) || t.shape() == null) fail("input " + v + " needs a shape");
            Type.TensorType t = (Type.TensorType) v.type();
            long[] dims = new long[t.shape().rank()];
            for (int k = 0; k < dims.length; k++) dims[k] = t.shape().dim(k) instanceof Dim.Fixed f ? f.size() : 3;
            Tensor x = Tensor.zeros(t.dtype(), dims);
            for (int i = 0; i < x.numel(); i++) {
                if (t.dtype().isFloat()) x.setDouble(i, rng.nextGaussian() * 2);
                else if (t.dtype() == DType.BOOL) x.setLong(i, rng.nextInt(2));
                else x.setLong(i, rng.nextInt(5) - 2);
            }
            feeds.put(v.name(), x);
        }
        List<Object> a = run(before, feeds), b = run(after, feeds);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            Tensor x = (Tensor) a.get(i), y = (Tensor) b.get(i);
            assertEquals(x.dtype(), y.dtype(), "output " + i + " element type");
            assertTrue(java.util.Arrays.equals(x.shape(), y.shape()), "output " + i + " shape");
            for (int k = 0; k < x.numel(); k++) {
                double p = x.getDouble(k), q = y.getDouble(k);
                if (Double.isNaN(p) && Double.isNaN(q)) continue;
                assertTrue(Math.abs(p - q) <= ATOL + RTOL * Math.abs(p),
                        "output " + i + " element " + k + ": " + p + " before, " + q + " after");
            }
        }
    }

    static List<Object> run(Graph g, Map<String, Object> feeds) {
        Interpreter interp = new Interpreter(Model.of(g));
        interp.seed(0);
        return interp.run(feeds);
    }
}
