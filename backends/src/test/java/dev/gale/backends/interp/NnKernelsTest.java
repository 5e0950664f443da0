package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.gale.backends.interp.OpHarness.Result;
import static dev.gale.backends.interp.OpHarness.s;
import static org.junit.jupiter.api.Assertions.*;

/**
 * NN ops end to end: each case builds a one-node graph (so type inference runs), interprets it and compares shapes
 * and values with numpy-computed results. Inputs follow {@code ((i * mul) % mod - off) * scale}, the formula the
 * numpy script used.
 */
class NnKernelsTest {
    static Tensor seq(long[] shape, int mul, int mod, int off, double scale) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, ((long) i * mul % mod - off) * scale);
        return t;
    }

    /** Runs the node with fed inputs and holds inference to the types of the outputs the kernel produced. */
    static Result run(String op, Map<String, Attr> attrs, int numOutputs, Tensor... inputs) {
        return OpHarness.run("", op, attrs, numOutputs, inputs).assertInferredExactly(op);
    }

    static void assertValues(Tensor t, double... expected) {
        assertEquals(expected.length, t.numel(), "element count");
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], t.getDouble(i), 1e-5 * Math.max(1, Math.abs(expected[i])), "element " + i);
    }

    static Type inferOne(String op, Map<String, Attr> attrs, Object[]... inputDims) {
        GraphBuilder g = Graph.builder("t");
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < inputDims.length; i++) in.add(g.input("in" + i, DType.FLOAT32, inputDims[i]));
        return g.op("", op, in, attrs, 1).get(0).type();
    }

    // ---- MatMul / Gemm

    @Test
    void matMulVectorTimesBatchedMatrix() {
        Tensor a = Tensor.ofFloats(s(3), 1, 2, 3);
        Tensor b = seq(s(2, 3, 2), 1, 100, 0, 1);
        Result r = run("MatMul", Map.of(), 1, a, b);
        assertArrayEquals(s(2, 2), r.get(0).shape());
        // [1 2 3] x [[0 1][2 3][4 5]] = [16 22]; x [[6 7][8 9][10 11]] = [52 58]
        assertValues(r.get(0), 16, 22, 52, 58);
    }

    @Test
    void matMulInt64IsExactAndWraps() {
        Tensor a = Tensor.ofLongs(s(1, 2), 1L << 62, 3);
        Tensor b = Tensor.ofLongs(s(2, 1), 4, (1L << 53) + 1);
        Result r = run("MatMul", Map.of(), 1, a, b);
        // 2^62 * 4 wraps to 0; the rest is exact beyond float64's 53 bits.
        assertEquals(3 * ((1L << 53) + 1), r.get(0).getLong(0));
    }

    @Test
    void matMulBroadcastsBatchDimensionsWithSymbols() {
        Type t = inferOne("MatMul", Map.of(), new Object[] {"B", 1, 4, 5}, new Object[] {7, 5, "K"});
        assertEquals(Type.tensor(DType.FLOAT32, new Shape(List.of(dev.gale.ir.Dim.sym("B"),
                dev.gale.ir.Dim.of(7), dev.gale.ir.Dim.of(4), dev.gale.ir.Dim.sym("K")))), t);
        GaleException e = assertThrows(GaleException.class,
                () -> inferOne("MatMul", Map.of(), new Object[] {2, 3}, new Object[] {4, 2}));
        assertTrue(e.getMessage().contains("inner dimensions"), e.getMessage());
    }

    @Test
    void gemmTransposesScalesAndBroadcastsC() {
        Tensor a = Tensor.ofFloats(s(3, 2), 1, 2, 3, 4, 5, 6);      // A' = [[1 3 5][2 4 6]]
        Tensor b = Tensor.ofFloats(s(2, 3), 1, 0, -1, 2, 1, 0);     // B' = [[1 2][0 1][-1 0]]
        Tensor c = Tensor.ofFloats(s(2), 10, 20);
        Result r = run("Gemm", Map.of("transA", Attr.of(1L), "transB", Attr.of(1L), "alpha", Attr.of(0.5f),
                "beta", Attr.of(2f)), 1, a, b, c);
        // A'B' = [[-4 5][-4 8]]; 0.5 * that + 2 * [10 20]
        assertArrayEquals(s(2, 2), r.get(0).shape());
        assertValues(r.get(0), 18, 42.5, 18, 44);
    }

    // ---- Conv / ConvTranspose

    @Test
    void convWithGroupsStridesDilationsAndAsymmetricPads() {
        Tensor x = seq(s(1, 4, 5, 6), 7, 11, 5, 0.5), w = seq(s(6, 2, 3, 2), 5, 7, 3, 1);
        Tensor b = Tensor.ofFloats(s(6), 0.5f, -1, 2, 0, 1, -0.5f);
        Result r = run("Conv", Map.of("group", Attr.of(2L), "strides", Attr.of(2L, 1L), "dilations", Attr.of(1L, 2L),
                "pads", Attr.of(1L, 0L, 2L, 1L)), 1, x, w, b);
        assertArrayEquals(s(1, 6, 3, 5), r.get(0).shape());
        assertValues(r.get(0), -7, 5, -5, -9.5, 1, -3, -8.5, -3, -3, -3.5, -5, 5, -7, -2.5, 15, 17, 5, -1.5, 3, -3.5,
                15, 0.5, -3, -1, 0, 2.5, -12, 1, 3, -18, -14, -1, 6.5, -8, 7, -8, 7, -5.5, -1.5, 8, 0.5, 0, -0.5, -1,
                16.5, -6, -6.5, -1.5, -2, 0.5, -6.5, -9, -0.5, 8, -5.5, -7, 4, 4, 4, 5, 5, 5, 5, -6, -3, 9, 0.5, -8,
                -5.5, 3.5, -1, -0.5, -5.5, -5, 2.5, -0.5, 0, -5, 12, -2, -6, -10, 13.5, 20.5, -0.5, -11.5, 3, 17.5,
                4.5, -2.5);
    }

    @Test
    void convSameLowerKeepsSymbolicBatch() {
        Type t = inferOne("Conv", Map.of("auto_pad", Attr.of("SAME_LOWER"), "strides", Attr.of(2L, 3L)),
                new Object[] {"N", 3, 11, 10}, new Object[] {8, 3, 3, 3});
        assertEquals("tensor<[N,8,6,4],f32>", t.toString());
        GaleException e = assertThrows(GaleException.class, () -> inferOne("Conv", Map.of(),
                new Object[] {1, 4, 5, 5}, new Object[] {8, 3, 3, 3}));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
    }

    @Test
    void convTransposeWithGroupsAndLargerOutputShape() {
        Tensor x = seq(s(1, 2, 3, 3), 3, 5, 2, 1), w = seq(s(2, 1, 2, 2), 2, 5, 1, 1);
        Result r = run("ConvTranspose", Map.of("group", Attr.of(2L), "strides", Attr.of(2L, 2L),
                "output_shape", Attr.of(7L, 7L)), 1, x, w);
        assertArrayEquals(s(1, 2, 7, 7), r.get(0).shape());
        assertValues(r.get(0), 2, -2, -1, 1, 1, -1, 0, -6, 0, 3, 0, -3, 0, 0, -2, 2, 0, 0, 2, -2, 0, 6, 0, 0, 0, -6, 0, 0,
                -1, 1, 1, -1, -2, 2, 0, 3, 0, -3, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -4, 2, 2, -1, 0, 0, 0, -2, -6, 1,
                3, 0, -2, 1, 4, -2, 0, 0, 0, -1, -3, 2, 6, 0, 0, 0, -4, 2, 2, -1, -2, 1, 0, -2, -6, 1, 3, -1, -3, 0, 0,
                0, 0, 0, 0, 0, 0);
    }

    // ---- pooling

    @Test
    void ceilModeDropsAWindowThatStartsInTheEndPadding() {
        Tensor x = Tensor.ofFloats(s(1, 1, 5), 1, 5, 2, 4, 3);
        Result r = run("MaxPool", Map.of("kernel_shape", Attr.of(2L), "strides", Attr.of(2L), "pads", Attr.of(1L, 1L),
                "ceil_mode", Attr.of(1L)), 2, x);
        // windows [pad,1] [5,2] [4,3]; a fourth would start at the end pad
        assertArrayEquals(s(1, 1, 3), r.get(0).shape());
        assertValues(r.get(0), 1, 5, 4);
        assertValues(r.get(1), 0, 1, 3);
    }

    @Test
    void maxPoolIndicesInColumnMajorOrder() {
        Tensor x = seq(s(2, 1, 2, 3), 5, 7, 0, 1);   // plane 0: [[0 5 3][1 6 4]], plane 1: [[2 0 5][3 1 6]]
        Result r = run("MaxPool", Map.of("kernel_shape", Attr.of(2L, 2L), "storage_order", Attr.of(1L)), 2, x);
        assertValues(r.get(0), 6, 6, 3, 6);
        // (h, w) -> w * H + h, plus the plane offset 6
        assertValues(r.get(1), 3, 3, 6 + 1, 6 + 5);
    }

    @Test
    void averagePoolCountIncludePadIgnoresCeilOverhang() {
        Tensor x = Tensor.ofFloats(s(1, 1, 5), 1, 2, 3, 4, 5);
        Result r = run("AveragePool", Map.of("kernel_shape", Attr.of(3L), "strides", Attr.of(2L),
                "pads", Attr.of(1L, 0L), "ceil_mode", Attr.of(1L), "count_include_pad", Attr.of(1L)), 1, x);
        // windows [pad 1 2] -> 3/3, [2 3 4] -> 9/3, [4 5 past-the-padding] -> 9/2
        assertValues(r.get(0), 1, 3, 4.5);
    }

    @Test
    void maxUnpoolInvertsMaxPool() {
        Tensor x = Tensor.ofFloats(s(1, 1, 2, 2), 5, 6, 7, 8);
        Tensor i = Tensor.ofLongs(s(1, 1, 2, 2), 0, 3, 9, 14);
        Result r = run("MaxUnpool", Map.of("kernel_shape", Attr.of(2L, 2L), "strides", Attr.of(2L, 2L)), 1, x, i);
        assertValues(r.get(0), 5, 0, 0, 6, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 8, 0);
    }

    // ---- normalization

    @Test
    void layerNormalizationStatisticsOutputs() {
        Tensor x = Tensor.ofFloats(s(2, 1, 3), 1, 2, 3, 2, 2, 8);
        Tensor scale = Tensor.ofFloats(s(3), 1, 2, 1), bias = Tensor.ofFloats(s(1), 1);
        Result r = run("LayerNormalization", Map.of("axis", Attr.of(-2L), "epsilon", Attr.of(0f)), 3, x, scale, bias);
        assertEquals("tensor<[2,1,1],f32>", r.inferred().get(1).toString());
        double inv0 = 1 / Math.sqrt(2.0 / 3), inv1 = 1 / Math.sqrt(8.0);
        assertValues(r.get(0), 1 - inv0, 1, 1 + inv0, 1 - 2 * inv1 * 1, 1 - 2 * 2 * inv1, 1 + 4 * inv1);
        assertValues(r.get(1), 2, 4);
        assertValues(r.get(2), inv0, inv1);
    }

    @Test
    void batchNormTrainingUpdatesRunningStatistics() {
        Tensor x = Tensor.ofFloats(s(2, 1, 2), 1, 3, 5, 7);
        Tensor one = Tensor.ofFloats(s(1), 1), zero = Tensor.ofFloats(s(1), 0);
        Result r = run("BatchNormalization", Map.of("training_mode", Attr.of(1L), "epsilon", Attr.of(0f),
                "momentum", Attr.of(0.75f)), 3, x, one, zero, zero, one);
        double sd = Math.sqrt(5);
        assertValues(r.get(0), -3 / sd, -1 / sd, 1 / sd, 3 / sd);
        assertValues(r.get(1), 0.25 * 4);
        assertValues(r.get(2), 0.75 + 0.25 * 5);
    }

    @Test
    void groupNormalizationPerGroupScale() {
        Tensor x = Tensor.ofFloats(s(1, 4, 1), 1, 3, 10, 30);
        Tensor scale = Tensor.ofFloats(s(2), 1, 2), bias = Tensor.ofFloats(s(2), 0, 1);
        Result r = run("GroupNormalization", Map.of("num_groups", Attr.of(2L), "epsilon", Attr.of(0f)), 1, x, scale,
                bias);
        assertValues(r.get(0), -1, 1, -1, 3);
    }

    // ---- Einsum, Det, Dropout

    @Test
    void einsumBroadcastsEllipsisAndTakesDiagonals() {
        Tensor a = seq(s(1, 2, 3), 1, 7, 3, 1), b = seq(s(4, 3, 3), 2, 9, 4, 1);
        Result r = run("Einsum", Map.of("equation", Attr.of("...ij,...jk")), 1, a, b);
        assertArrayEquals(s(4, 2, 3), r.get(0).shape());
        assertValues(r.get(0), 9, -3, 3, 0, 6, 3, 9, -3, 3, 0, 6, 3, 9, -3, 3, 0, 6, 3, 9, -3, 3, 0, 6, 3);
        Result d = run("Einsum", Map.of("equation", Attr.of("bii->bi")), 1, b);
        assertValues(d.get(0), -4, 4, 3, -4, 4, 3, -4, 4, 3, -4, 4, 3);
        // implicit output: labels seen once, in order: "ba,ac" -> "bc"
        Result m = run("Einsum", Map.of("equation", Attr.of("ba,ac")), 1, seq(s(2, 3), 1, 5, 2, 1),
                seq(s(3, 2), 2, 5, 2, 1));
        assertValues(m.get(0), 2, 1, 0, 2);
    }

    @Test
    void detOfBatchIncludingSingular() {
        Tensor x = Tensor.ofFloats(s(2, 3, 3), 2, 1, 3, 0, -1, 4, 5, 2, 1, 1, 2, 3, 2, 4, 6, 0, 1, 1);
        Result r = run("Det", Map.of(), 1, x);
        assertArrayEquals(s(2), r.get(0).shape());
        assertValues(r.get(0), 17, 0);
    }

    @Test
    void dropoutWithSeedMatchesNumpyAndIsIdentityInInference() {
        Tensor x = Tensor.ofFloats(s(6), 1, 2, 3, 4, 5, 6);
        Tensor ratio = Tensor.scalar(DType.FLOAT32, 0.6), train = Tensor.ofBools(s(), true);
        Result r = run("Dropout", Map.of("seed", Attr.of(0L)), 2, x, ratio, train);
        // np.random.seed(0); np.random.uniform(0, 1, 6) = [.549 .715 .603 .545 .424 .646]
        assertValues(r.get(0), 0, 5, 7.5, 0, 0, 15);
        assertValues(r.get(1), 0, 1, 1, 0, 0, 1);
        Result inference = run("Dropout", Map.of(), 2, x, ratio);
        assertValues(inference.get(0), 1, 2, 3, 4, 5, 6);
        assertValues(inference.get(1), 1, 1, 1, 1, 1, 1);
    }

    // ---- recurrent

    @Test
    void gruLinearBeforeResetSingleUnit() {
        // hidden 1, input 1, one step: z = sigmoid(wz x + rz h0), r = sigmoid(wr x + rr h0),
        // h~ = tanh(wh x + r * (rh h0 + rbh)), h1 = (1 - z) h~ + z h0
        Tensor x = Tensor.ofFloats(s(1, 1, 1), 0.5f);
        Tensor w = Tensor.ofFloats(s(1, 3, 1), 1, -1, 2), r = Tensor.ofFloats(s(1, 3, 1), 0.5f, 1, -1);
        Tensor b = Tensor.ofFloats(s(1, 6), 0, 0, 0, 0, 0, 0.25f), h0 = Tensor.ofFloats(s(1, 1, 1), 0.3f);
        Result res = run("GRU", Map.of("hidden_size", Attr.of(1L), "linear_before_reset", Attr.of(1L)), 2, x, w, r, b,
                null, h0);
        double z = 1 / (1 + Math.exp(-(0.5 + 0.15))), rr = 1 / (1 + Math.exp(-(-0.5 + 0.3)));
        double cand = Math.tanh(1.0 + rr * (-0.3 + 0.25)), h1 = (1 - z) * cand + z * 0.3;
        assertValues(res.get(0), h1);
        assertValues(res.get(1), h1);
    }

    @Test
    void lstmBatchFirstLayoutAgreesWithSequenceFirst() {
        int seq = 3, batch = 2, in = 2, h = 2;
        Tensor x = seq(s(seq, batch, in), 3, 7, 3, 0.25);
        Tensor w = seq(s(2, 4 * h, in), 5, 9, 4, 0.1), r = seq(s(2, 4 * h, h), 7, 11, 5, 0.1);
        Tensor b = seq(s(2, 8 * h), 3, 5, 2, 0.1), p = seq(s(2, 3 * h), 1, 3, 1, 0.2);
        Tensor lens = Tensor.ofInts(s(batch), 3, 2);
        Map<String, Attr> attrs = Map.of("direction", Attr.of("bidirectional"), "hidden_size", Attr.of((long) h));
        Result a = run("LSTM", attrs, 3, x, w, r, b, lens, null, null, p);
        Tensor xb = Tensor.zeros(DType.FLOAT32, batch, seq, in);
        for (int t = 0; t < seq; t++)
            for (int n = 0; n < batch; n++)
                for (int k = 0; k < in; k++) xb.setDouble((n * seq + t) * in + k, x.getDouble((t * batch + n) * in + k));
        Map<String, Attr> batchFirst = new HashMap<>(attrs);
        batchFirst.put("layout", Attr.of(1L));
        Result bf = run("LSTM", batchFirst, 3, xb, w, r, b, lens, null, null, p);
        assertArrayEquals(s(batch, seq, 2, h), bf.get(0).shape());
        for (int t = 0; t < seq; t++)
            for (int d = 0; d < 2; d++)
                for (int n = 0; n < batch; n++)
                    for (int k = 0; k < h; k++)
                        assertEquals(a.get(0).getDouble(((t * 2 + d) * batch + n) * h + k),
                                bf.get(0).getDouble(((n * seq + t) * 2 + d) * h + k), 1e-6);
        // Past the second sequence's end Y is zero, and its Y_h is the state at its last valid step.
        for (int d = 0; d < 2; d++)
            for (int k = 0; k < h; k++) assertEquals(0, a.get(0).getDouble(((2 * 2 + d) * batch + 1) * h + k));
        for (int k = 0; k < h; k++) {
            assertEquals(a.get(0).getDouble(((1 * 2) * batch + 1) * h + k), a.get(1).getDouble(batch * 0 + h + k), 1e-7);
            assertEquals(a.get(0).getDouble(((0 * 2 + 1) * batch + 1) * h + k), a.get(1).getDouble((batch + 1) * h + k),
                    1e-7);
        }
    }
}
