package dev.gale.torture.passes;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random small float32 graphs for differential testing of passes, seeded and reproducible. They are built to hold
 * what passes look for: constant subgraphs (folding), repeated expressions (CSE), dead nodes (DCE), identities such
 * as {@code x + 0}, {@code x * 1}, {@code Identity}, a transpose undone, a reshape to the same shape through a
 * {@code Shape} chain (algebraic and shape folding), elementwise chains, MatMul + bias + activation, reductions,
 * softmax, and LayerNorm and GELU written out op by op (pattern fusion).
 *
 * <p>Shapes: the runtime input is {@code x: [2,3,4]}, a second input {@code y: [4]}; every value in the pool has a
 * shape whose dimensions are 1 or those of [2,3,4] aligned right, so any two broadcast (a value reshaped by a
 * computed shape has unknown dimensions to inference, which passes must cope with). Values stay bounded (no Exp
 * chains; divisors are {@code |v| + 1}) and well conditioned, so results are finite and comparisons meaningful at a
 * tight tolerance.
 */
public final class RandomGraphs {
    private static final List<String> UNARY = List.of("Relu", "Tanh", "Sigmoid", "Neg", "Abs", "Sin", "Erf", "Softsign");
    private static final List<String> BINARY = List.of("Add", "Sub", "Mul", "Max", "Min");

    private RandomGraphs() {}

    /** {@code count} graphs from seeds {@code seed, seed+1, ...}. */
    public static List<PassDifferential.Subject> subjects(int count, long seed) {
        List<PassDifferential.Subject> r = new ArrayList<>();
        for (int i = 0; i < count; i++) r.add(subject(seed + i));
        return r;
    }

    /** One random graph with random feeds. */
    public static PassDifferential.Subject subject(long seed) {
        Graph g = graph(seed);
        return new PassDifferential.Subject("random/" + seed, Model.of(g), PassDifferential.randomFeeds(g, seed));
    }

    public static Graph graph(long seed) {
        Random r = new Random(seed);
        GraphBuilder b = Graph.builder("random" + seed);
        List<Value> pool = new ArrayList<>();
        pool.add(b.input("x", DType.FLOAT32, 2, 3, 4));
        pool.add(b.input("y", DType.FLOAT32, 4));
        Value w = b.initializer("w", random(r, 4, 4));
        pool.add(b.initializer("c", random(r, 3, 4)));
        Value bias = b.initializer("b", random(r, 4));
        int steps = 6 + r.nextInt(10);
        for (int s = 0; s < steps; s++) {
            Value a = pick(r, pool);
            Value v = switch (r.nextInt(14)) {
                case 0, 1 -> b.op(UNARY.get(r.nextInt(UNARY.size())), List.of(a), Map.of());
                case 2, 3 -> b.op(BINARY.get(r.nextInt(BINARY.size())), List.of(a, pick(r, pool)), Map.of());
                case 4 -> b.div(a, b.add(b.op("Abs", List.of(pick(r, pool)), Map.of()), scalar(b, 1)));
                case 5 -> identity(r, b, a);
                case 6 -> { // a repeated expression: the same op on the same inputs twice
                    Value c = pick(r, pool);
                    yield b.add(b.mul(a, c), b.mul(a, c));
                }
                case 7 -> { // a constant subgraph
                    Value k = b.add(b.constant(random(r, 4)), b.mul(scalar(b, 2), scalar(b, 0.5)));
                    yield b.mul(a, k);
                }
                case 8 -> { // MatMul + bias + activation
                    Value m = b.add(b.matmul(lastDim4(b, a, pool), w), bias);
                    yield r.nextBoolean() ? b.relu(m) : b.tanh(m);
                }
                case 9 -> b.op(r.nextBoolean() ? "ReduceMean" : "ReduceSum",
                        List.of(a, b.constant(Tensor.vector(-1))), Map.of("keepdims", Attr.of(1L)));
                case 10 -> b.softmax(a, -1);
                case 11 -> layerNorm(r, b, lastDim4(b, a, pool));
                case 12 -> gelu(b, a);
                default -> { // a dead node next to a live one
                    b.op("Cos", List.of(a), Map.of());
                    yield b.sigmoid(a);
                }
            };
            pool.add(v);
        }
        // the last value, and sometimes an earlier one, are outputs; the rest may die
        b.output(pool.get(pool.size() - 1));
        if (r.nextBoolean()) b.output(pool.get(3 + r.nextInt(pool.size() - 3)));
        return b.build();
    }

    /** {@code a} itself, computed the long way round. */
    private static Value identity(Random r, GraphBuilder b, Value a) {
        return switch (r.nextInt(6)) {
            case 0 -> b.add(a, scalar(b, 0));
            case 1 -> b.mul(scalar(b, 1), a);
            case 2 -> b.op("Identity", List.of(a), Map.of());
            case 3 -> b.op("Reshape", List.of(a, b.op("Shape", List.of(a), Map.of())), Map.of());
            case 4 -> rank(b, a) == 3 ? b.transpose(b.transpose(a, 0, 2, 1), 0, 2, 1) : b.div(a, scalar(b, 1));
            default -> rank(b, a) == 3 ? b.reshape(b.reshape(a, 6, -1), 2, 3, dims(b, a)[2]) : b.sub(a, scalar(b, 0));
        };
    }

    /**
     * Mean/variance normalization over the last axis, with a scale and shift, op by op. Its input is
     * {@code tanh(a) + [-3, -1, 1, 3]}, whose variance is at least 2: normalizing values that are nearly equal
     * would magnify rounding differences (a fused kernel rounds differently from the ops it replaces) far beyond
     * any tolerance.
     */
    private static Value layerNorm(Random r, GraphBuilder b, Value a) {
        a = b.add(b.tanh(a), b.constant(Tensor.ofFloats(new long[] {4}, -3, -1, 1, 3)));
        Value mean = b.reduceMean(a, true, -1);
        Value d = b.sub(a, mean);
        Value var = b.reduceMean(b.mul(d, d), true, -1);
        Value norm = b.div(d, b.op("Sqrt", List.of(b.add(var, scalar(b, 1e-5))), Map.of()));
        return b.add(b.mul(norm, b.constant(random(r, 4))), b.constant(random(r, 4)));
    }

    /** {@code 0.5 * x * (1 + erf(x / sqrt(2)))}. */
    private static Value gelu(GraphBuilder b, Value a) {
        Value erf = b.op("Erf", List.of(b.div(a, scalar(b, Math.sqrt(2)))), Map.of());
        return b.mul(b.mul(a, scalar(b, 0.5)), b.add(erf, scalar(b, 1)));
    }

    /** {@code a} when its last dimension is known to be 4, else the input x. */
    private static Value lastDim4(GraphBuilder b, Value a, List<Value> pool) {
        long[] d = dims(b, a);
        return d != null && d.length > 0 && d[d.length - 1] == 4 ? a : pool.get(0);
    }

    private static Value pick(Random r, List<Value> pool) {
        // favour recent values, so chains grow long
        int n = pool.size();
        return pool.get(r.nextInt(3) == 0 ? r.nextInt(n) : Math.max(0, n - 1 - r.nextInt(Math.min(n, 3))));
    }

    private static Value scalar(GraphBuilder b, double v) { return b.constant(Tensor.scalar(DType.FLOAT32, v)); }

    /** The static shape of {@code v}, or null (after a Reshape by a computed shape, say). */
    private static long[] dims(GraphBuilder b, Value v) {
        Type.TensorType t = (Type.TensorType) b.typeOf(v.name());
        return t.shape() != null && t.shape().isStatic() ? t.shape().sizes() : null;
    }

    private static int rank(GraphBuilder b, Value v) {
        long[] d = dims(b, v);
        return d == null ? -1 : d.length;
    }

    private static Tensor random(Random r, long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, r.nextDouble() * 2 - 1);
        return t;
    }
}
