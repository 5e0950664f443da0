package dev.gale.backends.interp.planned;

import dev.gale.backends.Backends;
import dev.gale.backends.Session;
import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.plan.BufferPlan;
import dev.gale.ir.plan.BufferPlan.Slot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The planned executor on hand-written plans of a four-step graph:
 * <pre>
 *   step 0: a = Abs(x)        a live 0..2
 *   step 1: b = Neg(a)        b live 1..2
 *   step 2: c = Add(a, b)     c live 2..3, may take over a's bytes (a dies here)
 *   step 3: y = Exp(c)        y is the graph output (outside the arena)
 * </pre>
 * A valid plan gives the interpreter's results; plans that clobber a live value, place a value at the wrong step
 * or with the wrong size fail with the values named.
 */
class PlannedExecutorTest {
    static final Graph G = graph();
    static final Map<String, Object> FEEDS = Map.of("x", Tensor.ofFloats(new long[] {4}, -1f, 2f, -3f, 0.5f));

    static Graph graph() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4);
        Value a = b.op("a", "Abs", List.of(x), Map.of());
        Value n = b.op("b", "Neg", List.of(a), Map.of());
        Value c = b.op("c", "Add", List.of(a, n), Map.of());
        b.output(b.op("y", "Exp", List.of(c), Map.of()));
        return b.build();
    }

    static BufferPlan plan(Slot a, Slot b, Slot c) {
        return new BufferPlan(192, 64, Map.of("a", a, "b", b, "c", c));
    }

    static final BufferPlan GOOD = plan(new Slot(0, 16, 0, 2, null), new Slot(64, 16, 1, 2, null),
            new Slot(0, 16, 2, 3, "a"));

    @Test
    void graphHasTheNamesThePlansUse() {
        assertEquals(List.of("a", "b", "c", "y"), G.nodes().stream().map(n -> n.output(0).name()).toList());
    }

    @Test
    void validPlanGivesTheInterpretersResults() {
        List<Object> want = Interpreter.run(Model.of(G), FEEDS);
        try (PlannedExecutor ex = new PlannedExecutor(Model.of(G), GOOD)) {
            for (int run = 0; run < 3; run++) assertEquals(want, ex.run(FEEDS), "run " + run);
            assertEquals(3 * 3 * 16, ex.bytesStored());
            assertEquals(3 * 4 * 16, ex.bytesLoaded()); // a twice, b once, c once per run
            assertEquals(32, ex.peakResidentBytes());
        }
    }

    @Test
    void outputsAreExact() {
        Tensor y = (Tensor) new PlannedExecutor(Model.of(G), GOOD).run(FEEDS).get(0);
        for (int i = 0; i < 4; i++) assertEquals(1f, y.floats()[i]); // exp(|x| - |x|)
    }

    @Test
    void interpreterBackendRunsPlannedGraphsInTheArena() {
        assertTrue(Backends.get("interp").runsPlannedGraphs());
        try (Session s = Backends.get("interp").open(Model.of(G), GOOD)) {
            assertInstanceOf(PlannedExecutor.class, s);
            assertEquals(Interpreter.run(Model.of(G), FEEDS), s.run(FEEDS));
        }
    }

    @Test
    void clobberingALiveValueFailsNamingBoth() {
        // b over a while a is still to be read at step 2
        BufferPlan bad = plan(new Slot(0, 16, 0, 2, null), new Slot(0, 16, 1, 2, null), new Slot(64, 16, 2, 3, null));
        GaleException e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), bad).run(FEEDS));
        assertTrue(e.getMessage().contains("step 1") && e.getMessage().contains("'b'")
                && e.getMessage().contains("over 'a'") && e.getMessage().contains("read until step 2"), e.getMessage());
    }

    @Test
    void partialOverlapIsAClobberToo() {
        BufferPlan bad = plan(new Slot(0, 16, 0, 2, null), new Slot(64, 16, 1, 2, null), new Slot(8, 16, 2, 3, "a"));
        GaleException e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), bad).run(FEEDS));
        assertTrue(e.getMessage().contains("'c'") && e.getMessage().contains("over 'a'"), e.getMessage());
    }

    @Test
    void sharingBytesWithADyingInputNeedsTheInPlaceMark() {
        BufferPlan bad = plan(new Slot(0, 16, 0, 2, null), new Slot(64, 16, 1, 2, null), new Slot(0, 16, 2, 3, null));
        GaleException e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), bad).run(FEEDS));
        assertTrue(e.getMessage().contains("over 'a'"), e.getMessage());
    }

    @Test
    void placingAValueWhereNothingIsLiveIsFine() {
        BufferPlan reuse = plan(new Slot(0, 16, 0, 2, null), new Slot(64, 16, 1, 2, null),
                new Slot(128, 16, 2, 3, null));
        assertEquals(Interpreter.run(Model.of(G), FEEDS), new PlannedExecutor(Model.of(G), reuse).run(FEEDS));
    }

    @Test
    void wrongSizeFails() {
        BufferPlan bad = plan(new Slot(0, 8, 0, 2, null), new Slot(64, 16, 1, 2, null), new Slot(128, 16, 2, 3, null));
        GaleException e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), bad).run(FEEDS));
        assertTrue(e.getMessage().contains("'a' is planned with 8 bytes but the run produced 16"), e.getMessage());
    }

    @Test
    void planForAnotherGraphIsRefusedBeforeRunning() {
        BufferPlan wrongStep = plan(new Slot(0, 16, 1, 2, null), new Slot(64, 16, 1, 2, null),
                new Slot(128, 16, 2, 3, null));
        GaleException e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), wrongStep));
        assertTrue(e.getMessage().contains("does not fit the graph") && e.getMessage().contains("'a'"), e.getMessage());
        BufferPlan tooShort = plan(new Slot(0, 16, 0, 1, null), new Slot(64, 16, 1, 2, null),
                new Slot(128, 16, 2, 3, null));
        e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), tooShort));
        assertTrue(e.getMessage().contains("step 2") && e.getMessage().contains("reads 'a'"), e.getMessage());
        BufferPlan stranger = new BufferPlan(64, 64, Map.of("zzz", new Slot(0, 16, 0, 0, null)));
        e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), stranger));
        assertTrue(e.getMessage().contains("'zzz' has a slot"), e.getMessage());
        BufferPlan output = new BufferPlan(64, 64, Map.of("y", new Slot(0, 16, 3, 3, null)));
        e = assertThrows(GaleException.class, () -> new PlannedExecutor(Model.of(G), output));
        assertTrue(e.getMessage().contains("graph output 'y'"), e.getMessage());
    }

    @Test
    void slotsOutsideTheArenaAreRefused() {
        assertThrows(GaleException.class, () -> new BufferPlan(16, 64, Map.of("a", new Slot(8, 16, 0, 0, null))));
    }

    @Test
    void everyElementTypeRoundTripsThroughTheArena() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.INT32, DType.FLOAT16, DType.INT8,
                DType.BOOL, DType.COMPLEX64}) {
            Tensor v = Tensor.zeros(t, 2, 3);
            for (int i = 0; i < v.numel(); i++) {
                if (t == DType.COMPLEX64) v.floats()[2 * i + 1] = i;
                else v.setLong(i, t == DType.BOOL ? i % 2 : i + 1);
            }
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                var seg = arena.allocate(256);
                ArenaTensors.store(v, seg, 64);
                assertEquals(ArenaTensors.bytes(v), (long) t.byteSize() * 6, t.toString());
                Tensor back = ArenaTensors.load(t, v.shape(), seg, 64);
                assertEquals(v, back, t.toString());
                assertTrue(java.util.Objects.deepEquals(v.data(), back.data()), t.toString());
            }
        }
    }

    @Test
    void nestedGraphsSeeArenaValuesTheyCapture() {
        // an If whose branches read 'a' from the outer graph
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4);
        Value cond = b.input("cond", DType.BOOL);
        Value a = b.op("a", "Abs", List.of(x), Map.of());
        Value t = new Value("t", a.type()), e = new Value("e", a.type());
        Graph then = new Graph("then", List.of(), List.of(t), List.of(new Node("t", "", "Neg", List.of(a), List.of(t),
                Map.of())), Map.of());
        Graph other = new Graph("else", List.of(), List.of(e), List.of(new Node("e", "", "Sqrt", List.of(a),
                List.of(e), Map.of())), Map.of());
        Value r = b.op("", "If", List.of(cond), Map.of("then_branch", Attr.of(then), "else_branch", Attr.of(other)),
                1).get(0);
        b.output(b.op("y", "Relu", List.of(r), Map.of()));
        Graph g = b.build();
        BufferPlan p = new BufferPlan(128, 64, Map.of("a", new Slot(0, 16, 0, 1, null),
                g.nodes().get(1).output(0).name(), new Slot(64, 16, 1, 2, null)));
        for (boolean c : new boolean[] {true, false}) {
            Map<String, Object> feeds = Map.of("x", FEEDS.get("x"), "cond", Tensor.ofBools(new long[0], c));
            assertEquals(Interpreter.run(Model.of(g), feeds), new PlannedExecutor(Model.of(g), p).run(feeds));
        }
    }
}
