package dev.gale.torture.grad;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.Autodiff;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Elementwise rules on shapes known only at run time: a batch input {@code x: [batch, 3]} scales a trained
 * {@code w: [3]} into {@code h = x * w}, the op under test combines h with a trained {@code v} (broadcast against
 * the batch), and the loss is {@code sum(op(...)^2)}. Undoing the broadcast and the zero gradients of step functions
 * must then take shapes from Shape nodes. Gradients of w and v are checked against central differences (batch 2).
 */
class ElementwiseGradientsSymbolicTest {
    /** {@code vShape}: v's shape; {@code vFirst}: v is the op's first input; {@code positive}: h goes through Exp. */
    record Case(String name, String op, Map<String, Attr> attrs, long[] vShape, boolean vFirst, boolean positive) {
        @Override
        public String toString() { return name; }
    }

    static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        for (String op : List.of("Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean")) {
            c.add(new Case(op + " h, v[3]", op, Map.of(), new long[] {3}, false, op.equals("Div")));
            c.add(new Case(op + " v[1, 1], h", op, Map.of(), new long[] {1, 1}, true, op.equals("Div")));
        }
        c.add(new Case("Pow h, v[3]", "Pow", Map.of(), new long[] {3}, false, true));
        c.add(new Case("Pow v[], h", "Pow", Map.of(), new long[] {}, true, false));
        c.add(new Case("Mod fmod h, v[3]", "Mod", Map.of("fmod", Attr.of(1L)), new long[] {3}, false, false));
        c.add(new Case("PRelu h, v[3]", "PRelu", Map.of(), new long[] {3}, false, false));
        for (String op : List.of("Relu", "Tanh", "Floor", "Sign", "Round", "Ceil"))
            c.add(new Case(op, op, Map.of(), null, false, false));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientOfBatchedGraph(Case k) {
        Random r = new Random(11);
        GraphBuilder g = Graph.builder("symbolic_" + k.op());
        Value x = g.input("x", DType.FLOAT64, "batch", 3);
        Value w = g.initializer("w", GradientCheck.random(r, 0.5, 1.5, 3));
        Value h = g.mul(x, w);
        if (k.positive()) h = g.exp(h);
        List<String> params = new ArrayList<>(List.of(w.name()));
        List<Value> in = new ArrayList<>(List.of(h));
        if (k.vShape() != null) {
            Tensor v0 = GradientCheck.random(r, 0.5, 1.5, k.vShape());
            if (k.op().equals("Mod")) for (int i = 0; i < v0.numel(); i++) v0.setDouble(i, 3 + v0.getDouble(i));
            Value v = g.initializer("v", v0);
            params.add(v.name());
            in.add(k.vFirst() ? 0 : 1, v);
        }
        Value y = g.op("", k.op(), in, k.attrs(), 1).get(0);
        Value loss = g.op("ReduceSum", List.of(g.mul(y, y)), Map.of("keepdims", Attr.of(0L)));
        g.output(loss);
        Graph forward = g.build();

        Autodiff.Result train = Autodiff.differentiate(forward, loss.name(), params, List.of());
        Map<String, Object> feeds = new HashMap<>();
        feeds.put(x.name(), GradientCheck.random(r, -1, 1, 2, 3));
        Map<String, Object> trainFeeds = new HashMap<>(feeds);
        for (String p : params) trainFeeds.put(p, forward.initializers().get(p));
        List<Object> results = Interpreter.run(Model.of(train.graph()), trainFeeds);
        for (int pi = 0; pi < params.size(); pi++) {
            String p = params.get(pi);
            GradientCheck.assertMatchesFiniteDifferences(forward, feeds, p, (Tensor) results.get(1 + pi), k + ": ");
        }
    }
}
