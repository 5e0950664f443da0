package dev.gale.passes.memory;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.passes.memory.MemoryPlannerTest.STATIC;
import static dev.gale.passes.memory.MemoryPlannerTest.bin;
import static dev.gale.passes.memory.MemoryPlannerTest.un;
import static org.junit.jupiter.api.Assertions.*;

/** The schedule pass: a valid topological order, never a higher peak, deterministic, same outputs. */
class SchedulerTest {
    /**
     * Two branches, each a big intermediate reduced to a small one, written breadth-first: both big values are live
     * together. Depth-first (branch by branch) holds one at a time.
     */
    static Graph breadthFirst() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 64, 64);
        Value a1 = un(b, "Exp", "a1", x);
        Value a2 = un(b, "Sin", "a2", x);
        Value r1 = b.op("r1", "ReduceSum", List.of(a1), Map.of());
        Value r2 = b.op("r2", "ReduceSum", List.of(a2), Map.of());
        b.output(bin(b, "Add", "y", r1, r2));
        return b.build();
    }

    @Test
    void depthFirstOrderHalvesThePeak() {
        Graph g = breadthFirst();
        Graph s = Scheduler.schedule(g, STATIC);
        Verifier.verify(s);
        assertEquals(List.of("a1", "r1", "a2", "r2", "y"), s.nodes().stream().map(n -> n.output(0).name()).toList());
        assertEquals(2 * 16384 + 64, Scheduler.peak(g, STATIC));
        assertEquals(16384 + 2 * 64, Scheduler.peak(s, STATIC));
    }

    @Test
    void constantsSinkToTheirReader() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 16, 16);
        Value k = b.constant(Tensor.ofFloats(new long[] {16, 16}, new float[256]));
        Value a = un(b, "Exp", "a", x);
        Value c = bin(b, "Add", "c", a, un(b, "Sin", "s", x));
        Value d = bin(b, "Add", "d", c, k);
        b.output(un(b, "Neg", "y", d));
        Graph g = b.build();
        Graph s = Scheduler.schedule(g, STATIC);
        assertEquals(List.of("a", "s", "c", k.name(), "d", "y"),
                s.nodes().stream().map(n -> n.output(0).name()).toList(), "the constant runs right before its reader");
        assertEquals(3 * 1024, Scheduler.peak(g, STATIC));
        assertEquals(2 * 1024, Scheduler.peak(s, STATIC));
    }

    @Test
    void neverWorseAndDeterministicOnRandomGraphs() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            Graph g = randomGraph(rnd, 4 + rnd.nextInt(25));
            Graph s = Scheduler.schedule(g, STATIC);
            Verifier.verify(s);
            assertEquals(new HashSet<>(g.nodes()), new HashSet<>(s.nodes()));
            assertTrue(Scheduler.peak(s, STATIC) <= Scheduler.peak(g, STATIC));
            assertEquals(s.nodes(), Scheduler.schedule(g, STATIC).nodes(), "deterministic");
            assertTrue(Scheduler.peak(Scheduler.schedule(s, STATIC), STATIC) <= Scheduler.peak(s, STATIC));
            Map<String, Object> feeds = Map.of("x", Tensor.ofFloats(new long[] {4, 4}, randomFloats(rnd, 16)));
            List<Object> want = Interpreter.run(Model.of(g), feeds), got = Interpreter.run(Model.of(s), feeds);
            for (int i = 0; i < want.size(); i++)
                assertArrayEquals(((Tensor) want.get(i)).floats(), ((Tensor) got.get(i)).floats());
        }
    }

    @Test
    void passCountsReorders() {
        PassContext ctx = PassContext.defaults();
        PassRegistry.parse("schedule").run(breadthFirst(), ctx, true, null);
        assertEquals(1L, ctx.counters().get("schedule.reordered"));
    }

    static float[] randomFloats(Random rnd, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = rnd.nextFloat() * 2 - 1;
        return f;
    }

    /** A random DAG of unary and binary float ops over one [4,4] input, some values read many steps later. */
    static Graph randomGraph(Random rnd, int n) {
        GraphBuilder b = Graph.builder("r");
        List<Value> vals = new ArrayList<>(List.of(b.input("x", DType.FLOAT32, 4, 4)));
        String[] unary = {"Relu", "Neg", "Sin", "Tanh", "Abs"}, binary = {"Add", "Mul", "Sub", "MatMul"};
        for (int i = 0; i < n; i++) {
            Value a = vals.get(rnd.nextInt(vals.size()));
            if (rnd.nextBoolean()) vals.add(un(b, unary[rnd.nextInt(unary.length)], "v" + i, a));
            else vals.add(bin(b, binary[rnd.nextInt(binary.length)], "v" + i, a, vals.get(rnd.nextInt(vals.size()))));
        }
        b.output(vals.get(vals.size() - 1));
        if (vals.size() > 3) b.output(vals.get(1 + rnd.nextInt(vals.size() - 2)));
        return b.build();
    }
}
