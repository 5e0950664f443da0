package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.constantOf;
import static dev.gale.passes.simplify.SimplifyTesting.floats;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Constant folding: what folds, into what, and what must not fold. */
class ConstantFoldingTest {
    private static final ConstantFolding FOLD = new ConstantFolding();

    @Test
    void aChainOfConstantNodesBecomesOneConstantPerLiveValue() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        Value w = b.initializer("w", floats(new long[] {2}, 1, 2));
        Value c = b.constant(floats(new long[] {2}, 3, 4));
        Value sum = b.op("sum", "Add", List.of(w, c), Map.of());
        Value scaled = b.op("scaled", "Mul", List.of(sum, b.constant(Tensor.scalar(DType.FLOAT32, 0.5))), Map.of());
        b.output(b.add(x, scaled));
        Graph before = b.build();
        PassContext ctx = PassContext.defaults();
        Graph g = apply(new DeadCodeElimination(), apply(FOLD, before, ctx));
        assertEquals(List.of("Constant", "Add"), ops(g));
        // The folded constant keeps the name of the value it replaces.
        assertEquals(floats(new long[] {2}, 2, 3), constantOf(g, "scaled"));
        assertEquals(2L, ctx.counters().get("simplify.fold"));
        assertEquals(Map.of(), g.initializers());
        assertSameResults(before, g, 1);
    }

    @Test
    void aFoldedGraphOutputKeepsItsName() {
        var b = Graph.builder();
        Value y = b.op("y", "Neg", List.of(b.constant(floats(new long[] {1}, 2))), Map.of());
        b.output(y);
        Graph g = apply(FOLD, b.build());
        assertEquals(floats(new long[] {1}, -2), constantOf(g, "y"));
        assertEquals("y", g.outputs().get(0).name());
    }

    @Test
    void multiOutputNodesFoldEveryOutputRead() {
        var b = Graph.builder();
        List<Value> parts = b.op("", "Split", List.of(b.constant(floats(new long[] {4}, 1, 2, 3, 4)),
                b.constant(Tensor.vector(1, 3))), Map.of(), 2);
        b.output(parts.get(1));
        Graph g = apply(new DeadCodeElimination(), apply(FOLD, b.build()));
        assertEquals(List.of("Constant"), ops(g));
        assertEquals(floats(new long[] {3}, 2, 3, 4), constantOf(g, parts.get(1).name()));
    }

    @Test
    void runtimeInputsAreNotConstants() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2);
        b.output(b.op("Neg", List.of(x), Map.of()));
        assertEquals(List.of("Neg"), ops(apply(FOLD, b.build())));
    }

    @Test
    void anInitializerThatIsAlsoAnInputMayBeFedAndIsNotFolded() {
        var b = Graph.builder();
        Value w = b.initializer("w", floats(new long[] {2}, 1, 2));
        b.output(b.op("Neg", List.of(w), Map.of()));
        Graph g = b.build();
        // ONNX: an initializer listed among the inputs is a default value.
        Graph withDefault = new Graph(g.name(), List.of(new Value("w", w.type())), g.outputs(), g.nodes(),
                g.initializers());
        assertEquals(List.of("Neg"), ops(apply(FOLD, withDefault)));
        assertEquals(List.of("Constant"), ops(apply(FOLD, g)));
    }

    @Test
    void trainableParametersNamedInTheOptionAreNotFolded() {
        var b = Graph.builder();
        Value w = b.initializer("w", floats(new long[] {2}, 1, 1));
        Value v = b.initializer("v", floats(new long[] {2}, 1, 1));
        b.output(b.op("Neg", List.of(w), Map.of()));
        b.output(b.op("Neg", List.of(v), Map.of()));
        PassContext ctx = new PassContext(Map.of("train.params", "w,u"));
        Graph g = apply(FOLD, b.build(), ctx);
        assertEquals(List.of("Neg", "Constant"), ops(g));
        // Nor are they constants to the algebraic rules: x * w with w = 1 now is not x * 1 forever.
        var c = Graph.builder();
        Value x = c.input("x", DType.FLOAT32, 2);
        Value ones = c.initializer("w", floats(new long[] {2}, 1, 1));
        c.output(c.relu(c.mul(x, ones)));
        assertEquals(List.of("Mul", "Relu"), ops(apply(new Simplify(), c.build(), ctx)));
        assertEquals(List.of("Relu"), ops(apply(new Simplify(), c.build(), PassContext.defaults())));
    }

    @Test
    void impureOpsAreNotFolded() {
        var b = Graph.builder();
        Value r = b.op("RandomUniformLike", List.of(b.constant(floats(new long[] {2}, 0, 0))), Map.of());
        b.output(r);
        assertEquals(List.of("Constant", "RandomUniformLike"), ops(apply(FOLD, b.build())));
    }

    @Test
    void hugeResultsAreNotFolded() {
        var b = Graph.builder();
        Value big = b.op("ConstantOfShape", List.of(b.constant(Tensor.vector(1001, 1000))), Map.of());
        Value small = b.op("ConstantOfShape", List.of(b.constant(Tensor.vector(1000, 1000))), Map.of());
        b.output(big);
        b.output(small);
        assertEquals(List.of("Constant", "ConstantOfShape", "Constant", "Constant"), ops(apply(FOLD, b.build())));
    }

    @Test
    void identityIsLeftToTheAlgebraicPass() {
        var b = Graph.builder();
        Value w = b.initializer("w", floats(new long[] {2}, 1, 2));
        b.output(b.op("Identity", List.of(w), Map.of()));
        assertEquals(List.of("Identity"), ops(apply(FOLD, b.build())));
    }

    @Test
    void nodesWithBodiesAreNotFolded() {
        var b = Graph.builder();
        Value cond = b.constant(Tensor.ofBools(new long[0], true));
        Value one = new Value("one", Type.tensor(DType.FLOAT32, 1));
        Graph then = new Graph("then", List.of(), List.of(one),
                List.of(new Node("one", "", "Constant", List.of(), List.of(one),
                        Map.of("value", Attr.of(floats(new long[] {1}, 1))))), Map.of());
        Value two = new Value("two", Type.tensor(DType.FLOAT32, 1));
        Graph otherwise = new Graph("else", List.of(), List.of(two),
                List.of(new Node("two", "", "Constant", List.of(), List.of(two),
                        Map.of("value", Attr.of(floats(new long[] {1}, 2))))), Map.of());
        b.output(b.op("If", List.of(cond), Map.of("then_branch", Attr.of(then), "else_branch", Attr.of(otherwise))));
        assertEquals(List.of("Constant", "If"), ops(apply(FOLD, b.build())));
    }

    @Test
    void aNodeThatFailsOnItsConstantsIsLeftToFailAtRunTime() {
        var b = Graph.builder();
        Value data = b.constant(floats(new long[] {3}, 1, 2, 3));
        b.output(b.op("Gather", List.of(data, b.constant(Tensor.vector(7))), Map.of()));
        assertEquals(List.of("Constant", "Constant", "Gather"), ops(apply(FOLD, b.build())));
    }

    @Test
    void integerAndBoolResultsKeepTheirElementType() {
        GraphBuilder b = Graph.builder();
        Value a = b.constant(Tensor.vector(1, 2, 3));
        Value less = b.op("Less", List.of(a, b.constant(Tensor.vector(2))), Map.of());
        Value sum = b.op("ReduceSum", List.of(a, b.constant(Tensor.vector(0))), Map.of("keepdims", Attr.of(0L)));
        b.output(less);
        b.output(sum);
        Graph g = apply(FOLD, b.build());
        assertEquals(Tensor.ofBools(new long[] {3}, true, false, false), constantOf(g, less.name()));
        assertEquals(Tensor.ofLongs(new long[0], 6), constantOf(g, sum.name()));
    }
}
