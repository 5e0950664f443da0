package dev.gale.passes;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Gradient lowering checked against hand-computed derivatives, run on the interpreter in float64. */
class LowerGradientOpsTest {
    private static final double[] A = {1.5, -2.0, 3.0}, B = {0.5, 4.0, -1.0};

    private static Map<String, Attr> attrs(List<String> xs, List<String> zs, String y) {
        Map<String, Attr> m = new HashMap<>();
        m.put("xs", new Attr.StringsAttr(xs));
        m.put("y", Attr.of(y));
        if (!zs.isEmpty()) m.put("zs", new Attr.StringsAttr(zs));
        return m;
    }

    private static List<Value> gradient(GraphBuilder b, List<String> xs, List<String> zs, String y, Value... at) {
        return b.op(OpsetInfo.TRAINING_DOMAIN, "Gradient", List.of(at), attrs(xs, zs, y), xs.size());
    }

    private static Tensor vec(double... v) { return Tensor.ofDoubles(new long[] {v.length}, v); }

    /** Lowers, checks no Gradient node is left, and runs with a = A, b = B. */
    private static List<double[]> run(Graph g) {
        Graph lowered = LowerGradientOps.apply(g);
        assertTrue(lowered.nodes().stream().noneMatch(LowerGradientOps::isGradient), "Gradient left after lowering");
        Map<String, Object> feeds = new HashMap<>();
        feeds.put("a", vec(A));
        feeds.put("b", vec(B));
        List<double[]> out = new ArrayList<>();
        for (Object o : Interpreter.run(Model.of(lowered), feeds)) out.add((double[]) ((Tensor) o).data());
        return out;
    }

    private static GraphBuilder twoInputs() {
        GraphBuilder b = Graph.builder("g");
        b.input("a", DType.FLOAT64, 3);
        b.input("b", DType.FLOAT64, 3);
        return b;
    }

    private static Value a(GraphBuilder b) { return new Value("a", b.typeOf("a")); }

    private static Value bv(GraphBuilder b) { return new Value("b", b.typeOf("b")); }

    @Test
    void addAndMulOfGraphInputsReusesTheForwardNodes() {
        GraphBuilder b = twoInputs();
        Value d = b.mul(b.add(a(b), bv(b)), a(b)); // d = (a + b) * a
        List<Value> g = gradient(b, List.of("a", "b"), List.of(), d.name(), a(b), bv(b));
        b.output(d);
        g.forEach(b::output);
        Graph graph = b.build();
        List<double[]> r = run(graph);
        for (int i = 0; i < 3; i++) {
            assertEquals((A[i] + B[i]) * A[i], r.get(0)[i], 1e-12);
            assertEquals(2 * A[i] + B[i], r.get(1)[i], 1e-12); // d(sum d)/da
            assertEquals(A[i], r.get(2)[i], 1e-12);            // d(sum d)/db
        }
        // the forward Add and Mul are reused, not copied
        Graph lowered = LowerGradientOps.apply(graph);
        assertEquals(1, lowered.nodes().stream()
                .filter(n -> n.op().equals("Add") && n.inputs().get(0).name().equals("a")).count());
    }

    @Test
    void zsAreHeldFixedAndIntermediateXsStopTheChain() {
        GraphBuilder b = twoInputs();
        Value h = b.mul(a(b), a(b));                         // h = a^2
        Value y = b.mul(h, bv(b));                           // y = h * b
        List<Value> dh = gradient(b, List.of(h.name()), List.of("b"), y.name(), h, bv(b));
        b.output(dh.get(0));
        List<double[]> r = run(b.build());
        assertArrayEquals(B, r.get(0), 1e-12);               // dy/dh = b, not 2ab
    }

    @Test
    void inputsOtherThanTheNamedValuesSubstituteThePoint() {
        GraphBuilder b = twoInputs();
        Value y = b.mul(b.mul(a(b), a(b)), bv(b));           // y = a^2 * b
        Value a1 = b.add(a(b), b.constant(Tensor.scalar(DType.FLOAT64, 1.0)));
        // gradient with respect to a, evaluated at a + 1; b held at its own value
        List<Value> g = gradient(b, List.of("a"), List.of("b"), y.name(), a1, bv(b));
        b.output(y);
        b.output(g.get(0));
        List<double[]> r = run(b.build());
        for (int i = 0; i < 3; i++) {
            assertEquals(A[i] * A[i] * B[i], r.get(0)[i], 1e-12); // the original y is untouched
            assertEquals(2 * (A[i] + 1) * B[i], r.get(1)[i], 1e-12);
        }
    }

    @Test
    void aGradientThatDoesNotReachAnInputIsZero() {
        GraphBuilder b = twoInputs();
        Value y = b.mul(a(b), a(b));
        List<Value> g = gradient(b, List.of("a", "b"), List.of(), y.name(), a(b), bv(b));
        g.forEach(b::output);
        List<double[]> r = run(b.build());
        assertArrayEquals(new double[] {2 * A[0], 2 * A[1], 2 * A[2]}, r.get(0), 1e-12);
        assertArrayEquals(new double[3], r.get(1), 0);
    }

    @Test
    void secondOrderGradientListedBeforeTheFirst() {
        GraphBuilder b = twoInputs();
        Value y = b.mul(b.mul(a(b), a(b)), a(b));            // y = a^3
        Value d1 = gradient(b, List.of("a"), List.of(), y.name(), a(b)).get(0);  // 3a^2
        Value d2 = gradient(b, List.of("a"), List.of(), d1.name(), a(b)).get(0); // 6a
        b.output(d1);
        b.output(d2);
        Graph g = b.build();
        // put the outer Gradient (and y's producers) after the inner one's consumer: lowering must sort it out
        List<Node> nodes = new ArrayList<>(g.nodes());
        Node outer = nodes.remove(nodes.size() - 1);
        nodes.add(0, outer);
        List<double[]> r = run(g.withNodes(nodes));
        for (int i = 0; i < 3; i++) {
            assertEquals(3 * A[i] * A[i], r.get(0)[i], 1e-12);
            assertEquals(6 * A[i], r.get(1)[i], 1e-12);
        }
    }

    @Test
    void aGraphWithoutGradientNodesIsReturnedAsIs() {
        GraphBuilder b = twoInputs();
        b.output(b.add(a(b), bv(b)));
        Graph g = b.build();
        assertSame(g, LowerGradientOps.apply(g));
    }

    @Test
    void unknownYIsAClearError() {
        GraphBuilder b = twoInputs();
        b.output(gradient(b, List.of("a"), List.of(), "nope", a(b)).get(0));
        GaleException e = assertThrows(GaleException.class, () -> LowerGradientOps.apply(b.build()));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
    }

    @Test
    void theInterpreterRefusesAnUnloweredGradient() {
        GraphBuilder b = twoInputs();
        Value y = b.mul(a(b), bv(b));
        b.output(gradient(b, List.of("a"), List.of(), y.name(), a(b)).get(0));
        Model m = Model.of(b.build());
        GaleException e = assertThrows(GaleException.class,
                () -> Interpreter.run(m, Map.of("a", vec(A), "b", vec(B))));
        assertTrue(e.getMessage().contains("LowerGradientOps"), e.getMessage());
    }
}
