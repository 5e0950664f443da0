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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The nn rules on a batch size known only at run time: {@code x: [batch, ...]} scales a trained {@code w} of the
 * remaining shape, the op under test runs on {@code h = x * w} (with its own trained parameters), and the loss is
 * {@code sum(op(h)^2)}. Every trained gradient is checked against central differences with batch = 2.
 */
class NnGradientsSymbolicTest {
    /** {@code params}: shapes of the op's trained inputs after h; null entries are omitted inputs. */
    record Case(String name, String op, Map<String, Attr> attrs, long[] xShape, List<long[]> params, int outputs) {
        @Override
        public String toString() { return name; }
    }

    static long[] s(long... v) { return v; }

    static Stream<Case> cases() {
        long[] img = s(2, 4, 4), seq = s(3, 4);
        List<Case> c = new ArrayList<>();
        c.add(new Case("Conv", "Conv", Map.of("pads", Attr.of(1L, 1L, 1L, 1L), "strides", Attr.of(2L, 1L)), img,
                List.of(s(3, 2, 3, 3), s(3)), 1));
        c.add(new Case("ConvTranspose", "ConvTranspose", Map.of("strides", Attr.of(2L, 2L)), img,
                List.of(s(2, 3, 2, 2), s(3)), 1));
        c.add(new Case("MaxPool", "MaxPool", Map.of("kernel_shape", Attr.of(2L, 2L), "strides", Attr.of(2L, 2L)), img,
                List.of(), 1));
        c.add(new Case("AveragePool", "AveragePool", Map.of("kernel_shape", Attr.of(3L, 3L),
                "pads", Attr.of(1L, 1L, 1L, 1L)), img, List.of(), 1));
        c.add(new Case("GlobalAveragePool", "GlobalAveragePool", Map.of(), img, List.of(), 1));
        c.add(new Case("GlobalMaxPool", "GlobalMaxPool", Map.of(), img, List.of(), 1));
        c.add(new Case("BatchNormalization training", "BatchNormalization", Map.of("training_mode", Attr.of(1L)), img,
                List.of(s(2), s(2)), 1));
        c.add(new Case("InstanceNormalization", "InstanceNormalization", Map.of(), img, List.of(s(2), s(2)), 1));
        c.add(new Case("GroupNormalization", "GroupNormalization", Map.of("num_groups", Attr.of(1L)), img,
                List.of(s(1), s(1)), 1));
        c.add(new Case("LayerNormalization", "LayerNormalization", Map.of(), seq, List.of(s(4), s(4)), 1));
        c.add(new Case("MatMul", "MatMul", Map.of(), seq, List.of(s(4, 5)), 1));
        c.add(new Case("MatMul batch on the right", "MatMul", Map.of(), seq, List.of(s(5, 3)), 1));
        c.add(new Case("Einsum", "Einsum", Map.of("equation", Attr.of("bij,jk->bik")), seq, List.of(s(4, 2)), 1));
        c.add(new Case("Gemm", "Gemm", Map.of("transB", Attr.of(1L)), s(4), List.of(s(3, 4), s(3)), 1));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientOfBatchedGraph(Case k) {
        Random r = new Random(11);
        GraphBuilder g = Graph.builder("symbolic");
        Object[] dims = new Object[k.xShape().length + 1];
        dims[0] = "batch";
        for (int i = 0; i < k.xShape().length; i++) dims[i + 1] = k.xShape()[i];
        Value x = g.input("x", DType.FLOAT64, dims);
        Value w = g.initializer("w", GradientCheck.random(r, 0.5, 1.5, k.xShape()));
        List<String> params = new ArrayList<>(List.of(w.name()));
        Value h = g.mul(x, w);
        List<Value> in = new ArrayList<>();
        // "MatMul batch on the right": the trained matrix comes first, h second.
        boolean swap = k.name().contains("on the right");
        if (!swap) in.add(h);
        for (long[] p : k.params()) {
            Value v = g.initializer("p", GradientCheck.random(r, -1, 1, p));
            params.add(v.name());
            in.add(v);
        }
        if (swap) in.add(h);
        if (k.op().equals("BatchNormalization")) {
            in.add(g.initializer("mean", Tensor.zeros(DType.FLOAT64, 2)));
            in.add(g.initializer("var", GradientCheck.random(r, 1, 2, 2)));
        }
        Value y = g.op("", k.op(), in, k.attrs(), k.outputs()).get(0);
        Value loss = g.op("ReduceSum", List.of(g.mul(y, y)), Map.of("keepdims", Attr.of(0L)));
        g.output(loss);
        Graph forward = g.build();
        Autodiff.Result train = Autodiff.differentiate(forward, loss.name(), params, List.of());

        long[] xs = new long[k.xShape().length + 1];
        xs[0] = 2;
        System.arraycopy(k.xShape(), 0, xs, 1, k.xShape().length);
        Tensor xv = GradientCheck.random(r, -1, 1, xs);
        Map<String, Object> feeds = new LinkedHashMap<>();
        feeds.put(x.name(), xv);
        for (String p : params) feeds.put(p, forward.initializers().get(p));
        List<Object> out = Interpreter.run(Model.of(train.graph()), feeds);
        int at = 1;
        for (String p : params)
            GradientCheck.assertMatchesFiniteDifferences(forward, Map.of(x.name(), xv), p, (Tensor) out.get(at++),
                    k.name() + ": ");
    }
}
