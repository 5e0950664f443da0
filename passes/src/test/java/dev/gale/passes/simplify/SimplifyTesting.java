package dev.gale.passes.simplify;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared helpers of the simplification tests: run a pass (verified), list ops, compare runs on the interpreter. */
final class SimplifyTesting {
    private SimplifyTesting() {}

    /** {@code pass} applied through a pipeline that verifies its result. */
    static Graph apply(Pass pass, Graph g, PassContext ctx) {
        return new Pipeline(List.of(pass)).run(g, ctx, true, null).graph();
    }

    static Graph apply(Pass pass, Graph g) { return apply(pass, g, PassContext.defaults()); }

    /** The graph's ops in node order, e.g. {@code [Constant, Add]}. */
    static List<String> ops(Graph g) { return g.nodes().stream().map(Node::op).toList(); }

    /** Random tensors for every runtime input (floats in [-2, 2), integers in [0, 5)); symbolic dims become 2. */
    static Map<String, Object> feeds(Graph g, long seed) {
        Random rnd = new Random(seed);
        Map<String, Object> f = new HashMap<>();
        for (Value v : g.runtimeInputs()) {
            var t = v.tensorType();
            long[] shape = t.shape().dims().stream().mapToLong(d -> d.sizeOr(2)).toArray();
            Tensor x = Tensor.zeros(t.dtype(), shape);
            for (int i = 0; i < x.numel(); i++) {
                if (t.dtype().isFloat()) x.setDouble(i, rnd.nextDouble() * 4 - 2);
                else x.setLong(i, rnd.nextInt(5));
            }
            f.put(v.name(), x);
        }
        return f;
    }

    static List<Object> run(Graph g, Map<String, Object> feeds) { return Interpreter.run(Model.of(g), feeds); }

    /** Both graphs give bit-identical outputs on the same random inputs. */
    static void assertSameResults(Graph before, Graph after, long seed) {
        Map<String, Object> f = feeds(before, seed);
        List<Object> a = run(before, f), b = run(after, f);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            Tensor x = (Tensor) a.get(i), y = (Tensor) b.get(i);
            assertEquals(x.dtype(), y.dtype(), "output " + i + " element type");
            assertArrayEquals(x.shape(), y.shape(), "output " + i + " shape");
            assertEquals(x, y, "output " + i);
        }
    }

    /** The constant held by the Constant node defining {@code name}. */
    static Tensor constantOf(Graph g, String name) {
        for (Node n : g.nodes())
            if (n.op().equals("Constant") && n.output(0).name().equals(name)) return ValueRefs.constantValue(n);
        throw new AssertionError("no Constant defines " + name + " in " + ops(g));
    }

    static Tensor floats(long[] shape, float... v) { return Tensor.ofFloats(shape, v); }

    static Tensor ones(DType t, long... shape) {
        Tensor x = Tensor.zeros(t, shape);
        for (int i = 0; i < x.numel(); i++) x.setDouble(i, 1);
        return x;
    }

    static List<String> names(List<Value> vs) {
        List<String> r = new ArrayList<>();
        for (Value v : vs) r.add(v.name());
        return r;
    }
}
