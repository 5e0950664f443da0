package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.constantOf;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shape folding on the chains PyTorch exports, with static, symbolic and partly known dims. */
class ShapeFoldingTest {
    private static final ShapeFolding PASS = new ShapeFolding();

    private static Graph folded(GraphBuilder b) {
        Graph before = b.build();
        Graph after = apply(new DeadCodeElimination(), apply(PASS, before));
        assertSameResults(before, after, 5);
        return after;
    }

    private static Value gather(GraphBuilder b, Value data, long index) {
        return b.op("Gather", List.of(data, b.constant(Tensor.scalarLong(DType.INT64, index))), Map.of());
    }

    private static Value unsqueeze0(GraphBuilder b, Value x) {
        return b.op("Unsqueeze", List.of(x, b.constant(Tensor.vector(0))), Map.of());
    }

    private static Value shape(GraphBuilder b, Value x) { return b.op("Shape", List.of(x), Map.of()); }

    @Test
    void shapeOfAStaticTensorIsAConstant() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        Value s = b.op("s", "Shape", List.of(x), Map.of());
        b.output(b.op("Cast", List.of(s), Map.of("to", Attr.of((long) DType.FLOAT32.onnxCode()))));
        Graph g = folded(b);
        assertEquals(List.of("Constant"), ops(g));
        assertEquals(Tensor.ofFloats(new long[] {2}, 2, 3), ValueRefs.constantValue(g.nodes().get(0)));
    }

    @Test
    void shapeWithStartAndEndAndSize() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 3, 4);
        Value tail = b.op("tail", "Shape", List.of(x), Map.of("start", Attr.of(-2L)));
        Value head = b.op("head", "Shape", List.of(x), Map.of("end", Attr.of(1L)));
        Value size = b.op("size", "Size", List.of(b.input("y", DType.FLOAT32, 2, 5)), Map.of());
        b.output(tail);
        b.output(head);
        b.output(size);
        Graph g = folded(b);
        assertEquals(Tensor.vector(3, 4), constantOf(g, "tail"));
        assertEquals(Tensor.scalarLong(DType.INT64, 10), constantOf(g, "size"));
        // The first dim is symbolic: Shape(end=1) stays.
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Shape")).count());
    }

    @Test
    void gatherPicksStaticDimsOutOfAPartlySymbolicShape() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 16, 64);
        Value s = shape(b, x);
        Value d1 = b.op("d1", "Gather", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 1))), Map.of());
        Value d0 = b.op("d0", "Gather", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 0))), Map.of());
        b.output(d1);
        b.output(d0);
        Graph g = folded(b);
        assertEquals(Tensor.scalarLong(DType.INT64, 16), constantOf(g, "d1"));
        assertEquals(List.of("Shape", "Gather"),
                ops(g).stream().filter(op -> op.equals("Shape") || op.equals("Gather")).toList());
    }

    @Test
    void aFullyStaticViewChainFoldsIntoTheReshapeTarget() {
        // x.view(x.size(0), -1) with x: [4, 3, 2]
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4, 3, 2);
        Value n = gather(b, shape(b, x), 0);
        Value target = b.op("Concat", List.of(unsqueeze0(b, n), b.constant(Tensor.vector(-1))),
                Map.of("axis", Attr.of(0L)));
        b.output(b.relu(b.op("Reshape", List.of(x, target), Map.of())));
        Graph g = folded(b);
        assertEquals(List.of("Constant", "Reshape", "Relu"), ops(g));
        assertEquals(Tensor.vector(4, -1), ValueRefs.constantValue(g.nodes().get(0)));
    }

    @Test
    void aReshapeTargetWithOneSymbolicElementGetsMinusOne() {
        // x.view(b, h, d / h) with x: [batch, 8]: the batch element is unknown, the rest are static
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 8);
        Value s = shape(b, x);
        Value batch = gather(b, s, 0);
        Value half = b.div(gather(b, s, 1), b.constant(Tensor.scalarLong(DType.INT64, 2)));
        Value target = b.op("Concat", List.of(unsqueeze0(b, batch), b.constant(Tensor.vector(2)), unsqueeze0(b, half)),
                Map.of("axis", Attr.of(0L)));
        Value y = b.op("y", "Reshape", List.of(x, target), Map.of());
        b.output(b.relu(y));
        Graph g = folded(b);
        assertEquals(List.of("Constant", "Reshape", "Relu"), ops(g));
        assertEquals(Tensor.vector(-1, 2, 4), ValueRefs.constantValue(g.nodes().get(0)));
        assertEquals("y", g.nodes().get(1).output(0).name());
    }

    @Test
    void flatteningASymbolicBatchCancelsTheBatchAgainstTheInputDims() {
        // x.view(x.size(0), -1) with x: [batch, 2, 3] is x.view(-1, 6)
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 2, 3);
        Value target = b.op("Concat", List.of(unsqueeze0(b, gather(b, shape(b, x), 0)), b.constant(Tensor.vector(-1))),
                Map.of("axis", Attr.of(0L)));
        b.output(b.relu(b.op("Reshape", List.of(x, target), Map.of())));
        Graph g = folded(b);
        assertEquals(List.of("Constant", "Reshape", "Relu"), ops(g));
        assertEquals(Tensor.vector(-1, 6), ValueRefs.constantValue(g.nodes().get(0)));
    }

    @Test
    void aSymbolThatIsNotAmongTheInputDimsDoesNotCancel() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 2, 3);
        Value y = b.input("y", DType.FLOAT32, "other", 6);
        Value target = b.op("Concat", List.of(unsqueeze0(b, gather(b, shape(b, y), 0)), b.constant(Tensor.vector(-1))),
                Map.of("axis", Attr.of(0L)));
        b.output(b.relu(b.op("Reshape", List.of(x, target), Map.of())));
        assertEquals(1, folded(b).nodes().stream().filter(n -> n.op().equals("Concat")).count());
    }

    @Test
    void twoUnknownElementsOrAZeroKeepTheComputedTarget() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "a", "b", 4);
        Value s = shape(b, x);
        Value target = b.op("Concat", List.of(unsqueeze0(b, gather(b, s, 0)), unsqueeze0(b, gather(b, s, 1)),
                b.constant(Tensor.vector(4))), Map.of("axis", Attr.of(0L)));
        b.output(b.relu(b.op("Reshape", List.of(x, target), Map.of())));
        Graph g = folded(b);
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Concat")).count());

        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, "a", 4);
        Value t2 = c.op("Concat", List.of(unsqueeze0(c, gather(c, shape(c, y), 0)), c.constant(Tensor.vector(0))),
                Map.of("axis", Attr.of(0L)));
        c.output(c.relu(c.op("Reshape", List.of(y, t2), Map.of())));
        assertEquals(1, folded(c).nodes().stream().filter(n -> n.op().equals("Concat")).count());
    }

    @Test
    void sliceCastAndArithmeticOnShapes() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 6, 4);
        Value s = shape(b, x);
        Value tail = b.op("Slice", List.of(s, b.constant(Tensor.vector(1)), b.constant(Tensor.vector(100))), Map.of());
        Value prod = b.op("prod", "Mul", List.of(b.op("Cast", List.of(tail), Map.of("to", Attr.of(6L))),
                b.constant(Tensor.ofInts(new long[] {1}, 2))), Map.of());
        Value rev = b.op("rev", "Slice", List.of(s, b.constant(Tensor.vector(-1)), b.constant(Tensor.vector(-100)),
                b.constant(Tensor.vector(0)), b.constant(Tensor.vector(-1))), Map.of());
        b.output(prod);
        b.output(rev);
        Graph g = folded(b);
        assertEquals(Tensor.ofInts(new long[] {2}, 12, 8), constantOf(g, "prod"));
        // Reversed, the symbolic first dim comes last: the slice stays.
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Slice")).count());
    }

    @Test
    void constantOfShapeAndRangeFoldOnceTheirInputsAreKnown() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        Value zeros = b.op("zeros", "ConstantOfShape", List.of(shape(b, x)), Map.of());
        Value n = gather(b, shape(b, x), 1);
        Value r = b.op("r", "Range", List.of(b.constant(Tensor.scalarLong(DType.INT64, 0)), n,
                b.constant(Tensor.scalarLong(DType.INT64, 1))), Map.of());
        b.output(b.add(x, zeros));
        b.output(r);
        Graph g = folded(b);
        assertEquals(Tensor.zeros(DType.FLOAT32, 2, 3), constantOf(g, "zeros"));
        assertEquals(Tensor.vector(0, 1, 2), constantOf(g, "r"));
        assertEquals(0, g.nodes().stream().map(Node::op).filter(op -> op.equals("Shape")).count());
    }

    @Test
    void divisionOfNegativeValuesAndOutOfRangeIndicesStayUnknown() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3, 4);
        Value s = shape(b, x);
        Value neg = b.div(b.sub(b.constant(Tensor.vector(0, 0)), s), b.constant(Tensor.vector(2)));
        b.output(b.relu(b.op("Cast", List.of(neg), Map.of("to", Attr.of(1L)))));
        Graph g = apply(PASS, b.build());
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Div")).count());
        Value bad = b.op("Gather", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 5))), Map.of());
        b.output(bad);
        assertEquals(1, apply(PASS, b.build()).nodes().stream().filter(n -> n.op().equals("Gather")).count());
    }
}
