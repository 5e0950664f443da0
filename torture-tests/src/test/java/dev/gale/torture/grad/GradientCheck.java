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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks an op's gradient rule against central finite differences in float64.
 *
 * <p>The scalar checked is {@code loss = sum_k <y_k, R_k>} over the op's outputs with random weights R, so every
 * output element contributes with its own weight. Trainable inputs are float64 initializers; the analytic gradient
 * is the vector-Jacobian product {@link Autodiff#vjp} with seeds R run on the interpreter (only the op's own rule is
 * exercised), the numeric one {@code (loss(x+h) - loss(x-h)) / 2h} per element.
 *
 * <p>When an operand or output has a narrower floating-point type than float64 (float32 checks), the forward pass
 * itself rounds to that type, so the step grows to {@link #LOW_PRECISION_STEP} (divided by the step actually taken
 * after rounding) and the tolerance is at least {@link #LOW_PRECISION_TOL}.
 */
public final class GradientCheck {
    /** One operand: a fixed tensor, trainable when {@code trainable} (and floating point). */
    public record Operand(Tensor value, boolean trainable) {}

    /** Finite-difference step and minimum tolerance when float32 (or narrower) values take part. */
    public static final double LOW_PRECISION_STEP = 1e-3, LOW_PRECISION_TOL = 2e-3;

    private GradientCheck() {}

    public static Operand param(Random r, long... shape) {
        return new Operand(random(r, -1, 1, shape), true);
    }

    /** A trainable operand kept away from zero (for Log, Sqrt, Div denominators, Pow bases). */
    public static Operand positive(Random r, long... shape) {
        return new Operand(random(r, 0.5, 2, shape), true);
    }

    public static Operand fixed(Tensor t) { return new Operand(t, false); }

    public static Tensor random(Random r, double lo, double hi, long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT64, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, lo + (hi - lo) * r.nextDouble());
        return t;
    }

    /**
     * Returns null when analytic and numeric gradients agree within {@code tol} (relative to the larger magnitude,
     * with an absolute floor), else a message naming the input and element.
     */
    public static String check(String op, Map<String, Attr> attrs, List<Operand> operands, int outputs, double tol) {
        Random r = new Random(42);
        GraphBuilder g = Graph.builder("check_" + op);
        List<Value> in = new ArrayList<>();
        List<String> params = new ArrayList<>();
        for (int i = 0; i < operands.size(); i++) {
            Operand o = operands.get(i);
            if (o == null) {
                in.add(Value.NONE);
                continue;
            }
            Value v = g.initializer("in" + i, o.value());
            in.add(v);
            if (o.trainable()) params.add(v.name());
        }
        List<Value> ys = g.op("", op, in, attrs, outputs);
        Map<String, String> seeds = new java.util.LinkedHashMap<>();
        Map<String, Tensor> weights = new java.util.LinkedHashMap<>();
        for (Value y : ys) {
            if (!(y.type() instanceof Type.TensorType t) || !t.dtype().isFloat() || t.shape() == null || !t.shape().isStatic())
                continue;
            Tensor w = convert(random(r, -1, 1, t.shape().sizes()), t.dtype());
            seeds.put(y.name(), g.initializer("w_" + y.name(), w).name());
            weights.put(y.name(), w);
            g.output(y);
        }
        if (seeds.isEmpty()) return op + ": no floating-point output of static shape to check";
        boolean low = operands.stream().anyMatch(o -> o != null && narrow(o.value().dtype()))
                || ys.stream().anyMatch(y -> y.type() instanceof Type.TensorType t && narrow(t.dtype()));
        double h = low ? LOW_PRECISION_STEP : 1e-6;
        if (low) tol = Math.max(tol, LOW_PRECISION_TOL);
        Graph forward = g.build();
        Autodiff.Result train = Autodiff.vjp(forward, seeds, params, List.of());
        Map<String, Object> feeds = new HashMap<>();
        for (String p : params) feeds.put(p, forward.initializers().get(p));
        List<Object> results = Interpreter.run(Model.of(train.graph()), feeds);
        int k = 1;
        for (String p : params) {
            if (!train.gradients().containsKey(p)) return op + ": no gradient reached input " + p;
            Tensor analytic = (Tensor) results.get(k++);
            Tensor x = forward.initializers().get(p);
            for (int e = 0; e < x.numel(); e++) {
                double numeric = numeric(forward, weights, p, e, h);
                double a = analytic.getDouble(e);
                double scale = Math.max(1.0, Math.max(Math.abs(a), Math.abs(numeric)));
                if (Math.abs(a - numeric) > tol * scale)
                    return op + ": d loss / d " + p + "[" + e + "]: rule gives " + a + ", finite differences " + numeric;
            }
        }
        return null;
    }

    private static double numeric(Graph forward, Map<String, Tensor> weights, String p, int e, double h) {
        Tensor x = forward.initializers().get(p);
        double plus = rounded(x.getDouble(e) + h, x.dtype()), minus = rounded(x.getDouble(e) - h, x.dtype());
        return (lossWith(forward, weights, p, x, e, plus) - lossWith(forward, weights, p, x, e, minus)) / (plus - minus);
    }

    /** A floating-point type narrower than float64. */
    private static boolean narrow(DType t) { return t.isFloat() && t != DType.FLOAT64; }

    /** {@code v} as stored in a tensor of type {@code t}. */
    private static double rounded(double v, DType t) {
        Tensor one = Tensor.zeros(t, 1);
        one.setDouble(0, v);
        return one.getDouble(0);
    }

    /** {@code t}'s values in a tensor of type {@code to} (rounded). */
    public static Tensor convert(Tensor t, DType to) {
        if (t.dtype() == to) return t;
        Tensor r = Tensor.zeros(to, t.shape());
        for (int i = 0; i < t.numel(); i++) r.setDouble(i, t.getDouble(i));
        return r;
    }

    /** {@code sum_k <y_k, w_k>} with element {@code e} of parameter {@code p} set to {@code v}. */
    private static double lossWith(Graph forward, Map<String, Tensor> weights, String p, Tensor x, int e, double v) {
        List<Object> ys = Interpreter.run(Model.of(withElement(forward, p, e, v)), Map.of());
        double loss = 0;
        int k = 0;
        for (Tensor w : weights.values()) {
            Tensor y = (Tensor) ys.get(k++);
            for (int i = 0; i < y.numel(); i++) loss += y.getDouble(i) * w.getDouble(i);
        }
        return loss;
    }

    /** The graph with element {@code e} of initializer {@code p} set to {@code v}. */
    private static Graph withElement(Graph forward, String p, int e, double v) {
        Tensor x = forward.initializers().get(p);
        Tensor moved = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) moved.setDouble(i, x.getDouble(i));
        moved.setDouble(e, v);
        Map<String, Tensor> init = new java.util.LinkedHashMap<>(forward.initializers());
        init.put(p, moved);
        return forward.withInitializers(init);
    }

    /**
     * Asserts that {@code analytic}, the gradient of forward's first output (a scalar loss) with respect to its
     * float64 initializer {@code p}, agrees element by element with central differences run on {@code feeds} (step
     * 1e-6, tolerance 1e-5 relative to the larger magnitude, with an absolute floor); {@code what} starts the message.
     */
    public static void assertMatchesFiniteDifferences(Graph forward, Map<String, Object> feeds, String p,
                                                      Tensor analytic, String what) {
        double h = 1e-6;
        Tensor x = forward.initializers().get(p);
        for (int e = 0; e < x.numel(); e++) {
            double v = x.getDouble(e);
            double numeric = (scalarLoss(withElement(forward, p, e, v + h), feeds)
                    - scalarLoss(withElement(forward, p, e, v - h), feeds)) / (2 * h);
            double a = analytic.getDouble(e);
            double scale = Math.max(1.0, Math.max(Math.abs(a), Math.abs(numeric)));
            assertTrue(Math.abs(a - numeric) <= 1e-5 * scale,
                    what + "d loss / d " + p + "[" + e + "]: rule gives " + a + ", finite differences " + numeric);
        }
    }

    private static double scalarLoss(Graph g, Map<String, Object> feeds) {
        return ((Tensor) Interpreter.run(Model.of(g), feeds).get(0)).getDouble(0);
    }
}
