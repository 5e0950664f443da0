package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.pipeline.Property;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code simplify} pass as a whole: rules enabling each other, and its place in a pipeline. */
class SimplifyTest {
    @Test
    void rulesEnableEachOther() {
        // x.view(x.size(0), -1) * (Identity(w) * 2 - 0) + dead, with a duplicate Relu: everything but one
        // Reshape, one Relu and the Mul by a folded constant goes.
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 2, 3);
        Value s = b.op("Shape", List.of(x), Map.of());
        Value n = b.op("Gather", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 0))), Map.of());
        Value target = b.op("Concat", List.of(b.op("Unsqueeze", List.of(n, b.constant(Tensor.vector(0))), Map.of()),
                b.constant(Tensor.vector(-1))), Map.of("axis", Attr.of(0L)));
        Value flat = b.op("Reshape", List.of(x, target), Map.of());
        Value w = b.op("Identity", List.of(b.initializer("w", Tensor.ofFloats(new long[] {6}, 1, 2, 3, 4, 5, 6))),
                Map.of());
        Value scale = b.sub(b.mul(w, b.constant(Tensor.scalar(DType.FLOAT32, 2))),
                b.constant(Tensor.zeros(DType.FLOAT32, 1)));
        Value y = b.mul(b.relu(flat), scale);
        Value y2 = b.mul(b.relu(flat), scale);
        b.op("Tanh", List.of(y), Map.of());
        b.output(b.add(y, y2));
        Graph before = b.build();
        PassContext ctx = PassContext.defaults();
        Graph g = apply(new Simplify(), before, ctx);
        assertEquals(List.of("Constant", "Reshape", "Constant", "Relu", "Mul", "Add"), ops(g));
        assertEquals(Tensor.vector(-1, 6), ValueRefs.constantValue(g.nodes().get(0)));
        assertSameResults(before, g, 9);
        for (String rule : List.of("reshape-target", "identity", "fold", "sub-zero", "cse", "dce"))
            assertTrue(ctx.counters().containsKey("simplify." + rule), rule + " did not fire: " + ctx.counters());
    }

    @Test
    void simplifyEstablishesSimplifiedForLaterPasses() {
        var pipeline = new Pipeline(List.of(new Simplify()));
        pipeline.check(Set.of(Property.TYPED));
        assertEquals(Set.of(Property.SIMPLIFIED), new Simplify().establishes());
        assertEquals("algebraic -> shape-fold -> fold -> cse -> dce", new Pipeline(Simplify.steps()).toString());
    }

    @Test
    void trainingGraphsKeepTheirParameters() {
        // In a training graph the parameters are graph inputs: nothing about them is constant.
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 4);
        Value w = b.input("w", DType.FLOAT32, 4, 4);
        Value scale = b.input("scale", DType.FLOAT32, 4);
        b.output(b.mul(b.matmul(x, b.transpose(b.transpose(w, 1, 0), 1, 0)), scale));
        Graph g = apply(new Simplify(), b.build());
        assertEquals(List.of("MatMul", "Mul"), ops(g));
        assertEquals(List.of("x", "w", "scale"), g.inputs().stream().map(Value::name).toList());
    }
}
