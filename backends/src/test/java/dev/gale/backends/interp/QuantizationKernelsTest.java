package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizationKernelsTest {
    private static final Tensor X = floats(s(7), 0.5, 1.5, 2.5, -0.5, -1.5, 300, -300);

    @Test
    void quantizeRoundsHalfToEvenAndSaturatesUint8ByDefault() {
        Tensor y = run1OnConstants("QuantizeLinear", Map.of(), X, Tensor.scalar(DType.FLOAT32, 1));
        assertEquals(DType.UINT8, y.dtype());
        assertLongs(new long[] {0, 2, 2, 0, 0, 255, 0}, y);
    }

    @Test
    void quantizeInt8TakesTheZeroPointType() {
        Tensor y = run1OnConstants("QuantizeLinear", Map.of(), X, Tensor.scalar(DType.FLOAT32, 1),
                Tensor.scalarLong(DType.INT8, 1));
        assertEquals(DType.INT8, y.dtype());
        assertLongs(new long[] {1, 3, 3, 1, -1, 127, -128}, y);
    }

    @Test
    void quantizePerAxisWithNegativeAxis() {
        Tensor x = floats(s(2, 3), 1, 2, 4, -1, -2, -4);
        Tensor y = run1OnConstants("QuantizeLinear", Map.of("axis", Attr.of(-1L)), x, floats(s(3), 1, 2, 4),
                of(DType.UINT8, s(3), 10, 20, 30));
        assertLongs(new long[] {11, 21, 31, 9, 19, 29}, y);
    }

    @Test
    void dequantizePerAxis() {
        Tensor x = of(DType.INT8, s(2, 2), -128, 127, 0, 5);
        Tensor y = run1OnConstants("DequantizeLinear", Map.of("axis", Attr.of(0L)), x, floats(s(2), 0.5, 2),
                of(DType.INT8, s(2), 0, 5));
        assertEquals(DType.FLOAT32, y.dtype());
        assertClose(new double[] {-64, 63.5, -10, 0}, y, 0);
    }

    @Test
    void perAxisScaleOfTheWrongLengthIsAnError() {
        assertThrows(GaleException.class, () -> run1OnConstants("QuantizeLinear", Map.of("axis", Attr.of(1L)),
                floats(s(2, 3), 1, 2, 3, 4, 5, 6), floats(s(2), 1, 1)));
    }

    @Test
    void dynamicQuantizeOfAllZerosHasScaleZero() {
        var r = runOnConstants("", "DynamicQuantizeLinear", Map.of(), 3, floats(s(3), 0, 0, 0));
        assertLongs(new long[] {0, 0, 0}, r.get(0));
        assertEquals(0.0, r.get(1).getDouble(0));
        assertEquals(0L, r.get(2).getLong(0));
    }

    @Test
    void matMulIntegerPerRowAndPerColumnZeroPoints() {
        Tensor a = of(DType.UINT8, s(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = of(DType.UINT8, s(3, 2), 7, 8, 9, 10, 11, 12);
        Tensor y = run1OnConstants("MatMulInteger", Map.of(), a, b, of(DType.UINT8, s(2), 1, 2),
                of(DType.UINT8, s(2), 3, 4));
        assertEquals(DType.INT32, y.dtype());
        assertLongs(new long[] {22, 22, 58, 58}, y);
    }

    @Test
    void matMulIntegerVectorOperandsDropTheUnitDimension() {
        Tensor a = of(DType.INT8, s(3), 1, -2, 3);
        Tensor b = of(DType.INT8, s(3), -4, 5, 6);
        Tensor y = run1OnConstants("MatMulInteger", Map.of(), a, b);
        assertEquals(0, y.rank());
        assertLongs(new long[] {-4 - 10 + 18}, y);
    }

    @Test
    void convIntegerGroupsStridesAndSameUpperPadding() {
        long[] xv = new long[50];
        for (int i = 0; i < 50; i++) xv[i] = i;
        Tensor x = of(DType.UINT8, s(1, 2, 5, 5), xv);
        Tensor w = of(DType.INT8, s(2, 1, 2, 2), 1, 0, 0, -1, 2, 1, 1, 0);
        Tensor y = run1OnConstants("ConvInteger", Map.of("group", Attr.of(2L), "strides", Attr.of(2L, 2L),
                "auto_pad", Attr.of("SAME_UPPER")), x, w);
        assertLongs(new long[] {-6, -6, 4, -6, -6, 14, 20, 22, 24, 106, 114, 92, 146, 154, 122, 136, 142, 98}, y);
    }

    @Test
    void convIntegerPadsWithTheZeroPoint() {
        Tensor x = of(DType.UINT8, s(1, 1, 3, 3), 2, 3, 4, 5, 6, 7, 8, 9, 10);
        Tensor w = of(DType.UINT8, s(1, 1, 2, 2), 1, 1, 1, 1);
        Tensor y = run1OnConstants("ConvInteger", Map.of("pads", Attr.of(1L, 1L, 1L, 1L)), x, w,
                Tensor.scalarLong(DType.UINT8, 1));
        assertLongs(new long[] {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}, y);
    }

    @Test
    void qLinearConvPerChannelScalesAndBias() {
        // 1x1 conv, two output channels: y = rint((x - 10) * w * xs * ws[m] / ys + bias term) + zp
        Tensor x = of(DType.UINT8, s(1, 1, 1, 2), 12, 20);
        Tensor w = of(DType.INT8, s(2, 1, 1, 1), 3, -1);
        Tensor y = run1OnConstants("QLinearConv", Map.of(), x, Tensor.scalar(DType.FLOAT32, 0.5),
                Tensor.scalarLong(DType.UINT8, 10), w, floats(s(2), 1, 2), of(DType.INT8, s(2), 0, 0),
                Tensor.scalar(DType.FLOAT32, 1), Tensor.scalarLong(DType.UINT8, 100),
                of(DType.INT32, s(2), 4, 0));
        // channel 0: (2*3 + 4) * 0.5 = 5, (10*3 + 4) * 0.5 = 17; channel 1: -2 * 1 = -2, -10 * 1 = -10
        assertLongs(new long[] {105, 117, 98, 90}, y);
    }

    @Test
    void qLinearMatMulSaturatesToTheOutputType() {
        Tensor a = of(DType.UINT8, s(1, 2), 255, 255);
        Tensor b = of(DType.UINT8, s(2, 1), 255, 255);
        Tensor one = Tensor.scalar(DType.FLOAT32, 1);
        Tensor y = run1OnConstants("QLinearMatMul", Map.of(), a, one, Tensor.scalarLong(DType.UINT8, 0), b, one,
                Tensor.scalarLong(DType.UINT8, 0), one, Tensor.scalarLong(DType.INT8, 0));
        assertEquals(DType.INT8, y.dtype());
        assertLongs(new long[] {127}, y);
    }

    @Test
    void convShapeMismatchIsReportedAtInference() {
        Tensor x = of(DType.UINT8, s(1, 3, 4, 4), new long[48]);
        Tensor w = of(DType.UINT8, s(1, 2, 1, 1), 1, 1);
        GaleException e = assertThrows(GaleException.class, () -> run1OnConstants("ConvInteger", Map.of(), x, w));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
    }
}
