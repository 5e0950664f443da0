package dev.gale.passes.memory;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;

import static dev.gale.passes.memory.MemoryPlannerTest.STATIC;
import static dev.gale.passes.memory.MemoryPlannerTest.bin;
import static dev.gale.passes.memory.MemoryPlannerTest.un;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Rematerialization on graphs shaped like a training step: a cheap value {@code a} read early and again at the end,
 * across a peak of three 64 KiB MatMul results. Outputs must stay bit-identical.
 */
class RematerializerTest {
    static final int N = 128; // [128,128] f32 = 64 KiB

    /** {@code a = keep(b, x, w)}; {@code s = ReduceSum(a)} early (if {@code earlyUse}); MatMul chain; y = a * r. */
    static Graph kept(BiFunction<GraphBuilder, Value[], Value> keep, boolean earlyUse) {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, N, N);
        Value w = b.input("w", DType.FLOAT32, N, N);
        Value a = keep.apply(b, new Value[] {x, w});
        Value h1 = bin(b, "MatMul", "h1", x, w);
        Value h2 = bin(b, "MatMul", "h2", h1, w);
        Value h3 = bin(b, "MatMul", "h3", h2, h1);
        Value r = b.op("r", "ReduceSum", List.of(h3), Map.of());
        Value y = bin(b, "Mul", "y", a, r);
        b.output(y);
        if (earlyUse) b.output(b.op("s", "ReduceSum", List.of(a), Map.of()));
        return reorderEarlyUse(b.build());
    }

    /** Moves the early ReduceSum(a) right after a's producer, so a is read before the peak and after it. */
    static Graph reorderEarlyUse(Graph g) {
        List<Node> nodes = new java.util.ArrayList<>(g.nodes());
        Node s = nodes.stream().filter(n -> n.output(0).name().equals("s")).findFirst().orElse(null);
        if (s == null) return g;
        nodes.remove(s);
        int at = 0;
        while (!nodes.get(at).output(0).name().equals("a")) at++;
        nodes.add(at + 1, s);
        return g.withNodes(nodes);
    }

    static Graph sigmoidKept() { return kept((b, in) -> un(b, "Sigmoid", "a", in[0]), true); }

    static PassContext budget(long bytes) {
        return new PassContext(Map.of(Rematerializer.BUDGET, Long.toString(bytes)));
    }

    static Map<String, Object> feeds() {
        Random rnd = new Random(1);
        float[] x = new float[N * N], w = new float[N * N];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat() - 0.5f;
            w[i] = (rnd.nextFloat() - 0.5f) / N;
        }
        return Map.of("x", Tensor.ofFloats(new long[] {N, N}, x), "w", Tensor.ofFloats(new long[] {N, N}, w));
    }

    static void sameOutputs(Graph before, Graph after) {
        List<Object> want = Interpreter.run(Model.of(before), feeds());
        ArenaChecker checker = new ArenaChecker(after, MemoryPlanner.plan(after, STATIC));
        Interpreter in = new Interpreter(Model.of(after));
        in.setListener(checker::computed);
        List<Object> got = in.run(feeds());
        for (int i = 0; i < want.size(); i++)
            assertArrayEquals(((Tensor) want.get(i)).floats(), ((Tensor) got.get(i)).floats(), "output " + i);
    }

    static long count(Graph g, String op) { return g.nodes().stream().filter(n -> n.op().equals(op)).count(); }

    @Test
    void recomputesACheapValueInsteadOfKeepingIt() {
        Graph g = sigmoidKept();
        MemoryPlan before = MemoryPlanner.plan(g, STATIC);
        assertEquals(4 * 65536, before.lowerBound(), "a, h1, h2 and h3 at the peak");
        PassContext ctx = budget(3 * 65536 + 1024);
        Graph r = PassRegistry.parse("schedule,remat").run(g, ctx, true, null).graph();
        MemoryPlan after = ctx.get(MemoryPlanner.PLAN_KEY);
        after.verify();
        assertTrue(after.arenaBytes() <= 3 * 65536 + 1024, after.toJson());
        assertEquals(2, count(r, "Sigmoid"), "the original stays for the early read, a clone feeds the late one");
        Node clone = r.nodes().stream().filter(n -> n.op().equals("Sigmoid") && n.output(0).name().endsWith("_remat"))
                .findFirst().orElseThrow();
        int at = r.nodes().indexOf(clone);
        assertEquals("y", r.nodes().get(at + 1).output(0).name(), "the clone runs right before its reader");
        assertEquals((long) N * N, ctx.counters().get("remat.extra_flops"));
        assertEquals(1L, ctx.counters().get("remat.recomputed"));
        assertNull(ctx.counters().get("remat.over_budget"));
        sameOutputs(g, r);
    }

    @Test
    void recomputesChainsWhoseInputsDied() {
        // a = Sigmoid(Neg(x)): Neg's result dies at the Sigmoid, so both are recomputed.
        Graph g = kept((b, in) -> un(b, "Sigmoid", "a", un(b, "Neg", "n", in[0])), true);
        PassContext ctx = budget(3 * 65536 + 1024);
        Graph r = Rematerializer.pass().run(g, ctx);
        assertEquals(2, count(r, "Neg"));
        assertEquals(2, count(r, "Sigmoid"));
        assertEquals(2L, ctx.counters().get("remat.recomputed"));
        assertEquals(2L * N * N, ctx.counters().get("remat.extra_flops"));
        sameOutputs(g, r);
    }

    @Test
    void aValueReadOnlyLateIsMovedNotDuplicated() {
        Graph g = kept((b, in) -> un(b, "Sigmoid", "a", in[0]), false);
        PassContext ctx = budget(3 * 65536 + 1024);
        Graph r = Rematerializer.pass().run(g, ctx);
        assertEquals(1, count(r, "Sigmoid"));
        assertEquals(0L, ctx.counters().get("remat.extra_flops"));
        assertTrue(((MemoryPlan) ctx.get(MemoryPlanner.PLAN_KEY)).arenaBytes() <= 3 * 65536 + 1024);
        sameOutputs(g, r);
    }

    @Test
    void expensiveOrRandomValuesAreKeptAndTheOverrunReported() {
        for (String op : List.of("MatMul", "RandomUniformLike")) {
            Graph g = kept((b, in) -> op.equals("MatMul") ? bin(b, "MatMul", "a", in[0], in[1])
                    : b.op("a", op, List.of(in[0]), Map.of()), true);
            PassContext ctx = budget(3 * 65536);
            Graph r = Rematerializer.pass().run(g, ctx);
            assertSame(g, r, op + " is not recomputed");
            MemoryPlan p = ctx.get(MemoryPlanner.PLAN_KEY);
            assertEquals(p.arenaBytes() - 3 * 65536, ctx.counters().get("remat.over_budget"));
            assertEquals(0L, ctx.counters().get("remat.extra_flops"));
        }
    }

    @Test
    void withoutABudgetNothingChanges() {
        Graph g = sigmoidKept();
        PassContext ctx = PassContext.defaults();
        assertSame(g, Rematerializer.pass().run(g, ctx));
        assertNotNull(ctx.get(MemoryPlanner.PLAN_KEY));
        assertNull(ctx.counters().get("remat.over_budget"));
    }

    @Test
    void tinyBudgetsStopWhenNothingCheapIsLeft() {
        Graph g = sigmoidKept();
        PassContext ctx = budget(1);
        Graph r = Rematerializer.pass().run(g, ctx);
        MemoryPlan p = ctx.get(MemoryPlanner.PLAN_KEY);
        p.verify();
        assertTrue(p.arenaBytes() < MemoryPlanner.plan(g, STATIC).arenaBytes());
        assertTrue(ctx.counters().get("remat.over_budget") > 0);
        sameOutputs(g, r);
    }

    @Test
    void needsASchedule() {
        assertThrows(dev.gale.ir.GaleException.class,
                () -> PassRegistry.parse("remat").run(sigmoidKept(), budget(1), true, null));
    }

    @Test
    void flopEstimates() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 8, 16);
        Value w = b.input("w", DType.FLOAT32, 16, 32);
        Value m = bin(b, "MatMul", "m", x, w);
        Value img = b.input("img", DType.FLOAT32, 1, 3, 10, 10);
        Value k = b.input("k", DType.FLOAT32, 4, 3, 3, 3);
        Value c = b.op("c", "Conv", List.of(img, k), Map.of());
        Value s = b.op("s", "ReduceSum", List.of(m), Map.of());
        b.output(un(b, "Relu", "r", m));
        b.output(c);
        b.output(s);
        Graph g = b.build();
        Map<String, Node> byOut = new java.util.HashMap<>();
        for (Node n : g.nodes()) byOut.put(n.output(0).name(), n);
        assertEquals(2L * 8 * 32 * 16, FlopEstimate.of(byOut.get("m"), STATIC));
        assertEquals(2L * (4 * 8 * 8) * (3 * 3 * 3), FlopEstimate.of(byOut.get("c"), STATIC));
        assertEquals(8L * 32, FlopEstimate.of(byOut.get("s"), STATIC), "a reduction reads every input element");
        assertEquals(8L * 32, FlopEstimate.of(byOut.get("r"), STATIC));
    }
}
