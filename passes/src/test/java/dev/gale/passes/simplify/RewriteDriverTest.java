package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.op;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver and the pattern matcher, with small rules written for the test. */
class RewriteDriverTest {
    // (a - b) + b -> a
    private static final RewriteRule SUB_ADD = RewriteRule.of("sub-add",
            op("Add", op("Sub", any("a"), any("b")), any("b")).commutative(),
            m -> ShapeFacts.sameType(m.tensorType("a"), m.tensorType(m.output())),
            (m, r) -> List.of(m.value("a")));
    // Neg(Neg(x)) -> x
    private static final RewriteRule NEG_NEG = RewriteRule.of("neg-neg", op("Neg", op("Neg", any("x"))), null,
            (m, r) -> List.of(m.value("x")));
    // Relu(x) -> Max(x, 0)   (creates nodes)
    private static final RewriteRule RELU_MAX = RewriteRule.of("relu-max", op("Relu", any("x")), null,
            (m, r) -> List.of(r.op("Max", List.of(m.value("x"),
                    r.constant(Tensor.zeros(m.tensorType("x").dtype()))), Map.of())));

    private static Value neg(dev.gale.ir.GraphBuilder b, Value x) { return b.op("Neg", List.of(x), Map.of()); }

    private static Graph rewrite(Graph g, RewriteRule... rules) {
        Graph out = RewriteDriver.apply(g, List.of(rules), PassContext.defaults());
        dev.gale.ir.Verifier.verify(out);
        return out;
    }

    @Test
    void aVariableBoundTwiceMustBindTheSameValueInEitherOperandOrder() {
        var b = Graph.builder();
        Value a = b.input("a", DType.FLOAT32, 3);
        Value c = b.input("c", DType.FLOAT32, 3);
        Value hit1 = b.add(b.sub(a, c), c);
        Value hit2 = b.add(c, b.sub(a, c));
        Value miss = b.add(b.sub(a, c), a);
        b.output(b.tanh(b.mul(b.mul(hit1, hit2), miss)));
        Graph g = rewrite(b.build(), SUB_ADD);
        List<Node> muls = g.nodes().stream().filter(n -> n.op().equals("Mul")).toList();
        assertEquals(List.of("a", "a"), muls.get(0).inputs().stream().map(Value::name).toList());
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Add")).count());
    }

    @Test
    void aBroadcastingNearMissIsRejectedByTheCondition() {
        var b = Graph.builder();
        Value a = b.input("a", DType.FLOAT32, 3);
        Value c = b.input("c", DType.FLOAT32, 2, 3);
        b.output(b.tanh(b.add(b.sub(a, c), c)));
        assertEquals(List.of("Sub", "Add", "Tanh"), ops(rewrite(b.build(), SUB_ADD)));
    }

    @Test
    void rewritesReachAFixpointAndCountFirings() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value y = x;
        for (int i = 0; i < 7; i++) y = neg(b, y);
        b.output(b.tanh(y));
        Graph before = b.build();
        PassContext ctx = PassContext.defaults();
        Graph g = new DeadCodeElimination().run(RewriteDriver.apply(before, List.of(NEG_NEG), ctx), ctx);
        // Seven negations: three pairs cancel, one stays.
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Neg") && n.input(0).name().equals("x")).count());
        assertEquals(3L, ctx.counters().get("simplify.neg-neg"));
        assertSameResults(before, g, 4);
    }

    @Test
    void newNodesTakeTheReplacedNameAndKeepTopologicalOrder() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value r = b.op("r", "Relu", List.of(x), Map.of());
        b.output(b.tanh(r));
        Graph before = b.build();
        Graph g = rewrite(before, RELU_MAX);
        assertEquals(List.of("Constant", "Max", "Tanh"), ops(g));
        assertEquals("r", g.nodes().get(1).output(0).name());
        assertSameResults(before, g, 5);
    }

    @Test
    void aReplacedGraphOutputIsRenamedOntoItsReplacement() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value t = b.tanh(x);
        Value y = b.op("y", "Neg", List.of(neg(b, t)), Map.of());
        b.output(y);
        Graph before = b.build();
        Graph g = new DeadCodeElimination().run(rewrite(before, NEG_NEG), PassContext.defaults());
        assertEquals(List.of("Tanh"), ops(g));
        assertEquals("y", g.nodes().get(0).output(0).name());
        assertEquals("y", g.outputs().get(0).name());
        assertSameResults(before, g, 6);
    }

    @Test
    void aGraphOutputIsNotReplacedByAGraphInputOrAnotherOutput() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        b.output(neg(b, neg(b, x)));
        assertEquals(List.of("Neg", "Neg"), ops(rewrite(b.build(), NEG_NEG)));

        var c = Graph.builder();
        Value z = c.input("z", DType.FLOAT32, 3);
        Value t = c.output(c.tanh(z));
        c.output(neg(c, neg(c, t)));
        assertEquals(List.of("Tanh", "Neg", "Neg"), ops(rewrite(c.build(), NEG_NEG)));
    }

    @Test
    void readersInsideNestedGraphsAreRenamed() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 1);
        Value cond = b.input("c", DType.BOOL);
        Value twice = neg(b, neg(b, x));
        Value t = new Value("t", Type.tensor(DType.FLOAT32, 1));
        Graph then = new Graph("then", List.of(), List.of(t),
                List.of(new Node("t", "", "Tanh", List.of(twice), List.of(t), Map.of())), Map.of());
        Graph otherwise = new Graph("else", List.of(), List.of(new Value(twice.name(), twice.type())), List.of(),
                Map.of());
        Value out = b.op("If", List.of(cond), Map.of("then_branch", Attr.of(then), "else_branch", Attr.of(otherwise)));
        b.output(b.relu(out));
        Graph before = b.build();
        Graph g = rewrite(before, NEG_NEG);
        Node ifNode = g.nodes().stream().filter(n -> n.op().equals("If")).findFirst().orElseThrow();
        Graph then2 = ((Attr.GraphAttr) ifNode.attr("then_branch")).value();
        Graph else2 = ((Attr.GraphAttr) ifNode.attr("else_branch")).value();
        assertEquals("x", then2.nodes().get(0).input(0).name());
        assertEquals("x", else2.outputs().get(0).name());
        for (boolean c : new boolean[] {true, false}) {
            Map<String, Object> feeds = Map.of("x", Tensor.ofFloats(new long[] {1}, 0.5f),
                    "c", Tensor.ofBools(new long[0], c));
            assertEquals(SimplifyTesting.run(before, feeds), SimplifyTesting.run(g, feeds));
        }
    }

    @Test
    void aRuleThatWouldChangeATypeFailsLoudly() {
        RewriteRule broken = RewriteRule.of("broken", op("Add", any("a"), any("b")), null,
                (m, r) -> List.of(m.value("b")));
        var b = Graph.builder();
        Value a = b.input("a", DType.FLOAT32, 2, 3);
        Value c = b.input("c", DType.FLOAT32, 3);
        b.output(b.tanh(b.add(a, c)));
        GaleException e = assertThrows(GaleException.class, () -> rewrite(b.build(), broken));
        assertTrue(e.getMessage().contains("rule 'broken'"), e.getMessage());
    }

    @Test
    void aMultiOutputNodeMayDropOnlyUnreadOutputs() {
        // Dropout(x) -> x with its mask dropped: only when nothing reads the mask.
        RewriteRule dropMask = RewriteRule.of("drop", op("Dropout", any("x")), null,
                (m, r) -> java.util.Arrays.asList(m.value("x"), null));
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        List<Value> d = b.op("", "Dropout", List.of(x), Map.of(), 2);
        b.output(b.tanh(d.get(0)));
        b.output(b.op("Not", List.of(d.get(1)), Map.of()));
        assertEquals(List.of("Dropout", "Tanh", "Not"), ops(rewrite(b.build(), dropMask)));
    }

    @Test
    void cyclingRulesStopAtTheFiringLimit() {
        RewriteRule there = RewriteRule.of("there", op("Relu", any("x")), null,
                (m, r) -> List.of(r.op("Relu", List.of(m.value("x")), Map.of())));
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        b.output(b.tanh(b.relu(x)));
        PassContext ctx = PassContext.defaults();
        Graph g = RewriteDriver.apply(b.build(), List.of(there), ctx);
        assertEquals(List.of("Relu", "Tanh"), ops(g));
        assertTrue(ctx.counters().containsKey("simplify.driver.firing-limit"), ctx.counters().toString());
    }
}
