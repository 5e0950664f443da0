package dev.gale.torture.grad;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.Autodiff;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Elementwise gradients exactly at the points where the forward function has no derivative, where finite differences
 * cannot tell conventions apart. Expected values are PyTorch's (derivatives.yaml and the CPU backward kernels):
 * relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds, torch.maximum splits ties evenly, pow gives the
 * base 0 where the exponent is 0 and the exponent 0 where the base is 0 (exponent >= 0), and so on.
 */
class ElementwiseGradientKinksTest {
    private static final Map<String, Attr> NONE = Map.of();

    /** An input: its values and whether it is trained. */
    private record In(Tensor value, boolean trained) {}

    private static In train(double... v) { return new In(Tensor.ofDoubles(new long[] {v.length}, v), true); }

    private static In train(long[] shape, double... v) { return new In(Tensor.ofDoubles(shape, v), true); }

    private static In fixed(double... v) { return new In(Tensor.ofDoubles(new long[] {v.length}, v), false); }

    private static In scalar(double v) { return new In(Tensor.scalar(DType.FLOAT64, v), true); }

    /**
     * Gradients of {@code sum(op(inputs))} with respect to the trained inputs, in input order (dy = 1 everywhere, so
     * each gradient is the derivative itself, summed over broadcasting).
     */
    private static List<double[]> grads(String op, Map<String, Attr> attrs, In... ins) {
        GraphBuilder g = Graph.builder("kink_" + op);
        List<Value> in = new ArrayList<>();
        List<String> params = new ArrayList<>();
        for (int i = 0; i < ins.length; i++) {
            if (ins[i] == null) {
                in.add(Value.NONE);
                continue;
            }
            Value v = g.initializer("in" + i, ins[i].value());
            in.add(v);
            if (ins[i].trained()) params.add(v.name());
        }
        Value y = g.op("", op, in, attrs, 1).get(0);
        long[] shape = ((Type.TensorType) y.type()).shape().sizes();
        Tensor ones = Tensor.zeros(((Type.TensorType) y.type()).dtype(), shape);
        for (int i = 0; i < ones.numel(); i++) ones.setDouble(i, 1);
        Value seed = g.initializer("seed", ones);
        g.output(y);
        Graph forward = g.build();
        Autodiff.Result r = Autodiff.vjp(forward, Map.of(y.name(), seed.name()), params, List.of());
        Map<String, Object> feeds = new HashMap<>();
        for (String p : params) feeds.put(p, forward.initializers().get(p));
        List<Object> out = Interpreter.run(Model.of(r.graph()), feeds);
        List<double[]> result = new ArrayList<>();
        for (int k = 1; k < out.size(); k++) {
            Tensor t = (Tensor) out.get(k);
            double[] d = new double[t.numel()];
            for (int i = 0; i < d.length; i++) d[i] = t.getDouble(i);
            result.add(d);
        }
        assertEquals(params.size(), result.size(), "every trained input should get a gradient");
        return result;
    }

    private static void check(double[] expected, double[] actual, String what) {
        assertArrayEquals(expected, actual, 1e-12, what + ": got " + Arrays.toString(actual));
    }

    @Test
    void reluFamilyAtZero() {
        check(new double[] {0, 0, 1}, grads("Relu", NONE, train(-1, 0, 2)).get(0), "relu'(0) = 0");
        check(new double[] {0.25, 0.25, 1}, grads("LeakyRelu", Map.of("alpha", Attr.of(0.25f)), train(-1, 0, 2)).get(0),
                "leaky_relu'(0) = alpha");
        check(new double[] {0, 1, 0}, grads("ThresholdedRelu", NONE, train(1, 1.5, 0.5)).get(0),
                "thresholded relu at alpha: 0");
        check(new double[] {-1, 0, 1}, grads("Abs", NONE, train(-1, 0, 2)).get(0), "abs'(0) = 0");
    }

    @Test
    void eluFamilyTakesTheNegativeBranchAtZero() {
        check(new double[] {0.5}, grads("Elu", Map.of("alpha", Attr.of(0.5f)), train(0)).get(0), "elu'(0) = alpha");
        double alpha = 1.67326319217681884765625f, gamma = 1.05070102214813232421875f;
        assertEquals(alpha * gamma, grads("Selu", NONE, train(0)).get(0)[0], 1e-6, "selu'(0) = gamma alpha");
        check(new double[] {1}, grads("Celu", Map.of("alpha", Attr.of(2f)), train(0)).get(0), "celu'(0) = 1");
    }

    @Test
    void preluAtZeroUsesTheSlope() {
        List<double[]> g = grads("PRelu", NONE, train(0, -1, 1), train(0.25));
        check(new double[] {0.25, 0.25, 1}, g.get(0), "dx");
        check(new double[] {-1}, g.get(1), "dslope = sum of x where x <= 0");
    }

    @Test
    void hardActivationsAtTheirCorners() {
        check(new double[] {-0.5, 1.5, 0, 1, 0.5}, grads("HardSwish", NONE, train(-3, 3, -4, 4, 0)).get(0),
                "hardswish'(-3) = -1/2, hardswish'(3) = 3/2");
        check(new double[] {0, 0, 0.2f}, grads("HardSigmoid", NONE, train(-2.5, 2.5, 0)).get(0),
                "hardsigmoid: 0 at the corners");
        check(new double[] {0, 0, 1, 1, 0},
                grads("Shrink", Map.of("bias", Attr.of(0.1f)), train(-0.5, 0.5, 0.7, -0.7, 0)).get(0),
                "shrink: 0 at +-lambd");
    }

    @Test
    void clipPassesTheGradientAtItsBounds() {
        List<double[]> g = grads("Clip", NONE, train(-0.5, 0.5, 0.7, -0.7, 0), scalar(-0.5), scalar(0.5));
        check(new double[] {1, 1, 0, 0, 1}, g.get(0), "dx: bounds pass");
        check(new double[] {1}, g.get(1), "dmin: the elements below min");
        check(new double[] {1}, g.get(2), "dmax: the elements above max");
        g = grads("Clip", NONE, train(0, 1, -1), scalar(0.5), scalar(-0.5));
        check(new double[] {0, 0, 0}, g.get(0), "min > max: the output is max");
        check(new double[] {0}, g.get(1), "min > max: min has no gradient");
        check(new double[] {3}, g.get(2), "min > max: max takes all");
        g = grads("Clip", NONE, train(0.2, 0, 1), scalar(0.2), scalar(0.2));
        check(new double[] {1, 0, 0}, g.get(0), "min == max: x at the bound passes");
        check(new double[] {0}, g.get(1), "min == max: min gets nothing");
        check(new double[] {1}, g.get(2), "min == max: max gets the elements above it");
        check(new double[] {1, 1, 0}, grads("Clip", NONE, train(-1, 0.5, 0.7), null, fixed(0.5)).get(0),
                "max only");
        check(new double[] {0, 1, 1}, grads("Clip", NONE, train(-1, 0.5, 0.7), fixed(0.5)).get(0), "min only");
    }

    @Test
    void maxAndMinSplitTiesEvenly() {
        List<double[]> g = grads("Max", NONE, train(1, 2, 3), train(1, 1, 4));
        check(new double[] {0.5, 1, 0}, g.get(0), "max da");
        check(new double[] {0.5, 0, 1}, g.get(1), "max db");
        g = grads("Min", NONE, train(1, 2, 3), train(1, 1, 4));
        check(new double[] {0.5, 0, 1}, g.get(0), "min da");
        check(new double[] {0.5, 1, 0}, g.get(1), "min db");
        g = grads("Max", NONE, train(new long[] {2, 2}, 1, 2, 3, 1), train(1));
        check(new double[] {0.5, 1, 1, 0.5}, g.get(0), "broadcast tie: da");
        check(new double[] {1}, g.get(1), "broadcast tie: db sums two halves");
        g = grads("Max", NONE, train(1, 1, 0), train(1, 0, 2), train(1, 1, 1));
        check(new double[] {1.0 / 3, 0.5, 0}, g.get(0), "three inputs: dx1");
        check(new double[] {1.0 / 3, 0, 1}, g.get(1), "three inputs: dx2");
        check(new double[] {1.0 / 3, 0.5, 0}, g.get(2), "three inputs: dx3");
        g = grads("Min", NONE, train(1, 1, 0), train(1, 0, 2), train(1, 1, 1));
        check(new double[] {1.0 / 3, 0, 1}, g.get(0), "min, three inputs: dx1");
        check(new double[] {1.0 / 3, 1, 0}, g.get(1), "min, three inputs: dx2");
        check(new double[] {1.0 / 3, 0, 0}, g.get(2), "min, three inputs: dx3");
    }

    @Test
    void powAtZeroBaseAndZeroExponent() {
        //                        a:  0  0   2  0   -2   0   0
        //                        b:  2  0   0  1    3  -1   0.5
        List<double[]> g = grads("Pow", NONE, train(0, 0, 2, 0, -2, 0, 0), train(2, 0, 0, 1, 3, -1, 0.5));
        double[] da = g.get(0), db = g.get(1);
        check(new double[] {0, 0, 0, 1, 12}, Arrays.copyOf(da, 5), "da: 0 where b == 0, b a^(b-1) elsewhere");
        assertEquals(Double.NEGATIVE_INFINITY, da[5], "d/da 0^-1");
        assertEquals(Double.POSITIVE_INFINITY, da[6], "d/da 0^0.5");
        check(new double[] {0, 0, Math.log(2), 0}, Arrays.copyOf(db, 4), "db: 0 where a == 0 and b >= 0");
        assertEquals(Double.NaN, db[4], "d/db (-2)^b: y ln(-2) is NaN, as in torch");
        assertEquals(Double.NEGATIVE_INFINITY, db[5], "d/db 0^b at b < 0: inf * ln 0");
        assertEquals(0.0, db[6], "d/db 0^0.5");
    }

    @Test
    void stepFunctionsHaveZeroGradient() {
        for (String op : List.of("Sign", "Floor", "Ceil", "Round"))
            check(new double[] {0, 0, 0, 0, 0}, grads(op, NONE, train(0, 1, 0.5, -1.5, 0.3)).get(0), op);
    }

    @Test
    void modGradients() {
        // fmod(7, 2) = 1, fmod(-7, 2) = -1, fmod(7, -2) = 1: db = -trunc(a / b) = -3, 3, 3
        List<double[]> g = grads("Mod", Map.of("fmod", Attr.of(1L)), train(7, -7, 7), train(2, 2, -2));
        check(new double[] {1, 1, 1}, g.get(0), "fmod da");
        check(new double[] {-3, 3, 3}, g.get(1), "fmod db = -trunc(a / b)");
        // mod(-7, 2) = 1 (floor: -4), mod(7, -2) = -1 (floor: -4)
        g = grads("Mod", NONE, train(7, -7, 7), train(2, 2, -2));
        check(new double[] {-3, 4, 4}, g.get(1), "floored mod db = -floor(a / b)");
    }

    @Test
    void float32GradientsKeepTheirType() {
        GraphBuilder g = Graph.builder("f32");
        Value x = g.initializer("x", Tensor.ofFloats(new long[] {3}, -1, 0, 2));
        Value y = g.op("Relu", List.of(x), NONE);
        Value seed = g.initializer("seed", Tensor.ofFloats(new long[] {3}, 1, 1, 1));
        g.output(y);
        Autodiff.Result r = Autodiff.vjp(g.build(), new LinkedHashMap<>(Map.of(y.name(), seed.name())),
                List.of(x.name()), List.of());
        assertEquals(DType.FLOAT32, ((Type.TensorType) r.gradients().get(x.name()).type()).dtype());
    }
}
