package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shape computations as PyTorch exports them keep symbolic dimensions through to the Reshape or Expand. */
class ShapeValuesTest {
    private static String type(Value v) { return v.type().toString(); }

    private static Value op(GraphBuilder b, String op, Value... in) { return b.op(op, List.of(in), Map.of()); }

    private static Value scalar(GraphBuilder b, long v) { return b.constant(Tensor.scalarLong(DType.INT64, v)); }

    private static Value unsqueeze0(GraphBuilder b, Value v) { return op(b, "Unsqueeze", v, b.constant(Tensor.vector(0))); }

    @Test
    void shapeGatherConcatReshape() {
        // x.view(x.size(0), x.size(1), 4, -1) for x: [batch, seq, 64]
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", "seq", 64);
        Value n = op(b, "Gather", op(b, "Shape", x), scalar(b, 0));
        Value s = op(b, "Gather", op(b, "Shape", x), scalar(b, 1));
        Value shape = b.op("Concat", List.of(unsqueeze0(b, n), unsqueeze0(b, s), b.constant(Tensor.vector(4, -1))),
                Map.of("axis", Attr.of(0L)));
        assertEquals("tensor<[batch,seq,4,16],f32>", type(op(b, "Reshape", x, shape)));
        // The 64 in x's shape divides by a computed 4 * 4.
        Value heads = op(b, "Mul", scalar(b, 4), scalar(b, 4));
        Value shape2 = b.op("Concat", List.of(unsqueeze0(b, n), b.constant(Tensor.vector(-1)), unsqueeze0(b, heads)),
                Map.of("axis", Attr.of(0L)));
        assertEquals("tensor<[batch,?,16],f32>", type(op(b, "Reshape", x, shape2)));
    }

    @Test
    void staticShapesFoldToConstants() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3, 4);
        Value last = op(b, "Slice", op(b, "Shape", x), b.constant(Tensor.vector(-1)), b.constant(Tensor.vector(3)));
        Value k = b.op("Cast", List.of(last), Map.of("to", Attr.of((long) DType.INT32.onnxCode())));
        // TopK's k and ReduceSum's axes read constants; a folded shape value counts as one.
        List<Value> top = b.op("", "TopK", List.of(x, last), Map.of(), 2);
        assertEquals("tensor<[2,3,4],f32>", type(top.get(0)));
        assertEquals("tensor<[1],i32>", type(k));
        assertEquals("tensor<[2,3,1],f32>", type(op(b, "ReduceSum", x, op(b, "Sub", last, b.constant(Tensor.vector(2))))));
        assertEquals("tensor<[2,12],f32>", type(op(b, "Reshape", x,
                b.op("Concat", List.of(b.constant(Tensor.vector(2)), op(b, "Mul", last, b.constant(Tensor.vector(3)))),
                        Map.of("axis", Attr.of(0L))))));
    }

    @Test
    void expandWithMinusOnesResolvedByWhere() {
        // PyTorch's x.expand(batch, -1, -1): Where(Equal(shape, -1), ones, shape)
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 1, 5, 7);
        Value y = b.input("y", DType.FLOAT32, "batch", 3);
        Value shape = b.op("Concat", List.of(unsqueeze0(b, op(b, "Gather", op(b, "Shape", y), scalar(b, 0))),
                b.constant(Tensor.vector(-1, -1))), Map.of("axis", Attr.of(0L)));
        Value ones = b.op("ConstantOfShape", List.of(b.constant(Tensor.vector(3))),
                Map.of("value", Attr.of(Tensor.ofLongs(new long[] {1}, 1))));
        Value minusOnes = op(b, "Mul", ones, scalar(b, -1));
        Value fixed = op(b, "Where", op(b, "Equal", shape, minusOnes), ones, shape);
        assertEquals("tensor<[batch,5,7],f32>", type(op(b, "Expand", x, fixed)));
    }

    @Test
    void rangeOverASymbolicLength() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", "seq", 8);
        Value seq = op(b, "Gather", op(b, "Shape", x), scalar(b, 1));
        assertEquals("tensor<[seq],i64>", type(op(b, "Range", scalar(b, 0), seq, scalar(b, 1))));
        assertEquals("tensor<[?],i64>", type(op(b, "Range", scalar(b, 1), seq, scalar(b, 1))));
        Value zeros = b.op("ConstantOfShape", List.of(op(b, "Shape", x)), Map.of());
        assertEquals("tensor<[batch,seq,8],f32>", type(zeros));
        // mask[:, :seq] of a [batch, seq] mask is the whole mask; of a [1, 512] table it is min(seq, 512): unknown.
        Value end = unsqueeze0(b, seq), zero = b.constant(Tensor.vector(0)), one = b.constant(Tensor.vector(1));
        Value mask = b.input("mask", DType.BOOL, "batch", "seq");
        assertEquals("tensor<[batch,seq],bool>", type(op(b, "Slice", mask, zero, end, one)));
        Value table = b.input("table", DType.FLOAT32, 1, 512);
        assertEquals("tensor<[1,?],f32>", type(op(b, "Slice", table, zero, end, one)));
    }
}
