package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected values come from numpy.fft. */
class SignalKernelsTest {
    private static final Tensor SIGNAL = floats(s(1, 5, 1), 1, 2, 3, 4, 5);

    @Test
    void onesidedDftOfATruncatedSignal() {
        Tensor y = run1OnConstants("DFT", Map.of("onesided", Attr.of(1L)), SIGNAL, Tensor.scalarLong(DType.INT64, 4));
        assertArrayEquals(new long[] {1, 3, 2}, y.shape());
        assertClose(new double[] {10, 0, -2, 2, -2, 0}, y, 1e-5);
    }

    @Test
    void dftZeroPadsToDftLength() {
        Tensor y = run1OnConstants("DFT", Map.of(), SIGNAL, Tensor.scalarLong(DType.INT32, 8));
        assertClose(new double[] {15, 0, -5.41421356, -7.24264069, 3, 2, -2.58578644, -1.24264069, 3, 0,
                -2.58578644, 1.24264069, 3, -2, -5.41421356, 7.24264069}, y, 1e-5);
    }

    @Test
    void inverseDftOfComplexInputScalesByOneOverN() {
        Tensor z = floats(s(1, 3, 2), 1, 2, 3, -1, -2, 0.5);
        Tensor y = run1OnConstants("DFT", Map.of("inverse", Attr.of(1L)), z);
        assertClose(new double[] {0.66666667, 0.5, 0.59967937, 2.19337567, -0.26634604, -0.69337567}, y, 1e-6);
    }

    @Test
    void dftAlongAnInnerAxisWithNegativeAxis() {
        // shape [1, 2, 3, 1]: transform each column of length 2 (axis 1 == -3)
        Tensor x = floats(s(1, 2, 3, 1), 1, 2, 3, 10, 20, 30);
        Tensor y = run1OnConstants("DFT", Map.of("axis", Attr.of(-3L)), x);
        assertClose(new double[] {11, 0, 22, 0, 33, 0, -9, 0, -18, 0, -27, 0}, y, 1e-5);
    }

    @Test
    void dftRejectsAThirdTrailingComponent() {
        assertThrows(GaleException.class, () -> run1OnConstants("DFT", Map.of(), floats(s(1, 2, 3), 1, 2, 3, 4, 5, 6)));
    }

    @Test
    void stftWithWindowAndFrameLength() {
        double[] v = new double[10];
        for (int i = 0; i < 10; i++) v[i] = i;
        Tensor signal = floats(s(1, 10, 1), v);
        Tensor y = run1OnConstants("STFT", Map.of("onesided", Attr.of(0L)), signal, Tensor.scalarLong(DType.INT64, 3),
                floats(s(4), 0, 1, 1, 0.5), Tensor.scalarLong(DType.INT64, 4));
        assertArrayEquals(new long[] {1, 3, 4, 2}, y.shape());
        assertClose(new double[] {4.5, 0, -2, 0.5, -0.5, 0, -2, -0.5, 12, 0, -5, -1, -2, 0, -5, 1, 19.5, 0, -8, -2.5,
                -3.5, 0, -8, 2.5}, y, 1e-5);
    }

    @Test
    void periodicAndSymmetricHannWindows() {
        assertClose(new double[] {0, 0.5, 1, 0.5},
                run1OnConstants("HannWindow", Map.of(), Tensor.scalarLong(DType.INT64, 4)), 1e-7);
        Tensor sym = run1OnConstants("HannWindow", Map.of("periodic", Attr.of(0L), "output_datatype", Attr.of(11L)),
                Tensor.scalarLong(DType.INT32, 5));
        assertEquals(DType.FLOAT64, sym.dtype());
        assertClose(new double[] {0, 0.5, 1, 0.5, 0}, sym, 1e-12);
    }

    @Test
    void hammingAndBlackmanEndpoints() {
        Tensor h = run1OnConstants("HammingWindow", Map.of("periodic", Attr.of(0L)), Tensor.scalarLong(DType.INT64, 3));
        assertClose(new double[] {4.0 / 46, 1, 4.0 / 46}, h, 1e-7);
        Tensor b = run1OnConstants("BlackmanWindow", Map.of("periodic", Attr.of(0L)),
                Tensor.scalarLong(DType.INT64, 3));
        assertClose(new double[] {0, 1, 0}, b, 1e-7);
    }

    @Test
    void melWeightMatrixShapeAndPeaks() {
        Tensor m = run1OnConstants("MelWeightMatrix", Map.of(), Tensor.scalarLong(DType.INT32, 8),
                Tensor.scalarLong(DType.INT32, 16), Tensor.scalarLong(DType.INT32, 8192),
                Tensor.scalar(DType.FLOAT32, 0), Tensor.scalar(DType.FLOAT32, 4096));
        assertArrayEquals(new long[] {9, 8}, m.shape());
        double max = 0;
        for (double d : m.toDoubleArray()) max = Math.max(max, d);
        assertEquals(1.0, max);
    }
}
