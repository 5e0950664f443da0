package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Common subexpression elimination: what merges, and what must stay apart. */
class CommonSubexpressionsTest {
    private static final CommonSubexpressions PASS = new CommonSubexpressions();

    private static Graph merged(Graph before) {
        Graph after = apply(new DeadCodeElimination(), apply(PASS, before));
        assertSameResults(before, after, 11);
        return after;
    }

    @Test
    void duplicatesAndTheirReadersMergeInOneSweep() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value y = b.input("y", DType.FLOAT32, 3);
        Value a1 = b.add(x, y), a2 = b.add(y, x);
        Value r1 = b.relu(a1), r2 = b.relu(a2);
        b.output(b.sub(r1, r2));
        PassContext ctx = PassContext.defaults();
        Graph g = apply(new DeadCodeElimination(), apply(PASS, b.build(), ctx));
        assertEquals(List.of("Add", "Relu", "Sub"), ops(g));
        assertEquals(2L, ctx.counters().get("simplify.cse"));
        assertEquals(g.nodes().get(2).input(0), g.nodes().get(2).input(1));
    }

    @Test
    void operandOrderMattersForNonCommutativeOps() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value y = b.input("y", DType.FLOAT32, 3);
        b.output(b.add(b.sub(x, y), b.sub(y, x)));
        assertEquals(List.of("Sub", "Sub", "Add"), ops(merged(b.build())));
    }

    @Test
    void differentAttributesDoNotMerge() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        Value s0 = b.softmax(x, 0), s1 = b.softmax(x, 1), s1b = b.softmax(x, 1);
        b.output(b.add(b.add(s0, s1), s1b));
        assertEquals(List.of("Softmax", "Softmax", "Add", "Add"), ops(merged(b.build())));
    }

    @Test
    void equalConstantsMergeButNotEqualLookingOnes() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        Value c1 = b.constant(Tensor.ofFloats(new long[] {2}, 1, 2));
        Value c2 = b.constant(Tensor.ofFloats(new long[] {2}, 1, 2));
        Value c3 = b.constant(Tensor.ofFloats(new long[] {1, 2}, 1, 2));
        Value c4 = b.constant(Tensor.ofFloats(new long[] {2}, 1, -0f));
        Value c5 = b.constant(Tensor.ofFloats(new long[] {2}, 1, 0f));
        b.output(b.add(b.add(b.add(b.add(b.mul(x, c1), c2), c3), c4), c5));
        Graph g = merged(b.build());
        // c2 merges into c1; the [1,2] shape, and -0 against +0, keep c3, c4 and c5 apart.
        assertEquals(4, ops(g).stream().filter(op -> op.equals("Constant")).count());
    }

    @Test
    void randomOpsAndDropoutNeverMerge() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4);
        Value r1 = b.op("RandomUniformLike", List.of(x), Map.of());
        Value r2 = b.op("RandomUniformLike", List.of(x), Map.of());
        Value ratio = b.constant(Tensor.scalar(DType.FLOAT32, 0.5));
        Value train = b.constant(Tensor.ofBools(new long[0], true));
        Value d1 = b.op("", "Dropout", List.of(x, ratio, train), Map.of(), 1).get(0);
        Value d2 = b.op("", "Dropout", List.of(x, ratio, train), Map.of(), 1).get(0);
        b.output(b.add(b.add(r1, r2), b.add(d1, d2)));
        Graph g = apply(PASS, b.build());
        assertEquals(2, ops(g).stream().filter(op -> op.equals("RandomUniformLike")).count());
        assertEquals(2, ops(g).stream().filter(op -> op.equals("Dropout")).count());
    }

    @Test
    void twoGraphOutputsComputedAlikeStayTwoValues() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        b.output(b.relu(x));
        b.output(b.relu(x));
        Graph g = merged(b.build());
        assertEquals(List.of("Relu", "Relu"), ops(g));
    }

    @Test
    void aDuplicateOfAGraphOutputMergesIntoIt() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value out = b.output(b.relu(x));
        b.output(b.op("Neg", List.of(b.relu(x)), Map.of()));
        Graph g = merged(b.build());
        assertEquals(List.of("Relu", "Neg"), ops(g));
        assertEquals(out.name(), g.nodes().get(1).input(0).name());
    }

    @Test
    void multiOutputNodesMergeOutputByOutput() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4);
        Value split = b.constant(Tensor.vector(2, 2));
        List<Value> p = b.op("", "Split", List.of(x, split), Map.of("axis", Attr.of(0L)), 2);
        List<Value> q = b.op("", "Split", List.of(x, split), Map.of("axis", Attr.of(0L)), 2);
        b.output(b.sub(p.get(1), q.get(0)));
        b.output(b.sub(q.get(1), p.get(0)));
        assertEquals(List.of("Constant", "Split", "Sub", "Sub"), ops(merged(b.build())));
    }
}
