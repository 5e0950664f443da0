package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.feeds;
import static dev.gale.passes.simplify.SimplifyTesting.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random small graphs built from the shapes of code the rules target (neutral operands, near misses that
 * broadcast, layout round trips, shape chains over a symbolic batch, duplicates, dead branches, constant
 * subgraphs) give the same results on the interpreter before and after each simplification pass.
 */
class RandomGraphSimplifyTest {
    private static final int GRAPHS = 150;

    /** Values of type [n, 3] f32 that later steps build on. */
    private final List<Value> pool = new ArrayList<>();
    private Random rnd;
    private GraphBuilder b;

    private Value pick() { return pool.get(rnd.nextInt(pool.size())); }

    private Value scalarLike(double v, long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, v);
        return rnd.nextBoolean() ? b.constant(t) : b.initializer("c", t);
    }

    private static final long[][] OPERAND_SHAPES = {{}, {1}, {3}, {1, 3}, {1, 1}};

    private Value step(int kind) {
        Value v = pick();
        return switch (kind) {
            case 0 -> {
                String op = List.of("Add", "Mul", "Sub", "Div").get(rnd.nextInt(4));
                double c = List.of(0.0, 1.0, 2.0, -0.0).get(rnd.nextInt(4));
                Value k = scalarLike(c, OPERAND_SHAPES[rnd.nextInt(OPERAND_SHAPES.length)]);
                yield b.op(op, rnd.nextBoolean() ? List.of(v, k) : List.of(k, v), Map.of());
            }
            case 1 -> b.op(List.of("Identity", "Relu", "Neg", "Tanh").get(rnd.nextInt(4)), List.of(v), Map.of());
            case 2 -> b.transpose(b.transpose(v, 1, 0), 1, 0);
            case 3 -> b.op("Reshape", List.of(b.reshape(v, -1), b.op("Shape", List.of(v), Map.of())), Map.of());
            case 4 -> {
                long to = rnd.nextBoolean() ? DType.FLOAT32.onnxCode() : DType.FLOAT64.onnxCode();
                Value c = b.op("Cast", List.of(v), Map.of("to", Attr.of(to)));
                yield b.op("Cast", List.of(c), Map.of("to", Attr.of((long) DType.FLOAT32.onnxCode())));
            }
            case 5 -> {
                if (rnd.nextBoolean()) {
                    long axis = rnd.nextBoolean() ? 0 : -1;
                    Value u = b.op("Unsqueeze", List.of(v, b.constant(Tensor.vector(axis))), Map.of());
                    yield b.op("Squeeze", List.of(u, b.constant(Tensor.vector(axis == 0 ? -3 : 2))), Map.of());
                }
                // Near miss: the axes differ, so neither Squeeze undoes the Unsqueeze alone.
                Value u = b.op("Unsqueeze", List.of(v, b.constant(Tensor.vector(0, 3))), Map.of());
                Value s1 = b.op("Squeeze", List.of(u, b.constant(Tensor.vector(3))), Map.of());
                yield b.op("Squeeze", List.of(s1, b.constant(Tensor.vector(0))), Map.of());
            }
            case 6 -> rnd.nextBoolean() ? b.op("Expand", List.of(v, b.constant(Tensor.vector(1, 3))), Map.of())
                    : b.op("Expand", List.of(v, b.op("Shape", List.of(pick()), Map.of())), Map.of());
            case 7 -> b.op("", "Dropout", List.of(v), Map.of(), 1).get(0);
            case 8 -> {
                // x.view(x.size(0), 3): the size comes from the symbolic batch
                Value s = b.op("Shape", List.of(v), Map.of());
                Value n = b.op("Gather", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 0))), Map.of());
                Value three = b.op("Gather", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 1))), Map.of());
                Value target = b.op("Concat", List.of(
                        b.op("Unsqueeze", List.of(n, b.constant(Tensor.vector(0))), Map.of()),
                        b.op("Unsqueeze", List.of(three, b.constant(Tensor.vector(0))), Map.of())),
                        Map.of("axis", Attr.of(0L)));
                yield b.op("Reshape", List.of(b.reshape(v, -1), target), Map.of());
            }
            case 9 -> {
                // a duplicate computation of something already in the pool
                Value w = pick();
                yield b.add(b.mul(v, w), b.mul(v, w));
            }
            case 10 -> {
                // constant subgraph: (c1 + c2) * c3, broadcast into v
                Value c = b.mul(b.add(scalarLike(0.5, 3), scalarLike(1.5, 1)), scalarLike(-1, 1, 3));
                yield b.add(v, c);
            }
            default -> {
                // a dead branch and a live one
                b.op("Sigmoid", List.of(v), Map.of());
                yield b.sub(v, pick());
            }
        };
    }

    private Graph randomGraph(long seed) {
        rnd = new Random(seed);
        b = Graph.builder("random" + seed);
        pool.clear();
        pool.add(b.input("x", DType.FLOAT32, "n", 3));
        pool.add(b.input("y", DType.FLOAT32, "n", 3));
        int steps = 4 + rnd.nextInt(12);
        for (int i = 0; i < steps; i++) pool.add(step(rnd.nextInt(12)));
        b.output(pool.getLast());
        b.output(pool.get(2 + rnd.nextInt(pool.size() - 2)));
        return b.build();
    }

    /** Same element types and shapes, and equal values (-0 equals 0: {@code x + 0 -> x} may flip a zero's sign). */
    private static void assertSame(Graph before, Graph after, long seed, String pass) {
        Map<String, Object> f = feeds(before, seed);
        List<Object> x = run(before, f), y = run(after, f);
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            Tensor a = (Tensor) x.get(i), c = (Tensor) y.get(i);
            String where = pass + " on graph " + seed + ", output " + i;
            assertEquals(a.dtype(), c.dtype(), where);
            assertArrayEquals(a.shape(), c.shape(), where);
            for (int k = 0; k < a.numel(); k++) {
                double p = a.getDouble(k), q = c.getDouble(k);
                if (!(p == q || Double.isNaN(p) && Double.isNaN(q))) fail(where + ", element " + k + ": " + p + " vs " + q);
            }
        }
    }

    @Test
    void everyPassKeepsTheResultsOfRandomGraphs() {
        List<Pass> passes = List.of(new ConstantFolding(), new ShapeFolding(), new AlgebraicSimplification(),
                new CommonSubexpressions(), new DeadCodeElimination(), new Simplify());
        int before = 0, after = 0;
        for (long seed = 0; seed < GRAPHS; seed++) {
            Graph g = randomGraph(seed);
            for (Pass p : passes) {
                Graph s = apply(p, g, PassContext.defaults());
                assertSame(g, s, seed, p.name());
                if (p instanceof Simplify) {
                    before += g.nodes().size();
                    after += s.nodes().size();
                    assertSame(g, apply(new Simplify(), s, PassContext.defaults()), seed, "simplify twice");
                }
            }
        }
        assertTrue(after < before / 2, "simplify left " + after + " of " + before + " nodes");
    }

    @Test
    void simplifyIsIdempotent() {
        for (long seed = 0; seed < 40; seed++) {
            Graph once = apply(new Simplify(), randomGraph(seed), PassContext.defaults());
            PassContext ctx = PassContext.defaults();
            Graph twice = apply(new Simplify(), once, ctx);
            assertEquals(once.nodes().size(), twice.nodes().size(), "graph " + seed + ": " + ctx.counters());
        }
    }
}
