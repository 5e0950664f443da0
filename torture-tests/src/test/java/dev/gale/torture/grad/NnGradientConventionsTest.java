package dev.gale.torture.grad;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.Autodiff;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What finite differences cannot check: where the nn rules send gradients at ties, the divisors of padded pooling
 * windows, and the Dropout errors. Expected values come from PyTorch 1.13 (float64, loss = sum(y * [1, 2, 3, ...])).
 */
class NnGradientConventionsTest {
    static Tensor t(long[] shape, double... v) { return Tensor.ofDoubles(shape, v); }

    static long[] s(long... v) { return v; }

    /** d sum(y * [1, 2, ...]) / d x for y = op(x, rest...), x trainable. */
    static double[] grad(String op, Map<String, Attr> attrs, Tensor x, Tensor... rest) {
        GraphBuilder g = Graph.builder("t");
        List<Value> in = new ArrayList<>();
        Value xv = g.initializer("x", x);
        in.add(xv);
        for (int i = 0; i < rest.length; i++) in.add(rest[i] == null ? Value.NONE : g.initializer("c" + i, rest[i]));
        Value y = g.op("", op, in, attrs, 1).get(0);
        Tensor w = Tensor.zeros(DType.FLOAT64, ((Type.TensorType) y.type()).shape().sizes());
        for (int i = 0; i < w.numel(); i++) w.setDouble(i, i + 1);
        Value seed = g.initializer("w", w);
        g.output(y);
        Graph forward = g.build();
        Autodiff.Result r = Autodiff.vjp(forward, Map.of(y.name(), seed.name()), List.of(xv.name()), List.of());
        List<Object> out = Interpreter.run(Model.of(r.graph()), Map.of(xv.name(), x));
        return ((Tensor) out.get(1)).toDoubleArray();
    }

    @Test
    void maxPoolSendsTheGradientToTheFirstMaximum() {
        Tensor x = t(s(1, 1, 3, 3), 1, 3, 3, 3, 2, 1, 0, 3, 3);
        assertArrayEquals(new double[] {0, 3, 0, 3, 0, 0, 0, 4, 0},
                grad("MaxPool", Map.of("kernel_shape", Attr.of(2L, 2L)), x), 1e-12);
    }

    @Test
    void maxPoolOfEqualValuesPicksTheFirstInBoundsPosition() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 1, 1, 3, 3);
        assertArrayEquals(new double[] {1, 2, 0, 3, 4, 0, 0, 0, 0}, grad("MaxPool", Map.of("kernel_shape",
                Attr.of(3L, 3L), "strides", Attr.of(2L, 2L), "pads", Attr.of(1L, 1L, 1L, 1L)), x), 1e-12);
    }

    @Test
    void globalMaxPoolSendsTheGradientToTheFirstMaximum() {
        Tensor x = t(s(1, 2, 3), 1, 5, 5, 5, 0, 5);
        assertArrayEquals(new double[] {0, 1, 0, 2, 0, 0}, grad("GlobalMaxPool", Map.of(), x), 1e-12);
    }

    private static Tensor arange16() {
        Tensor a = Tensor.zeros(DType.FLOAT64, 1, 1, 4, 4);
        for (int i = 0; i < 16; i++) a.setDouble(i, i);
        return a;
    }

    @Test
    void averagePoolCeilModeDivisorsMatchPyTorch() {
        Map<String, Attr> base = Map.of("kernel_shape", Attr.of(3L, 3L), "strides", Attr.of(2L, 2L),
                "pads", Attr.of(1L, 1L, 1L, 1L), "ceil_mode", Attr.of(1L), "count_include_pad", Attr.of(1L));
        assertArrayEquals(new double[] {1 / 9.0, 3 / 9.0, 2 / 9.0, 0.7222222222222222, 0.5555555555555556,
                1.3333333333333333, 0.7777777777777778, 2.2777777777777777, 0.4444444444444444, 1.0,
                0.5555555555555556, 1.5555555555555556, 1.6111111111111112, 3.5, 1.8888888888888888,
                5.138888888888889}, grad("AveragePool", base, arange16()), 1e-12);
        Map<String, Attr> exclude = new java.util.HashMap<>(base);
        exclude.put("count_include_pad", Attr.of(0L));
        assertArrayEquals(new double[] {0.25, 0.5833333333333333, 0.3333333333333333, 1.8333333333333333,
                0.9166666666666666, 1.8055555555555556, 0.8888888888888888, 4.388888888888889, 0.6666666666666666,
                1.2222222222222223, 0.5555555555555556, 2.5555555555555554, 4.166666666666667, 7.388888888888889,
                3.2222222222222223, 14.222222222222221}, grad("AveragePool", exclude, arange16()), 1e-12);
    }

    @Test
    void dropoutInTrainingModeWithoutItsMaskIsAnErrorAtCompileTime() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 2, 3);
        GaleException e = assertThrows(GaleException.class, () -> grad("Dropout", Map.of(), x,
                Tensor.scalar(DType.FLOAT32, 0.1), Tensor.ofBools(new long[0], true)));
        assertTrue(e.getMessage().contains("mask output"), e.getMessage());
    }

    @Test
    void dropoutWithoutMaskIsTheIdentityWhenNotTraining() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 2, 2);
        assertArrayEquals(new double[] {1, 2, 3, 4}, grad("Dropout", Map.of(), x,
                Tensor.scalar(DType.FLOAT32, 0.1), Tensor.ofBools(new long[0], false)), 0);
        assertArrayEquals(new double[] {1, 2, 3, 4}, grad("Dropout", Map.of(), x), 0);
    }

    /** PyTorch exports dropout=0.0 as Dropout(x, 0, true) with its mask: the gradient is dy, with no mask product. */
    @Test
    void dropoutWithAKnownRatioOfZeroPassesTheGradientStraightThrough() {
        for (double ratio : new double[] {0, 0.25}) {
            GraphBuilder g = Graph.builder("t");
            Value x = g.initializer("x", Tensor.ofDoubles(new long[] {3}, 1, -2, 3));
            List<Value> y = g.op("", "Dropout", List.of(x, g.constant(Tensor.scalar(DType.FLOAT64, ratio)),
                    g.constant(Tensor.ofBools(new long[0], true))), Map.of(), 2);
            Value w = g.initializer("w", Tensor.ofDoubles(new long[] {3}, 4, 5, 6));
            g.output(y.get(0));
            Graph f = g.build();
            Autodiff.Result r = Autodiff.vjp(f, Map.of(y.get(0).name(), w.name()), List.of("x"), List.of());
            List<String> backward = r.graph().nodes().stream().skip(f.nodes().size()).map(n -> n.op()).toList();
            Tensor dx = (Tensor) Interpreter.run(Model.of(r.graph()), Map.of("x", Tensor.ofDoubles(new long[] {3}, 1, -2, 3)))
                    .get(1);
            if (ratio == 0) {
                assertEquals(List.of("Identity"), backward, "backward nodes for a ratio of 0 (the Identity names dx)");
                assertArrayEquals(new double[] {4, 5, 6}, dx.toDoubleArray(), 0);
            } else {
                assertTrue(backward.contains("Mul"), "a ratio of 0.25 keeps the mask's gradient: " + backward);
                for (int i = 0; i < 3; i++) {
                    double d = dx.getDouble(i);
                    assertTrue(d == 0 || Math.abs(d - (4 + i) / 0.75) < 1e-12, "dx[" + i + "] = " + d);
                }
            }
        }
    }

    @Test
    void dropoutWithoutMaskFailsAtRunTimeWhenTrainingModeIsAnInput() {
        GraphBuilder g = Graph.builder("t");
        Value x = g.initializer("x", Tensor.zeros(DType.FLOAT64, 3));
        Value training = g.input("training", DType.BOOL);
        Value y = g.op("", "Dropout", List.of(x, g.constant(Tensor.scalar(DType.FLOAT64, 0.5)), training), Map.of(), 1)
                .get(0);
        Value w = g.initializer("w", Tensor.zeros(DType.FLOAT64, 3));
        g.output(y);
        Graph f = g.build();
        Autodiff.Result r = Autodiff.vjp(f, Map.of(y.name(), w.name()), List.of("x"), List.of());
        Map<String, Object> feeds = Map.of("x", Tensor.zeros(DType.FLOAT64, 3), training.name(),
                Tensor.ofBools(new long[0], false));
        assertEquals(3, ((Tensor) Interpreter.run(Model.of(r.graph()), feeds).get(1)).numel());
        GaleException e = assertThrows(GaleException.class, () -> Interpreter.run(Model.of(r.graph()),
                Map.of("x", Tensor.zeros(DType.FLOAT64, 3), training.name(), Tensor.ofBools(new long[0], true))));
        assertTrue(e.getMessage().contains("mask output"), e.getMessage());
    }

    @Test
    void batchNormInferenceGivesRunningStatisticsNoGradient() {
        GraphBuilder g = Graph.builder("t");
        Value x = g.initializer("x", Tensor.zeros(DType.FLOAT64, 2, 2));
        List<Value> in = new ArrayList<>(List.of(x));
        for (String n : List.of("scale", "b", "mean", "var")) in.add(g.initializer(n, t(s(2), 1, 1)));
        Value y = g.op("", "BatchNormalization", in, Map.of(), 1).get(0);
        Value w = g.initializer("w", Tensor.zeros(DType.FLOAT64, 2, 2));
        g.output(y);
        Autodiff.Result r = Autodiff.vjp(g.build(), Map.of(y.name(), w.name()),
                List.of("x", "scale", "b", "mean", "var"), List.of());
        assertEquals(List.of("x", "scale", "b"), List.copyOf(r.gradients().keySet()));
    }
}
