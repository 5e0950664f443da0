package dev.gale.passes.memory;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Lifetimes, sizes, in-place reuse, alignment and offsets of {@link MemoryPlanner} on small hand-built graphs. */
class MemoryPlannerTest {
    static final TensorSizes STATIC = TensorSizes.of(Map.of(), 0, true);

    static Value un(GraphBuilder b, String op, String out, Value x) { return b.op(out, op, List.of(x), Map.of()); }

    static Value bin(GraphBuilder b, String op, String out, Value x, Value y) {
        return b.op(out, op, List.of(x, y), Map.of());
    }

    /** x -> a = Relu(x) -> c = Exp(a) -> d = Add(c, a) -> y = Neg(d): a lives from step 0 to step 2. */
    static Graph diamond() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 4, 8);
        Value a = un(b, "Relu", "a", x);
        Value c = un(b, "Exp", "c", a);
        Value d = bin(b, "Add", "d", c, a);
        b.output(un(b, "Neg", "y", d));
        return b.build();
    }

    @Test
    void lifetimesRunFromProducerToLastReader() {
        MemoryPlan p = MemoryPlanner.plan(diamond(), STATIC);
        assertEquals(List.of("a", "c", "d"), p.allocations().stream().map(MemoryPlan.Allocation::value).toList(),
                "graph inputs and outputs stay outside the arena");
        assertEquals(0, p.get("a").first());
        assertEquals(2, p.get("a").last());
        assertEquals(1, p.get("c").first());
        assertEquals(2, p.get("c").last());
        assertEquals(2, p.get("d").first());
        assertEquals(3, p.get("d").last());
        assertEquals(128, p.get("a").bytes());
        assertEquals(4, p.steps());
        p.verify();
    }

    @Test
    void elementwiseNodesOverwriteAnInputThatDiesThere() {
        MemoryPlan p = MemoryPlanner.plan(diamond(), STATIC);
        assertNull(p.get("c").inPlaceOf(), "a is still read by Add, so Exp may not overwrite it");
        assertEquals("c", p.get("d").inPlaceOf(), "Add takes the first input that dies there");
        assertEquals(p.get("c").offset(), p.get("d").offset());
        // a, c live together at step 1; d reuses c: two buffers of 128 bytes.
        assertEquals(256, p.lowerBound());
        assertEquals(256, p.arenaBytes());
        assertEquals(384, p.naiveBytes());
    }

    @Test
    void noInPlaceAcrossSizesOrForOpaqueOps() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 4, 4);
        Value w = b.input("w", DType.FLOAT32, 4, 4);
        Value a = un(b, "Relu", "a", x);
        Value m = bin(b, "MatMul", "m", a, w);                     // same size, but not elementwise
        Value c = b.op("c", "Cast", List.of(m), Map.of("to", Attr.of((long) DType.FLOAT64.onnxCode())));
        Value e = un(b, "Exp", "e", c);                            // f64: same size as c
        b.output(un(b, "Neg", "y", e));
        MemoryPlan p = MemoryPlanner.plan(b.build(), STATIC);
        assertNull(p.get("m").inPlaceOf());
        assertNull(p.get("c").inPlaceOf(), "Cast to f64 doubles the size");
        assertEquals("c", p.get("e").inPlaceOf());
        p.verify();
    }

    @Test
    void offsetsAreAlignedTo64Bytes() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 3);
        Value a = un(b, "Relu", "a", x);                           // 12 bytes
        Value c = un(b, "Exp", "c", x);                            // 12 bytes, live with a
        Value d = un(b, "Sin", "d", x);
        Value s = b.op("s", "Sum", List.of(a, c, d), Map.of());
        b.output(un(b, "Neg", "y", s));
        MemoryPlan p = MemoryPlanner.plan(b.build(), STATIC);
        for (MemoryPlan.Allocation al : p.allocations()) {
            assertEquals(0, al.offset() % 64, al.toString());
            assertEquals(12, al.bytes());
        }
        assertEquals(192, p.lowerBound(), "three 12-byte values live together, each padded to 64");
        assertEquals(192, p.arenaBytes());
        p.verify();
    }

    @Test
    void symbolicDimsNeedABatchSize() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, "batch", 10);
        Value a = un(b, "Relu", "a", x);
        b.output(un(b, "Exp", "y", a));
        Graph g = b.build();
        GaleException e = assertThrows(GaleException.class, () -> MemoryPlanner.plan(g, STATIC));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("'batch'")
                && e.getMessage().contains("--batch-size"), e.getMessage());
        PassContext ctx = new PassContext(Map.of("batch", "8"));
        assertEquals(320, MemoryPlanner.plan(g, TensorSizes.from(ctx, true)).get("a").bytes());
        PassContext named = new PassContext(Map.of("batch", "8", "dim.batch", "3"));
        assertEquals(120, MemoryPlanner.plan(g, TensorSizes.from(named, true)).get("a").bytes(),
                "dim.NAME beats batch");
        PassContext bad = new PassContext(Map.of("batch", "zero"));
        assertThrows(GaleException.class, () -> TensorSizes.from(bad, true));
    }

    @Test
    void unknownSizesAreDynamic() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, 5);
        Value nz = b.op("nz", "NonZero", List.of(x), Map.of());   // [1, ?]: data-dependent
        Value a = un(b, "Neg", "a", nz);
        b.output(un(b, "Abs", "y", a));
        MemoryPlan p = MemoryPlanner.plan(b.build(), STATIC);
        assertEquals(List.of("a", "nz"), p.dynamic());
        assertTrue(p.allocations().isEmpty());
        assertEquals(0, p.arenaBytes());
    }

    /**
     * x [batch, 4, 6] -> f = Flatten(x, 2) [batch*4, 6] (inference alone: [?, 6]); t = Transpose(x) -> r = Reshape(t,
     * Concat(Shape(t)[0], -1)) with the target computed from the symbolic shape, as PyTorch exports views.
     */
    static Graph computedShapes() {
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, "batch", 4, 6);
        Value f = b.op("f", "Flatten", List.of(x), Map.of("axis", Attr.of(2L)));
        Value t = b.op("t", "Transpose", List.of(x), Map.of("perm", Attr.of(1L, 0L, 2L)));
        Value shape = b.op("s", "Shape", List.of(t), Map.of());
        Value first = b.op("s0", "Gather", List.of(shape, b.constant(dev.gale.ir.Tensor.vector(0))), Map.of());
        Value target = b.op("st", "Concat", List.of(first, b.constant(dev.gale.ir.Tensor.vector(-1))),
                Map.of("axis", Attr.of(0L)));
        Value r = b.op("r", "Reshape", List.of(t, target), Map.of());
        b.output(un(b, "Neg", "y", bin(b, "Add", "a", un(b, "Relu", "fr", f), b.op("rr", "Reshape",
                List.of(r, b.constant(dev.gale.ir.Tensor.vector(-1, 6))), Map.of()))));
        return b.build();
    }

    @Test
    void dimsComputedFromSymbolsAreSizedOnceTheSymbolsAreBound() {
        Graph g = computedShapes();
        assertFalse(g.valueTypes().get("f").toString().contains("batch"), "inference alone: "
                + g.valueTypes().get("f"));
        TensorSizes bound = TensorSizes.from(new PassContext(Map.of("batch", "3")), true);
        MemoryPlan p = MemoryPlanner.plan(g, bound);
        assertEquals(List.of(), p.dynamic());
        assertEquals(3 * 4 * 6 * 4, p.get("f").bytes());
        assertEquals(3 * 4 * 6 * 4, p.get("r").bytes(), "the Reshape target computed from Shape(t) is known too");
        p.verify();
        // Without a value for batch, the unknown dims stay unknown: dynamic in lenient mode, an error in strict.
        MemoryPlan lenient = MemoryPlanner.plan(g, TensorSizes.of(Map.of(), 0, false));
        assertTrue(lenient.dynamic().contains("f") && lenient.dynamic().contains("r"), lenient.dynamic().toString());
    }

    @Test
    void kernelsSeeTheShapesTheirInputsHold() {
        // k = Kernel(x, s) with body Neg(Reshape(x, s)), s = Shape(x) computed outside: the kernel's output is
        // [?, ?, ?] for inference alone, and [3, 4, 6] once batch = 3 makes s known.
        GraphBuilder body = Graph.builder("body");
        Value bx = body.input("bx", DType.FLOAT32, "batch", 4, 6);
        Value bs = body.input("bs", DType.INT64, 3);
        body.output(un(body, "Neg", "bn", body.op("br", "Reshape", List.of(bx, bs), Map.of())));
        GraphBuilder b = Graph.builder("g");
        Value x = b.input("x", DType.FLOAT32, "batch", 4, 6);
        Value shape = b.op("s", "Shape", List.of(x), Map.of());
        Value k = b.op("gale", "Kernel", List.of(x, shape), Map.of("body", Attr.of(body.build()),
                "pattern", Attr.of("injective")), 1).get(0);
        b.output(un(b, "Abs", "y", k));
        Graph g = b.build();
        assertEquals(List.of(k.name()), MemoryPlanner.plan(g, TensorSizes.of(Map.of(), 0, false)).dynamic());
        MemoryPlan p = MemoryPlanner.plan(g, TensorSizes.from(new PassContext(Map.of("batch", "3")), true));
        assertEquals(List.of(), p.dynamic());
        assertEquals(3 * 4 * 6 * 4, p.get(k.name()).bytes());
    }

    @Test
    void reshapesAreViewsOfTheirInput() {
        MemoryPlan p = MemoryPlanner.plan(computedShapes(), TensorSizes.from(new PassContext(Map.of("batch", "3")),
                true));
        assertEquals("t", p.get("r").viewOf(), "a Reshape keeps the row-major order: r is t's bytes");
        assertEquals("t", p.get("rr").viewOf(), "a view of a view names the value that was written");
        assertEquals(p.get("t").offset(), p.get("rr").offset());
        assertNull(p.get("r").inPlaceOf());
        assertNull(p.get("f").viewOf(), "x is a graph input, outside the arena");
        assertNull(p.get("f").inPlaceOf());
        p.verify();
    }

    /**
     * a = Relu(x); v = Flatten(a); b = Exp(a); w = Reshape(v, [4, 8]); c = Add(w, b); y = Neg(c). The Exp is a's
     * own last read, but its views are read later, so b may not take a's bytes; the Add is where the group dies.
     */
    static Graph viewed() {
        GraphBuilder g = Graph.builder("g");
        Value x = g.input("x", DType.FLOAT32, 4, 8);
        Value a = un(g, "Relu", "a", x);
        Value v = g.op("v", "Flatten", List.of(a), Map.of("axis", Attr.of(0L)));
        Value b = un(g, "Exp", "b", a);
        Value w = g.op("w", "Reshape", List.of(v, g.constant(dev.gale.ir.Tensor.vector(4, 8))), Map.of());
        g.output(un(g, "Neg", "y", bin(g, "Add", "c", w, b)));
        return g.build();
    }

    @Test
    void aViewKeepsItsInputsBytesUntilTheLastReadOfEither() {
        MemoryPlan p = MemoryPlanner.plan(viewed(), STATIC);
        assertEquals("a", p.get("v").viewOf());
        assertEquals("a", p.get("w").viewOf());
        assertEquals(p.get("a").offset(), p.get("w").offset());
        assertNull(p.get("b").inPlaceOf(), "v and w still need a's bytes after the Exp");
        assertNotEquals(p.get("a").offset(), p.get("b").offset());
        assertEquals("w", p.get("c").inPlaceOf(), "the group dies at the Add, which may write over it");
        assertEquals(p.get("a").offset(), p.get("c").offset());
        assertEquals(2 * 128 + 64, p.arenaBytes(), "a's group, b and the Reshape's shape constant: c reuses a's bytes");
        p.verify();
        assertTrue(p.toJson().contains("\"view_of\": \"a\""), p.toJson());
    }

    @Test
    void verifyRejectsAValueOverAViewGroupThatIsStillRead() {
        MemoryPlan good = MemoryPlanner.plan(viewed(), STATIC);
        List<MemoryPlan.Allocation> bad = new ArrayList<>();
        for (MemoryPlan.Allocation a : good.allocations())
            bad.add(a.value().equals("b") ? new MemoryPlan.Allocation("b", good.get("a").offset(), a.bytes(),
                    a.first(), a.last(), "a", null) : a);
        GaleException e = assertThrows(GaleException.class, () -> new MemoryPlan(64, good.arenaBytes(),
                good.naiveBytes(), good.lowerBound(), good.steps(), bad, List.of()).verify());
        assertTrue(e.getMessage().contains("share bytes"), e.getMessage());
    }

    @Test
    void nestedGraphReadsKeepOuterValuesAlive() {
        GraphBuilder outer = Graph.builder("g");
        Value x = outer.input("x", DType.FLOAT32, 4);
        Value cond = outer.input("cond", DType.BOOL);
        Value a = un(outer, "Relu", "a", x);
        Value c = un(outer, "Exp", "c", x);
        Value t = new Value("t", a.type()), e = new Value("e", c.type());
        Graph then = new Graph("then", List.of(), List.of(t),             // reads a from the enclosing graph
                List.of(new Node("t", "", "Neg", List.of(a), List.of(t), Map.of())), Map.of());
        Graph other = new Graph("else", List.of(), List.of(e),
                List.of(new Node("e", "", "Abs", List.of(c), List.of(e), Map.of())), Map.of());
        Value r = outer.op("r", "If", List.of(cond), Map.of("then_branch", Attr.of(then),
                "else_branch", Attr.of(other)));
        outer.output(un(outer, "Sin", "y", r));
        MemoryPlan p = MemoryPlanner.plan(outer.build(), STATIC);
        assertEquals(2, p.get("a").last(), "the If at step 2 reads a inside its then branch");
        assertEquals(2, p.get("c").last());
        p.verify();
    }

    @Test
    void elementwiseKernelsReuseInputs() {
        Type t = Type.tensor(DType.FLOAT32, 16);
        Value x = new Value("x", t), a = new Value("a", t), k = new Value("k", t), y = new Value("y", t);
        GraphBuilder body = Graph.builder("body");
        Value bx = body.input("bx", DType.FLOAT32, 16);
        body.output(un(body, "Exp", "by", un(body, "Relu", "br", bx)));
        Node relu = new Node("relu", "", "Relu", List.of(x), List.of(a), Map.of());
        Node kernel = new Node("k", "gale", "Kernel", List.of(a), List.of(k), Map.of("body", Attr.of(body.build()),
                "pattern", Attr.of("elementwise")));
        Node opaque = kernel.withAttrs(Map.of("body", Attr.of(body.build()), "pattern", Attr.of("reduction")));
        Node neg = new Node("neg", "", "Neg", List.of(k), List.of(y), Map.of());
        Graph g = new Graph("g", List.of(x), List.of(y), List.of(relu, kernel, neg), Map.of());
        assertEquals("a", MemoryPlanner.plan(g, STATIC).get("k").inPlaceOf());
        assertNull(MemoryPlanner.plan(g.withNodes(List.of(relu, opaque, neg)), STATIC).get("k").inPlaceOf());
    }

    @Test
    void passStoresThePlanAndNeedsASchedule() {
        PassContext ctx = PassContext.defaults();
        assertThrows(GaleException.class, () -> PassRegistry.parse("plan-memory").run(diamond(), ctx, true, null));
        PassRegistry.parse("schedule,plan-memory").run(diamond(), ctx, true, null);
        MemoryPlan p = ctx.get(MemoryPlanner.PLAN_KEY);
        assertNotNull(p);
        assertEquals(256L, ctx.counters().get("memory.arena_bytes"));
        assertEquals(1L, ctx.counters().get("memory.in_place"));
    }

    @Test
    void jsonIsDeterministic() {
        String json = MemoryPlanner.plan(diamond(), STATIC).toJson();
        assertEquals(json, MemoryPlanner.plan(diamond(), STATIC).toJson());
        assertEquals("""
                {
                  "alignment": 64,
                  "arena_bytes": 256,
                  "naive_bytes": 384,
                  "lower_bound_bytes": 256,
                  "steps": 4,
                  "values": [
                    {"name": "a", "offset": 0, "bytes": 128, "first": 0, "last": 2},
                    {"name": "c", "offset": 128, "bytes": 128, "first": 1, "last": 2},
                    {"name": "d", "offset": 128, "bytes": 128, "first": 2, "last": 3, "in_place_of": "c"}
                  ],
                  "dynamic": []
                }
                """, json);
    }
}
