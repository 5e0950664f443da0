package dev.gale.passes.memory;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.memory.MemoryPlannerTest.STATIC;
import static dev.gale.passes.memory.MemoryPlannerTest.diamond;
import static dev.gale.passes.memory.MemoryPlannerTest.un;
import static org.junit.jupiter.api.Assertions.*;

/** The arena replay accepts real plans and catches a plan that lets a value clobber a live one. */
class ArenaCheckerTest {
    static final Map<String, Object> FEEDS = Map.of("x", Tensor.ofFloats(new long[] {4, 8}, ramp(32)));

    static float[] ramp(int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = i * 0.25f - 3;
        return f;
    }

    static ArenaChecker replay(Graph g, MemoryPlan p, Map<String, Object> feeds) {
        ArenaChecker c = new ArenaChecker(g, p);
        Interpreter in = new Interpreter(Model.of(g));
        in.setListener(c::computed);
        in.run(feeds);
        return c;
    }

    @Test
    void aRealPlanReplays() {
        ArenaChecker c = replay(diamond(), MemoryPlanner.plan(diamond(), STATIC), FEEDS);
        assertEquals(4, c.steps());
        assertEquals(4 * 128, c.bytesChecked(), "Exp reads a; Add reads c and a; Neg reads d");
    }

    @Test
    void aPlanThatClobbersALiveValueFails() {
        MemoryPlan good = MemoryPlanner.plan(diamond(), STATIC);
        // Put c over a: Exp writes c at step 1 while a is still needed by the Add at step 2.
        List<MemoryPlan.Allocation> bad = new ArrayList<>();
        for (MemoryPlan.Allocation a : good.allocations())
            bad.add(new MemoryPlan.Allocation(a.value(), 0, a.bytes(), a.first(), a.last(), a.inPlaceOf()));
        MemoryPlan clobbering = new MemoryPlan(64, 128, good.naiveBytes(), 0, good.steps(), bad, List.of());
        assertThrows(GaleException.class, clobbering::verify);
        GaleException e = assertThrows(GaleException.class, () -> replay(diamond(), clobbering, FEEDS));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("overwritten"), e.getMessage());
    }

    @Test
    void aPlanWithViewsReplays() {
        Graph g = MemoryPlannerTest.viewed();
        ArenaChecker c = replay(g, MemoryPlanner.plan(g, STATIC), FEEDS);
        assertEquals(g.nodes().size(), c.steps());
        // Placing b over a's group (as if the Exp were a's last read) clobbers the bytes its views still read.
        MemoryPlan good = MemoryPlanner.plan(g, STATIC);
        List<MemoryPlan.Allocation> bad = new ArrayList<>();
        for (MemoryPlan.Allocation a : good.allocations())
            bad.add(a.value().equals("b") ? new MemoryPlan.Allocation("b", good.get("a").offset(), a.bytes(),
                    a.first(), a.last(), "a", null) : a);
        MemoryPlan clobbering = new MemoryPlan(64, good.arenaBytes(), good.naiveBytes(), 0, good.steps(), bad,
                List.of());
        GaleException e = assertThrows(GaleException.class, () -> replay(g, clobbering, FEEDS));
        assertTrue(e.getMessage().contains("overwritten"), e.getMessage());
    }

    @Test
    void sizesMustMatchThePlan() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, "n", 8);
        b.output(un(b, "Neg", "y", un(b, "Relu", "a", x)));
        Graph g = b.build();
        MemoryPlan forEight = MemoryPlanner.plan(g, TensorSizes.of(Map.of("n", 8L), 0, true));
        GaleException e = assertThrows(GaleException.class, () -> replay(g, forEight, FEEDS));
        assertTrue(e.getMessage().contains("planned with 256 bytes but the run produced 128"), e.getMessage());
        assertEquals(2, replay(g, MemoryPlanner.plan(g, TensorSizes.of(Map.of("n", 4L), 0, true)), FEEDS).steps());
    }

    @Test
    void tensorBytesAreLittleEndianElements() {
        assertArrayEquals(new byte[] {1, 0, 0, 0, 0, 0, -128, 63},
                ArenaChecker.bytes(Tensor.ofInts(new long[] {2}, 1, 0x3f800000)));
        assertEquals(16, ArenaChecker.bytes(Tensor.zeros(DType.COMPLEX64, 2)).length);
        assertEquals(3, ArenaChecker.bytes(Tensor.zeros(DType.BOOL, 3)).length);
    }
}
