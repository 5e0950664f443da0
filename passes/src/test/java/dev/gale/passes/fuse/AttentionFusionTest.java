package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Scaled dot-product attention: where the scale sits, masks, K layouts, and near misses. */
class AttentionFusionTest {
    /** Hugging Face style: scores = Q K^T / sqrt(d) + mask, K^T a Transpose of the last two axes. */
    static final String HF = """
            graph @attn(%q: tensor<[2,3,5,8],f32>, %k: tensor<[2,3,6,8],f32>, %v: tensor<[2,3,6,4],f32>,
                        %mask: tensor<[2,1,1,6],f32>) -> (%y) {
              init %scale = tensor<[],f32> [2.828427]
              %kt = Transpose(%k) {perm = [0, 1, 3, 2]}
              %s = MatMul(%q, %kt)
              %ss = Div(%s, %scale)
              %sm = Add(%ss, %mask)
              %p = Softmax(%sm) {axis = -1}
              %y = MatMul(%p, %v)
            }
            """;

    @Test
    void scaledScoresWithMaskAndTransposedKey() {
        var f = assertFuses(HF, "{fuse.attention=1}");
        assertEquals(Map.of("gale::Attention", 1), f.ops());
        Node a = f.node("Attention");
        assertEquals(4, a.inputs().size());
        assertEquals("k", a.input(1).name());
        assertEquals(Attr.of(0L), a.attr("key_transposed"));
        assertEquals(1 / 2.828427f, ((Attr.FloatAttr) a.attr("scale")).value(), 1e-7);
    }

    @Test
    void queryScaledFirstAndKeyGivenTransposed() {
        // PyTorch's MultiheadAttention: Q / sqrt(d), then MatMul with K^T that another Transpose made
        var f = assertFuses("""
                graph @attn(%q: tensor<[6,5,4],f32>, %kt: tensor<[6,4,7],f32>, %v: tensor<[6,7,4],f32>) -> (%y) {
                  init %c = tensor<[],f32> [2.0]
                  %qs = Div(%q, %c)
                  %s = MatMul(%qs, %kt)
                  %p = Softmax(%s) {axis = 2}
                  %y = MatMul(%p, %v)
                }
                """, "{fuse.attention=1}");
        Node a = f.node("Attention");
        assertEquals(Attr.of(1L), a.attr("key_transposed"));
        assertEquals(Attr.of(0.5f), a.attr("scale"));
    }

    @Test
    void bothOperandsScaled() {
        // PyTorch's exported scaled_dot_product_attention: Q and K^T each times d^(-1/4)
        var f = assertFuses("""
                graph @attn(%q: tensor<[n,2,5,16],f32>, %k: tensor<[n,2,5,16],f32>,
                            %v: tensor<[n,2,5,16],f32>) -> (%y) {
                  init %c = tensor<[],f32> [0.5]
                  %qs = Mul(%q, %c)
                  %kt = Transpose(%k) {perm = [0, 1, 3, 2]}
                  %ks = Mul(%c, %kt)
                  %s = MatMul(%qs, %ks)
                  %p = Softmax(%s)
                  %y = MatMul(%p, %v)
                }
                """, "{fuse.attention=1}");
        assertEquals(Attr.of(0.25f), f.node("Attention").attr("scale"));
    }

    @Test
    void softmaxOverAnotherAxisDoesNotFuse() {
        assertNoFusion(HF.replace("{axis = -1}", "{axis = 2}"));
    }

    @Test
    void aMaskThatWidensTheScoresDoesNotFuse() {
        // mask [4, 2, 3, 5, 6] adds a batch dim to scores [2, 3, 5, 6]
        assertNoFusion(HF.replace("%mask: tensor<[2,1,1,6],f32>", "%mask: tensor<[4,2,3,5,6],f32>"));
    }

    @Test
    void aScaleThatIsNotOneNumberDoesNotFuse() {
        assertNoFusion(HF.replace("init %scale = tensor<[],f32> [2.828427]",
                "init %scale = tensor<[6],f32> [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]"));
        assertNoFusion(HF.replace("[2.828427]", "[0.0]"));
    }

    @Test
    void aVectorOperandDoesNotFuse() {
        // MatMul(p, v) with a 1-D v drops a dim: not attention's [.., Lq, dv]
        assertNoFusion(HF.replace("%v: tensor<[2,3,6,4],f32>", "%v: tensor<[6],f32>"));
    }

    @Test
    void probabilitiesReadElsewhereDoNotFuse() {
        // the probabilities are an output (a training graph's backward reads them): recomputing them would repeat
        // the MatMul, so nothing fuses, whatever the recompute policy
        assertNoFusion(HF.replace("-> (%y)", "-> (%y, %p)"));
        assertNoFusion(HF.replace("-> (%y)", "-> (%y, %s)"));
    }

    @Test
    void aSharedTransposeOfTheKeyStays() {
        var f = assertFuses(HF.replace("-> (%y)", "-> (%y, %kt)"), "{fuse.attention=1}");
        assertEquals(Map.of("Transpose", 1, "gale::Attention", 1), f.ops());
    }

    @Test
    void aTransposeOfOtherAxesIsPassedAsTheTransposedKey() {
        var f = assertFuses(HF.replace("{perm = [0, 1, 3, 2]}", "{perm = [1, 0, 3, 2]}")
                .replace("%k: tensor<[2,3,6,8],f32>", "%k: tensor<[3,2,6,8],f32>"), "{fuse.attention=1}");
        assertEquals(Attr.of(1L), f.node("Attention").attr("key_transposed"));
        assertEquals(Map.of("Transpose", 1, "gale::Attention", 1), f.ops());
    }
}
