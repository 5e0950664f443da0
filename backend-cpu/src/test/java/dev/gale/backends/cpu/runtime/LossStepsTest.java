package dev.gale.backends.cpu.runtime;

import dev.gale.ir.DType;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.text.TextParser;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Softmax cross-entropy over scores {@code (N, C)} with many classes, where the cpu backend works in vectors (row
 * max, float32 exponentials summed per 64 vectors, the rest in float64), against the loss and its gradient computed
 * here in float64 from the same float32 scores: within a few float32 roundings, not just the runtime tests' 1e-3. Class
 * counts cover a row of whole vectors, one with a tail, and rows longer than one 64-vector block of the sum.
 */
class LossStepsTest {
    /**
     * Relative error allowed in a probability: exp of a float32 difference x - lse (|x - lse| up to about 20 here, so
     * a few 1e-7 of rounding in the exponent), as PyTorch's float32 softmax has it too.
     */
    private static final double REL = 3e-6;

    private static final String GRAPH = """
            graph @wide(%x: tensor<[$N,$C],f32>, %t: tensor<[$N],i64>, %w: tensor<[$C],f32>) -> (%l: tensor<[],f32>, %lp: tensor<[$N,$C],f32>, %ls: tensor<[],f32>, %g: tensor<[$N,$C],f32>, %gw: tensor<[$N,$C],f32>) {
              %one = Constant() {value = tensor<[],f32> [1.0]}
              %l, %lp = SoftmaxCrossEntropyLoss(%x, %t)
              %ls = SoftmaxCrossEntropyLoss(%x, %t, %w) {ignore_index = 2, reduction = "sum"}
              %g = gale::SoftmaxCrossEntropyLossGrad(%one, %x, %t)
              %gw = gale::SoftmaxCrossEntropyLossGrad(%one, %x, %t, %w) {ignore_index = 2}
            }
            """;

    @Test
    void manyClassesMatchAFloat64Reference() {
        for (int classes : new int[] {16, 37, 1100}) check(7, classes, 3 + classes);
    }

    private static void check(int n, int classes, long seed) {
        Model model = TextParser.parse(GRAPH.replace("$N", "" + n).replace("$C", "" + classes), "wide");
        Random r = new Random(seed);
        Tensor x = Tensor.zeros(DType.FLOAT32, n, classes), t = Tensor.zeros(DType.INT64, n);
        Tensor w = Tensor.zeros(DType.FLOAT32, classes);
        for (int i = 0; i < x.numel(); i++) x.setDouble(i, 4 * r.nextGaussian()); // peaked rows: probabilities 1e-9..0.9
        for (int i = 0; i < n; i++) t.setLong(i, i == 3 ? 2 : r.nextInt(classes));
        for (int i = 0; i < classes; i++) w.setDouble(i, 0.5 + r.nextDouble());
        List<Object> out;
        try (var s = new CpuBackend().open(model)) {
            out = s.run(Map.of("x", x, "t", t, "w", w));
        }
        double loss = 0, lossW = 0, weights = 0;
        double[] lses = new double[n];
        String what = classes + " classes";
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int k = 0; k < classes; k++) max = Math.max(max, x.getDouble(i * classes + k));
            for (int k = 0; k < classes; k++) sum += Math.exp(x.getDouble(i * classes + k) - max);
            double lse = max + Math.log(sum);
            lses[i] = lse;
            int label = (int) t.getLong(i);
            loss -= x.getDouble(i * classes + label) - lse;
            if (label != 2) {
                lossW -= w.getDouble(label) * (x.getDouble(i * classes + label) - lse);
                weights += w.getDouble(label);
            }
            for (int k = 0; k < classes; k++) {
                int at = i * classes + k;
                double lp = x.getDouble(at) - lse, p = Math.exp(lp), hot = k == label ? 1 : 0;
                near(lp, ((Tensor) out.get(1)).getDouble(at), 2e-6 * Math.max(1, Math.abs(lp)), what + " log-prob " + at);
                near((p - hot) / n, ((Tensor) out.get(3)).getDouble(at), REL * Math.abs(p - hot) / n + 1e-12, what + " gradient " + at);
            }
        }
        near(loss / n, ((Tensor) out.get(0)).getDouble(0), 4e-7 * Math.abs(loss / n), what + " mean loss");
        near(lossW, ((Tensor) out.get(2)).getDouble(0), 4e-7 * Math.abs(lossW), what + " weighted sum");
        for (int i = 0; i < n; i++) {
            int label = (int) t.getLong(i);
            for (int k = 0; k < classes; k++) {
                int at = i * classes + k;
                double expected = 0;
                if (label != 2) {
                    double p = Math.exp(x.getDouble(at) - lses[i]);
                    expected = w.getDouble(label) * (p - (k == label ? 1 : 0)) / weights;
                }
                near(expected, ((Tensor) out.get(4)).getDouble(at), REL * Math.abs(expected) + 1e-12, what + " weighted gradient " + at);
            }
        }
        assertEquals(0.0, ((Tensor) out.get(4)).getDouble(3 * classes), what + ": the ignored row's gradient is 0");
    }

    private static void near(double expected, double actual, double tol, String what) {
        assertTrue(Math.abs(expected - actual) <= tol, what + ": expected " + expected + ", got " + actual);
    }
}
