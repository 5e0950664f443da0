package dev.gale.passes.partition;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Torture test: random DAGs of [4,4] tensors mixing every fusion category (elementwise and broadcast ops, injective
 * reshapes, transposes and splits, reductions broadcast back, MatMul and Softmax anchors, opaque CumSum) with shared
 * values, diamonds and several outputs. Each must partition into a valid graph (no cycle, verified, typed) that
 * computes bit for bit what the original does.
 */
class PartitionRandomGraphTest {
    static IntStream seeds() { return IntStream.range(0, 300); }

    @ParameterizedTest
    @MethodSource("seeds")
    void randomGraphPartitionsAndComputesTheSame(int seed) {
        Graph g = randomGraph(new Random(seed));
        PassContext ctx = PassContext.defaults();
        Graph after = new Partition().run(g, ctx);
        Verifier.verify(after);
        ShapeInference.run(after);
        Map<String, Object> feeds = new HashMap<>();
        Random r = new Random(seed + 1000);
        for (Value v : g.runtimeInputs()) {
            Tensor t = Tensor.zeros(DType.FLOAT32, 4, 4);
            for (int i = 0; i < t.numel(); i++) t.setDouble(i, r.nextGaussian());
            feeds.put(v.name(), t);
        }
        assertEquals(Interpreter.run(Model.of(g), feeds), Interpreter.run(Model.of(after), feeds),
                "seed " + seed + ": outputs differ after partitioning\n" + PartitionTest.summary(after));
    }

    private static Graph randomGraph(Random r) { return randomGraph(r, 4 + r.nextInt(22)); }

    static Graph randomGraph(Random r, int n) {
        GraphBuilder b = Graph.builder("random");
        List<Value> pool = new ArrayList<>();
        int inputs = 1 + r.nextInt(3);
        for (int i = 0; i < inputs; i++) pool.add(b.input("x" + i, DType.FLOAT32, 4, 4));
        Value bias = b.initializer("bias", Tensor.ofFloats(new long[] {4}, 0.5f, -1f, 2f, 0.25f));
        Value axis0 = b.constant(Tensor.scalarLong(DType.INT64, 0));
        Value axes1 = b.constant(Tensor.vector(1));
        for (int k = 0; k < n; k++) {
            Value a = pick(pool, r), c = pick(pool, r);
            Value v = switch (r.nextInt(14)) {
                case 0 -> b.op(List.of("Relu", "Neg", "Sin", "Tanh", "Abs", "Sigmoid").get(r.nextInt(6)), List.of(a),
                        Map.of());
                case 1, 2 -> b.op(List.of("Add", "Mul", "Sub", "Max").get(r.nextInt(4)), List.of(a, c), Map.of());
                case 3 -> b.add(a, bias);
                case 4 -> b.mul(a, a);
                case 5 -> b.transpose(a, 1, 0);
                case 6 -> b.reshape(b.reshape(a, 16), 4, 4);
                case 7 -> b.add(b.op("ReduceSum", List.of(a, axes1), Map.of("keepdims", Attr.of(1L))), c);
                case 8 -> b.matmul(a, c);
                case 9 -> b.softmax(a, 1);
                case 10 -> b.op("CumSum", List.of(a, axis0), Map.of());
                case 11 -> {
                    List<Value> halves = b.op("", "Split", List.of(a), Map.of("axis", Attr.of(0L),
                            "num_outputs", Attr.of(2L)), 2);
                    Value first = r.nextBoolean() ? b.op("CumSum", List.of(halves.get(0), axis0), Map.of())
                            : halves.get(0);
                    yield b.op("Concat", List.of(halves.get(1), first), Map.of("axis", Attr.of(0L)));
                }
                case 12 -> b.op("Exp", List.of(b.op("Tanh", List.of(a), Map.of())), Map.of());
                default -> b.op("Where", List.of(b.op("Greater", List.of(a, c), Map.of()), a, c), Map.of());
            };
            pool.add(v);
        }
        Set<Value> outs = new LinkedHashSet<>();
        outs.add(pool.get(pool.size() - 1));
        for (int k = 0; k < r.nextInt(3); k++) outs.add(pool.get(inputs + r.nextInt(pool.size() - inputs)));
        outs.forEach(b::output);
        return b.build();
    }

    /** A value of the pool, mostly a recent one (long chains), sometimes an old one (shared values, diamonds). */
    private static Value pick(List<Value> pool, Random r) {
        int i = r.nextInt(3) == 0 ? r.nextInt(pool.size()) : Math.max(0, pool.size() - 1 - r.nextInt(3));
        return pool.get(i);
    }
}
