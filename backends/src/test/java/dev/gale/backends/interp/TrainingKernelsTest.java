package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TrainingKernelsTest {
    private static final Tensor R = Tensor.scalar(DType.FLOAT32, 0.1);

    @Test
    void adamAppliesBiasCorrectionAfterTheFirstStep() {
        double alpha = 0.9, beta = 0.99, eps = 1e-6, x = 1, g = 0.5, v = 0.2, h = 0.3;
        var r = runOnConstants(OpsetInfo.TRAINING_DOMAIN, "Adam",
                Map.of("alpha", Attr.of((float) alpha), "beta", Attr.of((float) beta)), 3, R,
                Tensor.scalarLong(DType.INT64, 2), floats(s(1), x), floats(s(1), g), floats(s(1), v),
                floats(s(1), h));
        double vNew = (float) alpha * v + (1 - (float) alpha) * g, hNew = (float) beta * h + (1 - (float) beta) * g * g;
        double rate = 0.1 * Math.sqrt(1 - Math.pow((float) beta, 2)) / (1 - Math.pow((float) alpha, 2));
        assertClose(new double[] {x - rate * vNew / (Math.sqrt(hNew) + eps)}, r.get(0), 1e-6);
        assertClose(new double[] {vNew}, r.get(1), 1e-7);
        assertClose(new double[] {hNew}, r.get(2), 1e-7);
    }

    @Test
    void momentumGroupsOutputsByKindForSeveralTensors() {
        // n = 2: inputs R, T, X1, X2, G1, G2, V1, V2; outputs X1', X2', V1', V2'
        var r = runOnConstants(OpsetInfo.TRAINING_DOMAIN, "Momentum",
                Map.of("alpha", Attr.of(0.5f), "beta", Attr.of(0.25f), "mode", Attr.of("nesterov"),
                        "norm_coefficient", Attr.of(0f)), 4, R, Tensor.scalarLong(DType.INT64, 1),
                floats(s(1), 1), floats(s(2), 2, 3), floats(s(1), 4), floats(s(2), 8, 12),
                floats(s(1), 1), floats(s(2), 2, 4));
        // V' = 0.5 V + 0.25 G; X' = X - 0.1 (G + 0.5 V')
        assertClose(new double[] {1 - 0.1 * (4 + 0.5 * 1.5)}, r.get(0), 1e-6);
        assertClose(new double[] {2 - 0.1 * (8 + 0.5 * 3), 3 - 0.1 * (12 + 0.5 * 5)}, r.get(1), 1e-6);
        assertClose(new double[] {1.5}, r.get(2), 1e-7);
        assertClose(new double[] {3, 5}, r.get(3), 1e-7);
        assertEquals(r.get(1).type(), r.inferred().get(1));
        assertEquals(r.get(3).type(), r.inferred().get(3));
    }

    @Test
    void adagradDecaysTheRate() {
        var r = runOnConstants(OpsetInfo.TRAINING_DOMAIN, "Adagrad",
                Map.of("decay_factor", Attr.of(0.5f), "epsilon", Attr.of(0f)), 2, R, Tensor.scalarLong(DType.INT64, 2),
                floats(s(1), 1), floats(s(1), 3), floats(s(1), 16));
        // r = 0.1 / (1 + 2 * 0.5); H' = 16 + 9 = 25; X' = 1 - 0.05 * 3 / 5
        assertClose(new double[] {0.97}, r.get(0), 1e-7);
        assertClose(new double[] {25}, r.get(1), 0);
    }

    @Test
    void unevenGroupsAreAnError() {
        assertThrows(GaleException.class, () -> runOnConstants(OpsetInfo.TRAINING_DOMAIN, "Adagrad", Map.of(),
                2, R, Tensor.scalarLong(DType.INT64, 0), floats(s(1), 1), floats(s(1), 1)));
    }
}
