package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.backends.interp.OpHarness.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gale-domain loss gradients (SoftmaxCrossEntropyLossGrad, NegativeLogLikelihoodLossGrad) on hand-computed cases. */
class LossGradKernelsTest {
    private static Tensor run(String op, Map<String, Attr> attrs, Tensor... inputs) {
        return OpHarness.run(GaleOps.DOMAIN, op, attrs, 1, inputs).get(0);
    }

    @Test
    void crossEntropyGradientIsSoftmaxMinusOneHot() {
        // Scores (2, 2): row 0 has softmax (1/2, 1/2), row 1 (1/4, 3/4); both labels 1; mean over 2 with dloss = 2.
        Tensor scores = Tensor.ofFloats(s(2, 2), 0, 0, 0, (float) Math.log(3));
        Tensor labels = Tensor.ofLongs(s(2), 1, 1);
        Tensor g = run("SoftmaxCrossEntropyLossGrad", Map.of(), Tensor.scalar(DType.FLOAT32, 2), scores, labels);
        assertEquals(DType.FLOAT32, g.dtype());
        assertArrayEquals(new double[] {0.5, -0.5, 0.25, -0.25}, g.toDoubleArray(), 1e-6);
    }

    @Test
    void weightsAndIgnoredTargetsInTheMean() {
        // NLL of (3, 2) with weights (1, 3): targets 1, 0, ignored; mean divides by 3 + 1.
        Tensor input = Tensor.ofDoubles(s(3, 2), 0, 0, 0, 0, 0, 0);
        Tensor target = Tensor.ofLongs(s(3), 1, 0, -5);
        Tensor w = Tensor.ofDoubles(s(2), 1, 3);
        Tensor g = run("NegativeLogLikelihoodLossGrad", Map.of("ignore_index", Attr.of(-5L)),
                Tensor.scalar(DType.FLOAT64, 1), input, target, w);
        assertArrayEquals(new double[] {0, -0.75, -0.25, 0, 0, 0}, g.toDoubleArray(), 1e-12);
        Tensor none = run("NegativeLogLikelihoodLossGrad", Map.of("reduction", Attr.of("none"),
                "ignore_index", Attr.of(-5L)), Tensor.ofDoubles(s(3), 2, 5, 7), input, target, w);
        assertArrayEquals(new double[] {0, -6, -5, 0, 0, 0}, none.toDoubleArray(), 1e-12);
    }

    @Test
    void badGradientShapesAreErrors() {
        Tensor input = Tensor.ofDoubles(s(2, 2), 0, 0, 0, 0);
        Tensor target = Tensor.ofLongs(s(2), 1, 0);
        GaleException e = assertThrows(GaleException.class, () -> run("NegativeLogLikelihoodLossGrad",
                Map.of("reduction", Attr.of("none")), Tensor.scalar(DType.FLOAT64, 1), input, target));
        assertTrue(e.getMessage().contains("target's shape"), e.getMessage());
        assertThrows(GaleException.class, () -> run("SoftmaxCrossEntropyLossGrad", Map.of(),
                Tensor.scalar(DType.FLOAT64, 1), input, Tensor.ofLongs(s(2), 0, 2)));
    }
}
