package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.TensorSequence;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Sequence, text and random kernels against hand-computed values. */
class SequenceTextRandomKernelsTest {
    private static Object run1(GraphBuilder g, Map<String, Object> feeds) {
        return Interpreter.run(g.buildModel(), feeds).get(0);
    }

    @Test
    void splitToSequenceWithScalarSplitLeavesAShorterLastPiece() {
        GraphBuilder g = Graph.builder();
        Value x = g.input("x", DType.FLOAT32, 5, 2);
        Value seq = g.output(g.op("SplitToSequence", List.of(x, g.constant(Tensor.ofLongs(new long[0], 2))), Map.of()));
        assertEquals(new Type.SequenceType(Type.tensor(DType.FLOAT32, Shape.of(Dim.UNKNOWN, Dim.of(2)))), seq.type());
        TensorSequence s = (TensorSequence) run1(g, Map.of("x", Tensor.ofFloats(new long[] {5, 2}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)));
        assertEquals(3, s.tensors().size());
        assertArrayEquals(new long[] {1, 2}, s.tensors().get(2).shape());
        assertArrayEquals(new float[] {8, 9}, s.tensors().get(2).floats());
    }

    @Test
    void splitWithoutSplitThenStackRestoresTheInput() {
        GraphBuilder g = Graph.builder();
        Value x = g.input("x", DType.INT64, 2, 3);
        Value seq = g.op("SplitToSequence", List.of(x), Map.of("axis", Attr.of(-1L), "keepdims", Attr.of(0L)));
        assertEquals(new Type.SequenceType(Type.tensor(DType.INT64, 2)), seq.type());
        Value y = g.output(g.op("ConcatFromSequence", List.of(seq), Map.of("axis", Attr.of(1L), "new_axis", Attr.of(1L))));
        assertEquals(Type.tensor(DType.INT64, Shape.of(Dim.of(2), Dim.UNKNOWN)), y.type());
        Tensor in = Tensor.ofLongs(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
        Tensor out = (Tensor) run1(g, Map.of("x", in));
        assertArrayEquals(new long[] {2, 3}, out.shape());
        assertArrayEquals(in.longs(), out.longs());
    }

    @Test
    void concatFromSequenceJoinsAlongAnExistingAxis() {
        GraphBuilder g = Graph.builder();
        Value a = g.input("a", DType.FLOAT32, 2, 1), b = g.input("b", DType.FLOAT32, 2, 2);
        Value seq = g.op("SequenceConstruct", List.of(a, b), Map.of());
        g.output(g.op("ConcatFromSequence", List.of(seq), Map.of("axis", Attr.of(-1L))));
        Tensor out = (Tensor) run1(g, Map.of("a", Tensor.ofFloats(new long[] {2, 1}, 1, 2),
                "b", Tensor.ofFloats(new long[] {2, 2}, 3, 4, 5, 6)));
        assertArrayEquals(new long[] {2, 3}, out.shape());
        assertArrayEquals(new float[] {1, 3, 4, 2, 5, 6}, out.floats());
    }

    @Test
    void insertAndEraseCountNegativePositionsFromTheEnd() {
        GraphBuilder g = Graph.builder();
        Value a = g.input("a", DType.INT64), b = g.input("b", DType.INT64), c = g.input("c", DType.INT64);
        Value seq = g.op("SequenceConstruct", List.of(a, b), Map.of());
        // insert c before the last element: [a, c, b]; erase position -3 (a): [c, b]; at(-1) = b
        seq = g.op("SequenceInsert", List.of(seq, c, g.constant(Tensor.ofLongs(new long[0], -1))), Map.of());
        seq = g.op("SequenceErase", List.of(seq, g.constant(Tensor.ofLongs(new long[0], -3))), Map.of());
        g.output(g.op("SequenceAt", List.of(seq, g.constant(Tensor.ofLongs(new long[0], 0))), Map.of()));
        g.output(g.op("SequenceLength", List.of(seq), Map.of()));
        List<Object> out = Interpreter.run(g.buildModel(), Map.of("a", Tensor.ofLongs(new long[0], 1),
                "b", Tensor.ofLongs(new long[0], 2), "c", Tensor.ofLongs(new long[0], 3)));
        assertEquals(3, ((Tensor) out.get(0)).getLong(0));
        assertEquals(2, ((Tensor) out.get(1)).getLong(0));
    }

    @Test
    void positionOutOfRangeIsAClearError() {
        GraphBuilder g = Graph.builder();
        Value a = g.input("a", DType.INT64);
        Value seq = g.op("SequenceConstruct", List.of(a), Map.of());
        g.output(g.op("SequenceAt", List.of(seq, g.constant(Tensor.ofLongs(new long[0], 1))), Map.of()));
        GaleException e = assertThrows(GaleException.class,
                () -> Interpreter.run(g.buildModel(), Map.of("a", Tensor.ofLongs(new long[0], 1))));
        assertTrue(e.getMessage().contains("out of range [-1, 0]"), e.getMessage());
    }

    @Test
    void tfIdfCountsSkipGramsAndUnigramsOnce() {
        // The ONNX doc's example: [94, 17, 36, 12, 28] with skip up to 2 has bigrams (94,17) (17,36) (36,12)
        // (12,28) at skip 0, (94,36) (17,12) (36,28) at skip 1, (94,12) (17,28) at skip 2.
        GraphBuilder g = Graph.builder();
        Value x = g.input("x", DType.INT64, 5);
        g.output(g.op("TfIdfVectorizer", List.of(x), Map.of("min_gram_length", Attr.of(1L),
                "max_gram_length", Attr.of(2L), "max_skip_count", Attr.of(2L), "mode", Attr.of("TF"),
                "pool_int64s", Attr.of(new long[] {94, 28, 94, 12, 17, 28, 36, 99}),
                "ngram_counts", Attr.of(new long[] {0, 2}), "ngram_indexes", Attr.of(new long[] {0, 1, 2, 3, 4}))));
        Tensor y = (Tensor) run1(g, Map.of("x", Tensor.vector(94, 17, 36, 12, 28)));
        // unigrams 94 and 28 once each; bigrams (94,12) at skip 2, (17,28) at skip 2, (36,99) never
        assertArrayEquals(new float[] {1, 1, 1, 1, 0}, y.floats());
    }

    @Test
    void stringNormalizerDropsStopwordsCaseInsensitivelyThenUppercases() {
        GraphBuilder g = Graph.builder();
        Value x = g.input("x", DType.STRING, 1, 3);
        Value y = g.output(g.op("StringNormalizer", List.of(x), Map.of("case_change_action", Attr.of("UPPER"),
                "stopwords", new Attr.StringsAttr(List.of("monday")))));
        assertEquals(Type.tensor(DType.STRING, Shape.of(Dim.of(1), Dim.UNKNOWN)), y.type());
        Tensor out = (Tensor) run1(g, Map.of("x", Tensor.ofStrings(new long[] {1, 3}, "Monday", "tuesday", "Wed")));
        assertArrayEquals(new long[] {1, 2}, out.shape());
        assertEquals("TUESDAY", out.getString(0));
        Tensor none = (Tensor) run1(g, Map.of("x", Tensor.ofStrings(new long[] {1, 3}, "monday", "MONDAY", "Monday")));
        assertArrayEquals(new long[] {1, 1}, none.shape());
        assertEquals("", none.getString(0));
    }

    @Test
    void seededRandomNodesRepeatAndFollowTheirDistribution() {
        GraphBuilder g = Graph.builder();
        Value u = g.output(g.op("RandomUniform", List.of(), Map.of("shape", Attr.of(new long[] {100, 100}),
                "low", Attr.of(2f), "high", Attr.of(4f), "seed", Attr.of(3f), "dtype", Attr.of(11L))));
        assertEquals(Type.tensor(DType.FLOAT64, 100, 100), u.type());
        Model m = g.buildModel();
        Tensor a = (Tensor) Interpreter.run(m, Map.of()).get(0), b = (Tensor) Interpreter.run(m, Map.of()).get(0);
        assertArrayEquals(a.doubles(), b.doubles());
        double sum = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (double d : a.doubles()) {
            sum += d;
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        assertEquals(3.0, sum / a.numel(), 0.05);
        assertTrue(min >= 2 && max < 4);
    }

    @Test
    void bernoulliAndMultinomialFollowTheirProbabilities() {
        GraphBuilder g = Graph.builder();
        Value p = g.input("p", DType.FLOAT32, 10000);
        g.output(g.op("Bernoulli", List.of(p), Map.of("dtype", Attr.of(7L))));
        Value logits = g.input("logits", DType.FLOAT32, 1, 2);
        Value draws = g.output(g.op("Multinomial", List.of(logits), Map.of("sample_size", Attr.of(10000L))));
        assertEquals(Type.tensor(DType.INT32, 1, 10000), draws.type());
        float[] probs = new float[10000];
        java.util.Arrays.fill(probs, 0.25f);
        List<Object> out = Interpreter.run(g.buildModel(), Map.of("p", Tensor.ofFloats(new long[] {10000}, probs),
                // softmax([0, ln 3]) = [0.25, 0.75]
                "logits", Tensor.ofFloats(new long[] {1, 2}, 0f, (float) Math.log(3))));
        Tensor bits = (Tensor) out.get(0), classes = (Tensor) out.get(1);
        assertEquals(DType.INT64, bits.dtype());
        double ones = 0, picks = 0;
        for (int i = 0; i < 10000; i++) {
            ones += bits.getLong(i);
            picks += classes.getLong(i);
        }
        assertEquals(0.25, ones / 10000, 0.02);
        assertEquals(0.75, picks / 10000, 0.02);
    }
}
