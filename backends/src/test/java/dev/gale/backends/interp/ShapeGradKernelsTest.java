package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.backends.interp.OpHarness.floats;
import static dev.gale.backends.interp.OpHarness.run1OnConstants;
import static dev.gale.backends.interp.OpHarness.values;
import static org.junit.jupiter.api.Assertions.*;

/** The shape family's gale backward kernels (SliceGrad, GatherGrad, PadGrad) on hand-computed float32 cases. */
class ShapeGradKernelsTest {
    private static Tensor run(String op, Map<String, Attr> attrs, Tensor... in) {
        return run1OnConstants(GaleOps.DOMAIN, op, attrs, in);
    }

    @Test
    void sliceGradWritesBackThroughANegativeStep() {
        // x[:, -1:-100:-2] of a [2, 4] x reads columns 3 and 1.
        Tensor dy = floats(new long[] {2, 2}, 1, 2, 3, 4);
        Tensor dx = run("SliceGrad", Map.of(), dy, Tensor.vector(2, 4), Tensor.vector(-1), Tensor.vector(-100),
                Tensor.vector(1), Tensor.vector(-2));
        assertEquals(DType.FLOAT32, dx.dtype());
        assertArrayEquals(new double[] {0, 2, 0, 1, 0, 4, 0, 3}, values(dx));
    }

    @Test
    void sliceGradWithoutAxesClampsBounds() {
        Tensor dy = floats(new long[] {1, 3}, 5, 6, 7);
        Tensor dx = run("SliceGrad", Map.of(), dy, Tensor.vector(3, 3), Tensor.vector(2, -10), Tensor.vector(9, 10));
        assertArrayEquals(new double[] {0, 0, 0, 0, 0, 0, 5, 6, 7}, values(dx));
    }

    @Test
    void gatherGradSumsRepeatedAndNegativeIndices() {
        Tensor dy = floats(new long[] {4, 2}, 1, 2, 3, 4, 5, 6, 7, 8);
        Tensor dx = run("GatherGrad", Map.of(), dy, Tensor.vector(3, 2), Tensor.vector(0, 2, 0, -1));
        assertArrayEquals(new double[] {1 + 5, 2 + 6, 0, 0, 3 + 7, 4 + 8}, values(dx));
    }

    @Test
    void gatherGradAlongAxis1WithMatrixIndices() {
        // data [2, 3], indices [[2, 2]] on axis 1: y is [2, 1, 2], both picks land on column 2.
        Tensor dy = floats(new long[] {2, 1, 2}, 1, 2, 3, 4);
        Tensor idx = Tensor.ofInts(new long[] {1, 2}, 2, 2);
        Tensor dx = run("GatherGrad", Map.of("axis", Attr.of(1L)), dy, Tensor.vector(2, 3), idx);
        assertArrayEquals(new double[] {0, 0, 3, 0, 0, 7}, values(dx));
    }

    @Test
    void gatherGradAccumulatesFloat32InDouble() {
        // 1e8 + 16 ones: float32 addition in order would stay at 1e8 (its spacing there is 8).
        float[] v = new float[17];
        java.util.Arrays.fill(v, 1f);
        v[0] = 1e8f;
        Tensor dx = run("GatherGrad", Map.of(), Tensor.ofFloats(new long[] {17}, v), Tensor.vector(1),
                Tensor.vector(new long[17]));
        assertEquals(100000016.0, dx.getDouble(0));
    }

    @Test
    void padGradSumsWhatEachModeRead() {
        Tensor dy = floats(new long[] {7}, 1, 2, 3, 4, 5, 6, 7);
        Tensor shape = Tensor.vector(3), pads = Tensor.vector(2, 2);
        // reflect reads x2 x1 x0 x1 x2 x1 x0; edge x0 x0 x0 x1 x2 x2 x2; wrap x1 x2 x0 x1 x2 x0 x1; constant _ _ x0 x1 x2 _ _
        assertArrayEquals(new double[] {3 + 7, 2 + 4 + 6, 1 + 5},
                values(run("PadGrad", Map.of("mode", Attr.of("reflect")), dy, shape, pads)));
        assertArrayEquals(new double[] {1 + 2 + 3, 4, 5 + 6 + 7},
                values(run("PadGrad", Map.of("mode", Attr.of("edge")), dy, shape, pads)));
        assertArrayEquals(new double[] {3 + 6, 1 + 4 + 7, 2 + 5},
                values(run("PadGrad", Map.of("mode", Attr.of("wrap")), dy, shape, pads)));
        assertArrayEquals(new double[] {3, 4, 5}, values(run("PadGrad", Map.of(), dy, shape, pads)));
    }

    @Test
    void padGradWithAxesAndACrop() {
        // x [2, 3], axes [-1], pads [-1, 1] in edge mode: y[:, j] reads x[:, min(j + 1, 2)].
        Tensor dy = floats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
        Tensor dx = run("PadGrad", Map.of("mode", Attr.of("edge")), dy, Tensor.vector(2, 3), Tensor.vector(-1, 1),
                Tensor.vector(-1));
        assertArrayEquals(new double[] {0, 1, 2 + 3, 0, 4, 5 + 6}, values(dx));
    }

    @Test
    void badInputsAreErrorsNamingTheProblem() {
        Tensor dy = floats(new long[] {2}, 1, 2);
        GaleException e = assertThrows(GaleException.class,
                () -> run("GatherGrad", Map.of(), dy, Tensor.vector(3), Tensor.vector(0, 3)));
        assertTrue(e.getMessage().contains("index 3 is out of range"), e.getMessage());
        e = assertThrows(GaleException.class, () -> run("SliceGrad", Map.of(), dy, Tensor.vector(4), Tensor.vector(0),
                Tensor.vector(3)));
        assertTrue(e.getMessage().contains("incoming gradient has shape [2], the forward output [3]"), e.getMessage());
        e = assertThrows(GaleException.class, () -> run("PadGrad", Map.of(), Tensor.vector(1, 2), Tensor.vector(1),
                Tensor.vector(1, 0)));
        assertTrue(e.getMessage().contains("must be floating-point"), e.getMessage());
        e = assertThrows(GaleException.class, () -> run("PadGrad", Map.of("mode", Attr.of("mirror")), dy,
                Tensor.vector(1), Tensor.vector(1, 0)));
        assertTrue(e.getMessage().contains("unknown mode 'mirror'"), e.getMessage());
    }
}
