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
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Autodiff on random small graphs: values flow through random unary, binary (with broadcasting), matrix and
 * reduction ops, several uses of one value included (gradients must accumulate); the gradient of the scalar loss
 * for every parameter is compared with central finite differences in float64.
 */
class RandomGraphGradientTest {
    private static final List<String> UNARY = List.of("Tanh", "Sigmoid", "Exp", "Neg", "Softplus", "Erf", "Sin");
    private static final List<String> BINARY = List.of("Add", "Sub", "Mul", "Div");

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void randomGraphGradientsMatchFiniteDifferences(long seed) {
        Random r = new Random(seed);
        GraphBuilder g = Graph.builder("random" + seed);
        List<Value> pool = new ArrayList<>();
        List<String> params = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Value p = g.initializer("p" + i, GradientCheck.random(r, -1, 1, i == 2 ? new long[] {4} : new long[] {3, 4}));
            pool.add(p);
            params.add(p.name());
        }
        for (int step = 0; step < 8; step++) {
            Value a = pool.get(r.nextInt(pool.size()));
            Value v = switch (r.nextInt(4)) {
                case 0 -> g.op(UNARY.get(r.nextInt(UNARY.size())), List.of(a), Map.of());
                case 1 -> {
                    Value b = pool.get(r.nextInt(pool.size()));
                    String op = BINARY.get(r.nextInt(BINARY.size()));
                    // keep denominators away from zero
                    if (op.equals("Div")) b = g.add(g.mul(b, b), g.constant(Tensor.scalar(DType.FLOAT64, 1)));
                    yield g.op(op, List.of(a, b), Map.of());
                }
                case 2 -> g.op("Softmax", List.of(a), Map.of("axis", Attr.of(-1L)));
                default -> g.op("ReduceMean", List.of(a, g.constant(Tensor.vector(-1))), Map.of("keepdims", Attr.of(1L)));
            };
            pool.add(v);
        }
        Value sum = pool.get(pool.size() - 1);
        for (int i = 3; i < pool.size() - 1; i += 2) sum = g.add(sum, pool.get(i));
        Value loss = g.op("ReduceSum", List.of(sum), Map.of("keepdims", Attr.of(0L)));
        g.output(loss);
        Graph forward = g.build();
        Autodiff.Result train = Autodiff.differentiate(forward, loss.name(), params, List.of());
        Map<String, Object> feeds = new HashMap<>();
        for (String p : params) feeds.put(p, forward.initializers().get(p));
        List<Object> out = Interpreter.run(Model.of(train.graph()), feeds);
        int k = 1;
        for (String p : params) {
            if (!train.gradients().containsKey(p)) continue;
            Tensor analytic = (Tensor) out.get(k++);
            Tensor x = forward.initializers().get(p);
            for (int e = 0; e < x.numel(); e++) {
                double num = (lossWith(forward, p, e, 1e-6) - lossWith(forward, p, e, -1e-6)) / 2e-6;
                double a = analytic.getDouble(e);
                assertTrue(Math.abs(a - num) <= 1e-5 * Math.max(1, Math.abs(num)),
                        "seed " + seed + " d/d" + p + "[" + e + "]: autodiff " + a + ", finite differences " + num);
            }
        }
    }

    private static double lossWith(Graph forward, String p, int e, double h) {
        Tensor x = forward.initializers().get(p);
        Tensor moved = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) moved.setDouble(i, x.getDouble(i) + (i == e ? h : 0));
        Map<String, Tensor> init = new LinkedHashMap<>(forward.initializers());
        init.put(p, moved);
        return ((Tensor) Interpreter.run(Model.of(forward.withInitializers(init)), Map.of()).get(0)).getDouble(0);
    }
}
