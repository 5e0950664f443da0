package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tricky semantics of the reduction, softmax and loss kernels, against hand-computed (or numpy) values. */
class ReductionKernelsTest {
    @Test
    void int32SumWrapsLikeTheElementType() {
        Tensor x = Tensor.ofInts(s(2), Integer.MAX_VALUE, 1);
        Tensor y = run1("ReduceSum", attrs("keepdims", 0), x);
        assertEquals(DType.INT32, y.dtype());
        assertArrayEquals(new long[0], y.shape());
        assertEquals(Integer.MIN_VALUE, y.getLong(0));
    }

    @Test
    void uint64MaxComparesUnsigned() {
        Tensor x = new Tensor(DType.UINT64, s(3), new long[] {1, -1L, 7});
        assertEquals(-1L, run1("ReduceMax", attrs(), x).getLong(0));
        assertEquals(1L, run1("ReduceMin", attrs(), x).getLong(0));
    }

    @Test
    void integerMeanTruncatesTowardZero() {
        Tensor x = Tensor.ofLongs(s(2, 2), -3, -4, 3, 4);
        Tensor y = run1("ReduceMean", attrs("keepdims", 0), x, Tensor.vector(1));
        assertArrayEquals(new long[] {-3, 3}, y.toLongArray());
    }

    @Test
    void emptyReductionsGiveTheIdentity() {
        Tensor x = Tensor.zeros(DType.FLOAT32, 2, 0);
        Tensor axes = Tensor.vector(1);
        assertArrayEquals(new double[] {0, 0}, run1("ReduceSum", attrs("keepdims", 0), x, axes).toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, run1("ReduceProd", attrs("keepdims", 0), x, axes).toDoubleArray());
        assertEquals(Double.NEGATIVE_INFINITY, run1("ReduceMax", attrs(), x, axes).getDouble(0));
        assertEquals(Double.NEGATIVE_INFINITY, run1("ReduceLogSumExp", attrs(), x, axes).getDouble(0));
        assertEquals(Double.NEGATIVE_INFINITY, run1("ReduceLogSum", attrs(), x, axes).getDouble(0));
        assertEquals(0.0, run1("ReduceL2", attrs(), x, axes).getDouble(0));
        Tensor xi = Tensor.zeros(DType.INT32, 0, 3);
        Tensor min = run1("ReduceMin", attrs("keepdims", 1), xi, Tensor.vector(0));
        assertArrayEquals(new long[] {1, 3}, min.shape());
        assertEquals(Integer.MAX_VALUE, min.getLong(2));
    }

    @Test
    void emptyAxesReduceAllUnlessNoop() {
        Tensor x = f32(s(2, 2), 1, 2, 3, 4);
        Tensor none = Tensor.zeros(DType.INT64, 0);
        Tensor all = run1("ReduceSum", attrs(), x, none);
        assertArrayEquals(new long[] {1, 1}, all.shape());
        assertEquals(10.0, all.getDouble(0));
        assertArrayEquals(new long[0], run1("ReduceMean", attrs("keepdims", 0), x).shape());
        Tensor same = run1("ReduceSumSquare", attrs("noop_with_empty_axes", 1), x, none);
        assertArrayEquals(x.toDoubleArray(), same.toDoubleArray());
        assertArrayEquals(x.shape(), same.shape());
    }

    @Test
    void negativeAndMultipleAxes() {
        Tensor x = Tensor.ofLongs(s(2, 3, 2), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        Tensor y = run1("ReduceSum", attrs("keepdims", 0), x, Tensor.vector(-1, 0));
        assertArrayEquals(new long[] {3}, y.shape());
        assertArrayEquals(new long[] {1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12}, y.toLongArray());
        assertThrows(GaleException.class, () -> run1("ReduceSum", attrs(), x, Tensor.vector(1, -2)));
        assertThrows(GaleException.class, () -> run1("ReduceSum", attrs(), x, Tensor.vector(3)));
    }

    @Test
    void logSumExpIsStableForLargeInputs() {
        Tensor x = f32(s(2), 1000, 1000);
        assertEquals(1000 + Math.log(2), run1("ReduceLogSumExp", attrs(), x).getDouble(0), 1e-3);
    }

    @Test
    void argMaxTiesPickFirstOrLast() {
        Tensor x = f32(s(2, 3), 2, 5, 5, 1, 1, 0);
        assertArrayEquals(new long[] {1, 0}, run1("ArgMax", attrs("axis", 1, "keepdims", 0), x).toLongArray());
        assertArrayEquals(new long[] {2, 1},
                run1("ArgMax", attrs("axis", -1, "keepdims", 0, "select_last_index", 1), x).toLongArray());
        Tensor min = run1("ArgMin", attrs("axis", 1, "select_last_index", 1), x);
        assertArrayEquals(new long[] {2, 1}, min.shape());
        assertArrayEquals(new long[] {0, 2}, min.toLongArray());
    }

    @Test
    void topKTiesGoToTheLowerIndex() {
        Tensor x = Tensor.ofInts(s(5), 1, 3, 3, 2, 3);
        List<Object> out = run("TopK", attrs(), 2, x, Tensor.vector(2));
        assertArrayEquals(new long[] {3, 3}, ((Tensor) out.get(0)).toLongArray());
        assertEquals(DType.INT32, ((Tensor) out.get(0)).dtype());
        assertArrayEquals(new long[] {1, 2}, ((Tensor) out.get(1)).toLongArray());
        out = run("TopK", attrs("largest", 0), 2, x, Tensor.vector(3));
        assertArrayEquals(new long[] {1, 2, 3}, ((Tensor) out.get(0)).toLongArray());
        assertArrayEquals(new long[] {0, 3, 1}, ((Tensor) out.get(1)).toLongArray());
        assertThrows(GaleException.class, () -> run("TopK", attrs(), 2, x, Tensor.vector(6)));
    }

    @Test
    void topKAlongAnInnerAxis() {
        Tensor x = f32(s(3, 2), 1, 6, 5, 2, 3, 4);
        List<Object> out = run("TopK", attrs("axis", 0), 2, x, Tensor.vector(2));
        assertArrayEquals(new long[] {2, 2}, ((Tensor) out.get(0)).shape());
        assertArrayEquals(new double[] {5, 6, 3, 4}, ((Tensor) out.get(0)).toDoubleArray());
        assertArrayEquals(new long[] {1, 0, 2, 2}, ((Tensor) out.get(1)).toLongArray());
    }

    @Test
    void cumSumExclusiveReverse() {
        Tensor x = Tensor.ofLongs(s(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor axis = Tensor.scalarLong(DType.INT32, 1);
        assertArrayEquals(new long[] {1, 3, 6, 4, 9, 15}, run1("CumSum", attrs(), x, axis).toLongArray());
        assertArrayEquals(new long[] {5, 3, 0, 11, 6, 0},
                run1("CumSum", attrs("exclusive", 1, "reverse", 1), x, axis).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 1, 2, 3},
                run1("CumSum", attrs("exclusive", 1), x, Tensor.vector(-2)).toLongArray());
    }

    @Test
    void softmaxSubtractsTheMaximum() {
        Tensor x = f32(s(2, 2), 1000, 1000, 0, (float) Math.log(3));
        Tensor y = run1("Softmax", attrs(), x);
        assertArrayEquals(new double[] {0.5, 0.5, 0.25, 0.75}, y.toDoubleArray(), 1e-6);
        Tensor l = run1("LogSoftmax", attrs("axis", 0), x);
        assertEquals(0.0, l.getDouble(0), 1e-6);
        assertEquals(-1000.0, l.getDouble(2), 1e-3);
        Tensor h = run1("Hardmax", attrs("axis", 0), f32(s(2, 2), 3, 3, 3, 4));
        assertArrayEquals(new double[] {1, 0, 0, 1}, h.toDoubleArray());
    }

    @Test
    void nllLossWeightsAndIgnoredTargets() {
        // input (N=2, C=3, d=2) as log-probabilities; target (2, 2); class 1 ignored.
        Tensor input = f32(s(2, 3, 2), -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12);
        Tensor target = Tensor.ofLongs(s(2, 2), 0, 1, 2, 1);
        Tensor w = f32(s(3), 1, 10, 2);
        Tensor none = run1("NegativeLogLikelihoodLoss", attrs("reduction", "none", "ignore_index", 1), input, target, w);
        assertArrayEquals(new long[] {2, 2}, none.shape());
        // (n0, d0) class 0: 1*1; (n0, d1) ignored; (n1, d0) class 2: 2*11; (n1, d1) ignored.
        assertArrayEquals(new double[] {1, 0, 22, 0}, none.toDoubleArray(), 1e-6);
        Tensor mean = run1("NegativeLogLikelihoodLoss", attrs("ignore_index", 1), input, target, w);
        assertEquals(23.0 / 3.0, mean.getDouble(0), 1e-5);
        Tensor sum = run1("NegativeLogLikelihoodLoss", attrs("reduction", "sum"), input, target, null);
        assertEquals(1 + 4 + 11 + 10, sum.getDouble(0), 1e-5);
        Tensor bad = Tensor.ofLongs(s(2, 2), 0, 3, 0, 0);
        GaleException e = assertThrows(GaleException.class,
                () -> run1("NegativeLogLikelihoodLoss", attrs(), input, bad));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void softmaxCrossEntropyReturnsLogProb() {
        Tensor scores = f32(s(2, 2), 0, 0, 0, (float) Math.log(3));
        Tensor labels = Tensor.ofInts(s(2), 1, 1);
        List<Object> out = run("SoftmaxCrossEntropyLoss", attrs(), 2, scores, labels);
        assertEquals(-(Math.log(0.5) + Math.log(0.75)) / 2, ((Tensor) out.get(0)).getDouble(0), 1e-6);
        assertArrayEquals(new double[] {Math.log(0.5), Math.log(0.5), Math.log(0.25), Math.log(0.75)},
                ((Tensor) out.get(1)).toDoubleArray(), 1e-6);
    }
}
