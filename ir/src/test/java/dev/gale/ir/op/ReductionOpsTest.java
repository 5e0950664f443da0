package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Type inference of the reduction, softmax and loss entries: exact where the inputs allow, unknown otherwise. */
class ReductionOpsTest {
    private static String type(Value v) { return v.type().toString(); }

    @Test
    void reduceWithConstantAxesKeepsSymbols() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 3, 4);
        Value axes = b.constant(Tensor.vector(-1));
        assertEquals("tensor<[batch,3,1],f32>", type(b.op("ReduceSum", List.of(x, axes), Map.of())));
        assertEquals("tensor<[batch,3],f32>",
                type(b.op("ReduceMax", List.of(x, axes), Map.of("keepdims", Attr.of(0L)))));
        assertEquals("tensor<[],f32>", type(b.op("ReduceMean", List.of(x), Map.of("keepdims", Attr.of(0L)))));
        assertEquals("tensor<[batch,3,4],f32>", type(b.op("ReduceL2",
                List.of(x, b.constant(Tensor.zeros(DType.INT64, 0))), Map.of("noop_with_empty_axes", Attr.of(1L)))));
    }

    @Test
    void reduceWithRuntimeAxes() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.INT64, "batch", 1, 4);
        Value axes = b.input("axes", DType.INT64, 1);
        assertEquals("tensor<[?,1,?],i64>", type(b.op("ReduceProd", List.of(x, axes), Map.of())));
        assertEquals("tensor<*,i64>",
                type(b.op("ReduceProd", List.of(x, axes), Map.of("keepdims", Attr.of(0L)))));
        // Reducing every axis of a tensor of unknown rank still leaves a scalar.
        Value unranked = b.op("ReduceProd", List.of(x, axes), Map.of("keepdims", Attr.of(0L)));
        assertEquals("tensor<[],i64>", type(b.op("ReduceSum", List.of(unranked), Map.of("keepdims", Attr.of(0L)))));
        assertEquals("tensor<*,i64>", type(b.op("ReduceSum", List.of(unranked), Map.of())));
    }

    @Test
    void malformedReductionsAreErrors() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        GaleException e = assertThrows(GaleException.class,
                () -> b.op("ReduceSum", List.of(x, b.constant(Tensor.vector(1, -1))), Map.of()));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        assertThrows(GaleException.class, () -> b.op("ArgMax", List.of(x), Map.of("axis", Attr.of(2L))));
        assertThrows(GaleException.class, () -> b.op("Softmax", List.of(b.input("i", DType.INT32, 2)), Map.of()));
    }

    @Test
    void argMaxAndTopK() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT16, "n", 5);
        assertEquals("tensor<[n],i64>",
                type(b.op("ArgMin", List.of(x), Map.of("axis", Attr.of(-1L), "keepdims", Attr.of(0L)))));
        List<Value> top = b.op("", "TopK", List.of(x, b.constant(Tensor.vector(2))), Map.of(), 2);
        assertEquals("tensor<[n,2],f16>", type(top.get(0)));
        assertEquals("tensor<[n,2],i64>", type(top.get(1)));
        List<Value> dyn = b.op("", "TopK", List.of(x, b.input("k", DType.INT64, 1)), Map.of(), 2);
        assertEquals("tensor<[n,?],f16>", type(dyn.get(0)));
        assertThrows(GaleException.class,
                () -> b.op("", "TopK", List.of(x, b.constant(Tensor.vector(6))), Map.of(), 2));
    }

    @Test
    void lossShapes() {
        GraphBuilder b = Graph.builder();
        Value scores = b.input("scores", DType.FLOAT32, "n", 10, "?");
        Value labels = b.input("labels", DType.INT64, "n", 7);
        List<Value> sce = b.op("", "SoftmaxCrossEntropyLoss", List.of(scores, labels),
                Map.of("reduction", Attr.of("none")), 2);
        assertEquals("tensor<[n,7],f32>", type(sce.get(0)));
        assertEquals("tensor<[n,10,?],f32>", type(sce.get(1)));
        assertEquals("tensor<[],f32>", type(b.op("NegativeLogLikelihoodLoss", List.of(scores, labels), Map.of())));
        assertThrows(GaleException.class, () -> b.op("NegativeLogLikelihoodLoss",
                List.of(scores, b.input("bad", DType.INT64, "n")), Map.of()));
        assertThrows(GaleException.class, () -> b.op("NegativeLogLikelihoodLoss", List.of(scores, labels),
                Map.of("reduction", Attr.of("avg"))));
        Value dLoss = b.input("dloss", DType.FLOAT32);
        assertEquals("tensor<[n,10,?],f32>", type(b.op(GaleOps.DOMAIN, "SoftmaxCrossEntropyLossGrad",
                List.of(dLoss, scores, labels), Map.of("ignore_index", Attr.of(0L)), 1).get(0)));
        assertThrows(GaleException.class, () -> b.op(GaleOps.DOMAIN, "NegativeLogLikelihoodLossGrad",
                List.of(b.input("d64", DType.FLOAT64), scores, labels), Map.of(), 1));
        assertEquals(Type.tensor(DType.FLOAT32, 2, 3), b.op("CumSum",
                List.of(b.input("c", DType.FLOAT32, 2, 3), b.constant(Tensor.vector(1))), Map.of()).type());
    }
}
