package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused ops of pattern fusion against the ONNX ops they replace: FusedMatMul, FusedGemm and FusedConv give the
 * unfused results bit for bit; Attention (float64 throughout, rounded once) agrees to float32 precision, with
 * broadcast batch dims and masks and both key layouts.
 */
class FusedKernelsTest {
    private static final Random RNG = new Random(7);

    private static Tensor random(long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, RNG.nextGaussian());
        return t;
    }

    /** Builds a graph over inputs shaped like {@code inputs} with {@code body}, runs it, returns its one output. */
    private static Tensor run(List<Tensor> inputs, BiFunction<GraphBuilder, List<Value>, Value> body) {
        GraphBuilder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        Map<String, Object> feeds = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Object[] dims = new Object[inputs.get(i).rank()];
            for (int k = 0; k < dims.length; k++) dims[k] = inputs.get(i).dim(k);
            Value v = b.input("in" + i, inputs.get(i).dtype(), dims);
            in.add(v);
            feeds.put(v.name(), inputs.get(i));
        }
        b.output(body.apply(b, in));
        return (Tensor) Interpreter.run(Model.of(b.build()), feeds).get(0);
    }

    private static Value gale(GraphBuilder b, String op, List<Value> in, Map<String, Attr> attrs) {
        return b.op(GaleOps.DOMAIN, op, in, attrs, 1).get(0);
    }

    @Test
    void fusedMatMulIsMatMulAddActivationBitForBit() {
        List<Tensor> in = List.of(random(2, 3, 4), random(4, 5), random(5));
        Tensor unfused = run(in, (b, v) -> b.op("Relu", List.of(b.op("Add", List.of(
                b.op("MatMul", List.of(v.get(0), v.get(1)), Map.of()), v.get(2)), Map.of())), Map.of()));
        Tensor fused = run(in, (b, v) -> gale(b, "FusedMatMul", v, Map.of("activation", Attr.of("relu"))));
        assertArrayEquals(unfused.shape(), fused.shape());
        assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), 0);
    }

    @Test
    void fusedGemmAndConvKeepTheirOpsAttributes() {
        List<Tensor> g = List.of(random(4, 3), random(5, 4), random(1, 5));
        Map<String, Attr> gemm = Map.of("alpha", Attr.of(0.5f), "beta", Attr.of(2f), "transA", Attr.of(1L),
                "transB", Attr.of(1L));
        Tensor unfused = run(g, (b, v) -> b.op("Sigmoid", List.of(b.op("Gemm", v, gemm)), Map.of()));
        Map<String, Attr> fusedAttrs = new HashMap<>(gemm);
        fusedAttrs.put("activation", Attr.of("sigmoid"));
        Tensor fused = run(g, (b, v) -> gale(b, "FusedGemm", v, fusedAttrs));
        assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), 0);

        List<Tensor> c = List.of(random(1, 2, 5, 5), random(4, 1, 3, 3), random(4));
        Map<String, Attr> conv = Map.of("group", Attr.of(2L), "strides", Attr.of(new long[] {2, 1}),
                "pads", Attr.of(new long[] {1, 0, 1, 0}));
        unfused = run(c, (b, v) -> b.op("LeakyRelu", List.of(b.op("Conv", v, conv)), Map.of("alpha", Attr.of(0.3f))));
        Map<String, Attr> fusedConv = new HashMap<>(conv);
        fusedConv.put("activation", Attr.of("leaky_relu"));
        fusedConv.put("activation_alpha", Attr.of(0.3f));
        fused = run(c, (b, v) -> gale(b, "FusedConv", v, fusedConv));
        assertArrayEquals(unfused.shape(), fused.shape());
        assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), 0);
    }

    @Test
    void geluActivationsMatchTheGeluKernel() {
        for (String approx : List.of("none", "tanh")) {
            List<Tensor> in = List.of(random(3, 4), random(4, 2));
            Tensor unfused = run(in, (b, v) -> b.op("Gelu", List.of(b.op("MatMul", v, Map.of())),
                    Map.of("approximate", Attr.of(approx))));
            Tensor fused = run(in, (b, v) -> gale(b, "FusedMatMul", v,
                    Map.of("activation", Attr.of(approx.equals("none") ? "gelu" : "gelu_tanh"))));
            assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), 0);
        }
    }

    /** softmax(scale q k^T + mask) v from ONNX ops, k given as [..., Lk, d] with batchRank batch dims. */
    private static Value composed(GraphBuilder b, List<Value> v, float scale, int batchRank) {
        long[] perm = new long[batchRank + 2];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[batchRank] = batchRank + 1;
        perm[batchRank + 1] = batchRank;
        Value kt = b.op("Transpose", List.of(v.get(1)), Map.of("perm", Attr.of(perm)));
        Value s = b.op("MatMul", List.of(v.get(0), kt), Map.of());
        Value c = b.constant(Tensor.scalar(DType.FLOAT32, scale));
        s = b.op("Mul", List.of(s, c), Map.of());
        if (v.size() > 3) s = b.op("Add", List.of(s, v.get(3)), Map.of());
        Value p = b.op("Softmax", List.of(s), Map.of("axis", Attr.of(-1L)));
        return b.op("MatMul", List.of(p, v.get(2)), Map.of());
    }

    @Test
    void attentionAgreesWithItsComposition() {
        // batch dims broadcast: Q [2, 1, 3, 4], K [3, 5, 4], V [1, 3, 5, 6]; mask [3, 1, 5] across the queries
        List<Tensor> in = List.of(random(2, 1, 3, 4), random(3, 5, 4), random(1, 3, 5, 6), random(3, 1, 5));
        Tensor unfused = run(in, (b, v) -> composed(b, v, 0.5f, 1));
        Tensor fused = run(in, (b, v) -> gale(b, "Attention", v, Map.of("scale", Attr.of(0.5f))));
        assertArrayEquals(new long[] {2, 3, 3, 6}, fused.shape());
        assertArrayEquals(unfused.toDoubleArray(), fused.toDoubleArray(), 1e-5);

        // the key given transposed, no mask
        List<Tensor> t = List.of(random(2, 3, 4), random(2, 5, 4), random(2, 5, 6));
        Tensor expected = run(t, (b, v) -> composed(b, v, 0.25f, 1));
        Tensor kt = run(List.of(t.get(1)),
                (b, v) -> b.op("Transpose", v, Map.of("perm", Attr.of(new long[] {0, 2, 1}))));
        Tensor actual = run(List.of(t.get(0), kt, t.get(2)), (b, v) -> gale(b, "Attention", v,
                Map.of("scale", Attr.of(0.25f), "key_transposed", Attr.of(1L))));
        assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray(), 1e-5);
    }

    @Test
    void badOperandsAreErrorsNotCrashes() {
        // a bias that would widen the product is rejected by type inference
        GaleException e = assertThrows(GaleException.class, () -> run(List.of(random(3, 4), random(4, 5),
                random(2, 3, 5)), (b, v) -> gale(b, "FusedMatMul", v, Map.of())));
        assertTrue(e.getMessage().contains("widen"), e.getMessage());
        e = assertThrows(GaleException.class, () -> run(List.of(random(3, 4), random(4, 5)),
                (b, v) -> gale(b, "FusedMatMul", v, Map.of("activation", Attr.of("swish")))));
        assertTrue(e.getMessage().contains("activation"), e.getMessage());
        e = assertThrows(GaleException.class, () -> run(List.of(random(2, 3, 4), random(2, 5, 3), random(2, 5, 6)),
                (b, v) -> gale(b, "Attention", v, Map.of("scale", Attr.of(1f)))));
        assertTrue(e.getMessage().contains("feature dim"), e.getMessage());
    }

    @Test
    void attentionTypeKeepsSymbolicDims() {
        GraphBuilder b = Graph.builder();
        Value q = b.input("q", DType.FLOAT32, "n", 3, 4), k = b.input("k", DType.FLOAT32, "n", 5, 4);
        Value v = b.input("v", DType.FLOAT32, "n", 5, 6);
        Value y = gale(b, "Attention", List.of(q, k, v), Map.of("scale", Attr.of(1f)));
        assertEquals("tensor<[n,3,6],f32>", ((Type.TensorType) y.type()).toString());
    }
}
