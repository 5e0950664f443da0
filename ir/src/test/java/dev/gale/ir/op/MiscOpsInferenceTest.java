package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Type inference of the quantization, signal, vision and training entries on symbolic and unknown inputs. */
class MiscOpsInferenceTest {
    private static Type.TensorType t(DType d, Dim... dims) { return Type.tensor(d, Shape.of(dims)); }

    private static Dim n(long v) { return Dim.of(v); }

    @Test
    void quantizeKeepsSymbolicDims() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 4);
        Value q = b.op("QuantizeLinear", List.of(x, b.initializer("s", Tensor.scalar(DType.FLOAT32, 1)),
                b.initializer("z", Tensor.scalarLong(DType.INT8, 0))), Map.of());
        assertEquals(t(DType.INT8, Dim.sym("batch"), n(4)), q.type());
        Value d = b.op("DequantizeLinear", List.of(q, b.initializer("s2", Tensor.scalar(DType.FLOAT32, 1))), Map.of());
        assertEquals(t(DType.FLOAT32, Dim.sym("batch"), n(4)), d.type());
    }

    @Test
    void convAndMatMulShapes() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.UINT8, "n", 4, 7, 7);
        Value w = b.input("w", DType.UINT8, 6, 2, 3, 3);
        Value y = b.op("ConvInteger", List.of(x, w), Map.of("group", Attr.of(2L), "strides", Attr.of(2L, 2L),
                "pads", Attr.of(1L, 1L, 1L, 1L)));
        assertEquals(t(DType.INT32, Dim.sym("n"), n(6), n(4), n(4)), y.type());
        Value a = b.input("a", DType.INT8, 5, "m", 3);
        Value c = b.input("c", DType.INT8, 3, 2);
        assertEquals(t(DType.INT32, n(5), Dim.sym("m"), n(2)), b.op("MatMulInteger", List.of(a, c), Map.of()).type());
    }

    @Test
    void dftOnesidedAndUnknownLength() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "b", 10, 1);
        assertEquals(t(DType.FLOAT32, Dim.sym("b"), n(6), n(2)),
                b.op("DFT", List.of(x), Map.of("onesided", Attr.of(1L))).type());
        Value len = b.input("len", DType.INT64);
        assertEquals(t(DType.FLOAT32, Dim.sym("b"), Dim.UNKNOWN, n(2)), b.op("DFT", List.of(x, len), Map.of()).type());
    }

    @Test
    void dftRejectsTheBatchAxis() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 10, 1);
        GaleException e = assertThrows(GaleException.class, () -> b.op("DFT", List.of(x), Map.of("axis", Attr.of(0L))));
        assertTrue(e.getMessage().contains("axis"), e.getMessage());
    }

    @Test
    void stftFramesFromConstants() {
        GraphBuilder b = Graph.builder();
        Value s = b.input("s", DType.FLOAT32, 2, 128, 1);
        Value y = b.op("STFT", List.of(s, b.constant(Tensor.scalarLong(DType.INT64, 8)), Value.NONE,
                b.constant(Tensor.scalarLong(DType.INT64, 16))), Map.of());
        assertEquals(t(DType.FLOAT32, n(2), n(15), n(9), n(2)), y.type());
    }

    @Test
    void windowSizeUnknownUnlessConstant() {
        GraphBuilder b = Graph.builder();
        Value size = b.input("size", DType.INT64);
        assertEquals(t(DType.FLOAT16, Dim.UNKNOWN),
                b.op("HannWindow", List.of(size), Map.of("output_datatype", Attr.of(10L))).type());
        assertThrows(GaleException.class,
                () -> b.op("HannWindow", List.of(size), Map.of("output_datatype", Attr.of(8L))));
    }

    @Test
    void visionShapes() {
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 3, 32, 32);
        Value rois = b.input("rois", DType.FLOAT32, "r", 4);
        Value idx = b.input("idx", DType.INT64, "r");
        assertEquals(t(DType.FLOAT32, Dim.sym("r"), n(3), n(2), n(5)), b.op("RoiAlign", List.of(x, rois, idx),
                Map.of("output_height", Attr.of(2L), "output_width", Attr.of(5L))).type());
        Value grid = b.input("grid", DType.FLOAT32, "n", 7, 9, 2);
        assertEquals(t(DType.FLOAT32, Dim.sym("n"), n(3), n(7), n(9)), b.op("GridSample", List.of(x, grid), Map.of()).type());
    }

    @Test
    void adamOutputsFollowTheirInputs() {
        GraphBuilder b = Graph.builder();
        Value r = b.input("r", DType.FLOAT32), step = b.input("t", DType.INT64);
        Value x = b.input("x", DType.FLOAT32, 3), g = b.input("g", DType.FLOAT32, 3);
        Value v = b.input("v", DType.FLOAT32, 3), h = b.input("h", DType.FLOAT32, 3);
        List<Value> out = b.op(OpsetInfo.TRAINING_DOMAIN, "Adam", List.of(r, step, x, g, v, h), Map.of(), 3);
        for (Value o : out) assertEquals(t(DType.FLOAT32, n(3)), o.type());
        assertThrows(GaleException.class,
                () -> b.op(OpsetInfo.TRAINING_DOMAIN, "Adam", List.of(r, step, x, g, v, h), Map.of(), 2));
    }
}
