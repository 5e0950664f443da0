package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Dead code elimination: unread nodes and initializers go, the graph's interface stays. */
class DeadCodeEliminationTest {
    private static final DeadCodeElimination PASS = new DeadCodeElimination();

    @Test
    void unreadChainsAndInitializersAreRemoved() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        Value w = b.initializer("w", Tensor.ofFloats(new long[] {2}, 1, 2));
        Value dead = b.relu(b.mul(x, w));
        b.op("", "Split", List.of(dead), Map.of("num_outputs", Attr.of(2L)), 2);
        b.output(b.tanh(x));
        Graph before = b.build();
        PassContext ctx = PassContext.defaults();
        Graph g = apply(PASS, before, ctx);
        assertEquals(List.of("Tanh"), ops(g));
        assertEquals(Map.of(), g.initializers());
        assertEquals(3L, ctx.counters().get("simplify.dce"));
        assertEquals(1L, ctx.counters().get("simplify.dce-initializer"));
        assertSameResults(before, g, 2);
    }

    @Test
    void graphOutputsInputsAndOverridableInitializersStay() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        b.input("unused", DType.FLOAT32, 2);
        Value w = b.initializer("w", Tensor.ofFloats(new long[] {2}, 1, 2));
        Value y = b.output(b.relu(x));
        b.output(b.tanh(y));
        Graph g = b.build();
        Graph withDefault = new Graph(g.name(), List.of(g.inputs().get(0), g.inputs().get(1), w), g.outputs(),
                g.nodes(), g.initializers());
        Graph after = apply(PASS, withDefault);
        assertSame(withDefault, after);
        assertEquals(Set.of("w"), after.initializers().keySet());
    }

    @Test
    void valuesReadOnlyInsideABodyAreLive() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 1);
        Value cond = b.input("c", DType.BOOL);
        Value outer = b.relu(x);
        Value t = new Value("t", Type.tensor(DType.FLOAT32, 1));
        Graph then = new Graph("then", List.of(), List.of(t),
                List.of(new Node("t", "", "Neg", List.of(outer), List.of(t), Map.of())), Map.of());
        Graph otherwise = new Graph("else", List.of(), List.of(outer), List.of(), Map.of());
        b.output(b.op("If", List.of(cond), Map.of("then_branch", Attr.of(then), "else_branch", Attr.of(otherwise))));
        Graph before = b.build();
        assertSame(before, apply(PASS, before));
    }
}
