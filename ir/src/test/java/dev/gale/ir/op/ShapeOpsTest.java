package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Type inference of the shape and indexing entries: static where constant inputs allow, symbols kept where the op
 * passes a dimension through, unknown otherwise, and a clear error for malformed nodes.
 */
class ShapeOpsTest {
    private static String type(Value v) { return v.type().toString(); }

    private static Value op(GraphBuilder b, String op, Map<String, Attr> attrs, Value... in) {
        return b.op(op, List.of(in), attrs);
    }

    private static Value vec(GraphBuilder b, long... v) { return b.constant(Tensor.vector(v)); }

    @Test
    void reshapeCancelsSymbols() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 3, 4);
        assertEquals("tensor<[batch,12],f32>", type(op(b, "Reshape", Map.of(), x, vec(b, 0, -1))));
        assertEquals("tensor<[batch,3,2,2],f32>", type(op(b, "Reshape", Map.of(), x, vec(b, -1, 3, 2, 2))));
        // batch * 12 / 4 is not a single dimension Gale can name.
        assertEquals("tensor<[?,4],f32>", type(op(b, "Reshape", Map.of(), x, vec(b, -1, 4))));
        assertEquals("tensor<[?,?,?],f32>", type(op(b, "Reshape", Map.of(), x, b.input("s", DType.INT64, 3))));
        Value s = b.input("t", DType.FLOAT32, 2, 0, 3);
        assertEquals("tensor<[3,0,5],f32>",
                type(op(b, "Reshape", Map.of("allowzero", Attr.of(1L)), s, vec(b, 3, 0, 5))));
        assertEquals("tensor<[2,0,3],f32>", type(op(b, "Reshape", Map.of(), s, vec(b, 0, 0, 3))));
    }

    @Test
    void malformedReshapesAreErrors() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3, 4);
        assertThrows(GaleException.class, () -> op(b, "Reshape", Map.of(), x, vec(b, 5, -1)));
        assertThrows(GaleException.class, () -> op(b, "Reshape", Map.of(), x, vec(b, -1, -1)));
        assertThrows(GaleException.class, () -> op(b, "Reshape", Map.of(), x, vec(b, 7, 4)));
        GaleException e = assertThrows(GaleException.class,
                () -> op(b, "Reshape", Map.of(), b.input("y", DType.FLOAT32, "n", 3), vec(b, 0, 0, 0)));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
    }

    @Test
    void transposeConcatSplit() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 3, "seq");
        assertEquals("tensor<[seq,3,batch],f32>", type(op(b, "Transpose", Map.of(), x)));
        assertEquals("tensor<[3,seq,batch],f32>", type(op(b, "Transpose", Map.of("perm", Attr.of(1L, 2L, 0L)), x)));
        assertThrows(GaleException.class, () -> op(b, "Transpose", Map.of("perm", Attr.of(0L, 0L, 1L)), x));
        Value y = b.input("y", DType.FLOAT32, 2, 5, "?");
        assertEquals("tensor<[2,8,seq],f32>", type(op(b, "Concat", Map.of("axis", Attr.of(1L)), x, y)));
        assertEquals("tensor<[?,3,seq],f32>", type(op(b, "Concat", Map.of("axis", Attr.of(0L)), x, x)));
        assertThrows(GaleException.class, () -> op(b, "Concat", Map.of("axis", Attr.of(0L)), x, y));
        List<Value> parts = b.op("", "Split", List.of(b.input("z", DType.FLOAT32, 7, "n")),
                Map.of("num_outputs", Attr.of(3L)), 3);
        assertEquals("tensor<[3,n],f32>", type(parts.get(0)));
        assertEquals("tensor<[1,n],f32>", type(parts.get(2)));
        List<Value> dyn = b.op("", "Split", List.of(x), Map.of("axis", Attr.of(-1L)), 2);
        assertEquals("tensor<[batch,3,?],f32>", type(dyn.get(1)));
        assertThrows(GaleException.class,
                () -> b.op("", "Split", List.of(y, vec(b, 1, 2)), Map.of("axis", Attr.of(1L)), 2));
    }

    @Test
    void sliceClampsAndKeepsWholeSymbolicAxes() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 10, 6);
        long max = Long.MAX_VALUE;
        assertEquals("tensor<[batch,3,6],f32>",
                type(op(b, "Slice", Map.of(), x, vec(b, 0, 2), vec(b, max, -1), vec(b, 0, 1), vec(b, 1, 3))));
        assertEquals("tensor<[batch,10,3],f32>",
                type(op(b, "Slice", Map.of(), x, vec(b, -1, -1), vec(b, Long.MIN_VALUE, 0), vec(b, 0, -1),
                        vec(b, -1, -2))));
        assertEquals("tensor<[?,0,6],f32>",
                type(op(b, "Slice", Map.of(), x, vec(b, 1, 5), vec(b, 4, 2), vec(b, 0, 1))));
        assertEquals("tensor<[batch,?,6],f32>",
                type(op(b, "Slice", Map.of(), x, b.input("s", DType.INT64, 1), vec(b, 9), vec(b, 1))));
        assertThrows(GaleException.class, () -> op(b, "Slice", Map.of(), x, vec(b, 0), vec(b, 1), vec(b, 1), vec(b, 0)));
        assertThrows(GaleException.class, () -> op(b, "Slice", Map.of(), x, vec(b, 0, 0), vec(b, 1, 1), vec(b, 1, -2)));
    }

    @Test
    void squeezeUnsqueezeFlattenShape() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.INT64, 1, "n", 1, 4);
        assertEquals("tensor<[n,4],i64>", type(op(b, "Squeeze", Map.of(), x, vec(b, 0, -2))));
        assertEquals("tensor<*,i64>", type(op(b, "Squeeze", Map.of(), x)));
        assertThrows(GaleException.class, () -> op(b, "Squeeze", Map.of(), x, vec(b, 3)));
        assertEquals("tensor<[1,1,n,1,4,1],i64>", type(op(b, "Unsqueeze", Map.of(), x, vec(b, -1, 1))));
        assertThrows(GaleException.class, () -> op(b, "Unsqueeze", Map.of(), x, vec(b, 1, -5)));
        assertEquals("tensor<[n,4],i64>", type(op(b, "Flatten", Map.of("axis", Attr.of(-1L)), x)));
        assertEquals("tensor<[1,?],i64>", type(op(b, "Flatten", Map.of("axis", Attr.of(0L)), x)));
        assertEquals("tensor<[2],i64>", type(op(b, "Shape", Map.of("start", Attr.of(-3L), "end", Attr.of(-1L)), x)));
        assertEquals("tensor<[0],i64>", type(op(b, "Shape", Map.of("start", Attr.of(3L), "end", Attr.of(1L)), x)));
        assertEquals("tensor<[],i64>", type(op(b, "Size", Map.of(), x)));
    }

    @Test
    void shapeOperandsFromConstants() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 1, 3);
        assertEquals("tensor<[2,batch,5,3],f32>", type(op(b, "Expand", Map.of(), x, vec(b, 2, 1, 5, 1))));
        assertEquals("tensor<[?,?,3],f32>", type(op(b, "Expand", Map.of(), x, b.input("s", DType.INT64, 3))));
        assertThrows(GaleException.class, () -> op(b, "Expand", Map.of(), x, vec(b, 4)));
        assertEquals("tensor<[batch,0,6],f32>", type(op(b, "Tile", Map.of(), x, vec(b, 1, 0, 2))));
        assertEquals("tensor<[batch,2,6],f32>",
                type(op(b, "Pad", Map.of("mode", Attr.of("edge")), x, vec(b, 2, 0, 1, 1), Value.NONE, vec(b, -1, 1))));
        assertThrows(GaleException.class, () -> op(b, "Pad", Map.of(), x, vec(b, 0, 0, -4, 0, 0, 0)));
        Value value = b.constant(Tensor.ofLongs(new long[] {1}, 7));
        assertEquals("tensor<[2,0],i64>", type(b.op("ConstantOfShape", List.of(vec(b, 2, 0)), Map.of("value", Attr.of(
                Tensor.ofLongs(new long[] {1}, 7))))));
        assertEquals("tensor<[4],i64>", type(op(b, "Range", Map.of(), b.constant(Tensor.scalarLong(DType.INT64, 10)),
                b.constant(Tensor.scalarLong(DType.INT64, -3)), b.constant(Tensor.scalarLong(DType.INT64, -4)))));
        assertEquals("tensor<[?],i64>", type(op(b, "Range", Map.of(), b.input("a", DType.INT64), value, value)));
    }

    @Test
    void spaceDepthEyeCropCol2Im() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 18, 2, 3);
        assertEquals("tensor<[n,2,6,9],f32>", type(op(b, "DepthToSpace", Map.of("blocksize", Attr.of(3L)), x)));
        assertEquals("tensor<[n,72,1,?],f32>", type(op(b, "SpaceToDepth", Map.of("blocksize", Attr.of(2L)),
                b.input("y", DType.FLOAT32, "n", 18, 2, "w"))));
        assertThrows(GaleException.class, () -> op(b, "DepthToSpace", Map.of("blocksize", Attr.of(4L)), x));
        assertEquals("tensor<[4,6],f64>", type(op(b, "EyeLike", Map.of("dtype", Attr.of(11L)),
                b.input("e", DType.INT32, 4, 6))));
        assertEquals("tensor<[n,7,2,3],f32>", type(op(b, "CenterCropPad", Map.of("axes", Attr.of(1L)), x, vec(b, 7))));
        assertEquals("tensor<[2,6,5,6],f32>", type(op(b, "Col2Im", Map.of(), b.input("c", DType.FLOAT32, 2, 24, 15),
                vec(b, 5, 6), vec(b, 2, 2))));
    }

    @Test
    void resizeSizes() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 3, 8, 10);
        assertEquals("tensor<[n,3,13,4],f32>", type(op(b, "Resize", Map.of(), x, Value.NONE,
                b.constant(Tensor.ofFloats(new long[] {4}, 1, 1, 1.7f, 0.4f)))));
        // 10 * 1.3f is 12.99999952 in float64 but 13 in float32, which ONNX and ONNX Runtime use.
        assertEquals("tensor<[n,3,8,13],f32>", type(op(b, "Resize", Map.of("axes", Attr.of(-1L)), x, Value.NONE,
                b.constant(Tensor.ofFloats(new long[] {1}, 1.3f)))));
        assertEquals("tensor<[n,3,5,7],f32>", type(op(b, "Resize", Map.of("axes", Attr.of(2L, 3L)), x, Value.NONE,
                Value.NONE, vec(b, 5, 7))));
        assertEquals("tensor<[n,3,6,8],f32>", type(op(b, "Resize", Map.of("axes", Attr.of(2L, 3L),
                "keep_aspect_ratio_policy", Attr.of("not_larger")), x, Value.NONE, Value.NONE, vec(b, 6, 9))));
        assertEquals("tensor<[n,3,?,?],f32>", type(op(b, "Resize", Map.of("axes", Attr.of(2L, 3L)), x, Value.NONE,
                Value.NONE, b.input("s", DType.INT64, 2))));
        assertEquals("tensor<[n,3,16,30],f32>", type(op(b, "Upsample", Map.of(), x,
                b.constant(Tensor.ofFloats(new long[] {4}, 1, 1, 2, 3)))));
    }

    @Test
    void gathersAndFriends() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 5, 7);
        Value i = b.input("i", DType.INT64, 2, "k");
        assertEquals("tensor<[batch,2,k,7],f32>", type(op(b, "Gather", Map.of("axis", Attr.of(-2L)), x, i)));
        assertEquals("tensor<[batch,7],f32>",
                type(op(b, "Gather", Map.of("axis", Attr.of(1L)), x, b.constant(Tensor.scalarLong(DType.INT64, 3)))));
        assertThrows(GaleException.class, () -> op(b, "Gather", Map.of(), x, b.input("f", DType.FLOAT32, 2)));
        Value nd = b.input("nd", DType.INT64, "batch", 4, 1);
        assertEquals("tensor<[batch,4,7],f32>", type(op(b, "GatherND", Map.of("batch_dims", Attr.of(1L)), x, nd)));
        assertEquals("tensor<[3,batch,5],f32>", type(op(b, "OneHot", Map.of("axis", Attr.of(0L)),
                b.input("o", DType.INT64, "batch", 5), b.constant(Tensor.scalarLong(DType.INT64, 3)),
                b.input("v", DType.FLOAT32, 2))));
        assertEquals("tensor<[3,?],i64>", type(op(b, "NonZero", Map.of(), x)));
        List<Value> u = b.op("", "Unique", List.of(x), Map.of("axis", Attr.of(1L)), 4);
        assertEquals("tensor<[batch,?,7],f32>", type(u.get(0)));
        assertEquals("tensor<[5],i64>", type(u.get(2)));
        List<Value> flat = b.op("", "Unique", List.of(b.input("w", DType.INT32, 2, 3)), Map.of(), 3);
        assertEquals("tensor<[6],i64>", type(flat.get(2)));
        assertThrows(GaleException.class, () -> op(b, "ScatterElements", Map.of("reduction", Attr.of("sub")), x,
                b.input("si", DType.INT64, 1, 1, 1), b.input("su", DType.FLOAT32, 1, 1, 1)));
        assertEquals("tensor<[?],f32>", type(op(b, "Compress", Map.of(), x, b.input("c", DType.BOOL, 3))));
    }
}
