package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A transposed weight read in place by the product, and a transposed product written transposed at once; each case
 * runs on the interpreter before and after (assertFuses) and must agree.
 */
class TransposedWeightFusionTest {
    @Test
    void linearOverA3dInputReadsItsWeightTransposed() {
        var f = assertFuses("""
                graph @lin(%x: tensor<[n,5,4],f32>, %w: tensor<[3,4],f32>, %b: tensor<[3],f32>) -> (%y) {
                  %t = Transpose(%w) {perm = [1, 0]}
                  %m = MatMul(%x, %t)
                  %a = Add(%m, %b)
                  %y = Relu(%a)
                }
                """, "{fuse.matmul-activation=1, fuse.matmul-bias=1, fuse.matmul-transposed-b=1}");
        assertEquals(Map.of("gale::FusedMatMul", 1), f.ops());
        Node n = f.node("FusedMatMul");
        assertEquals(Attr.of(1L), n.attr("transB"));
        assertEquals(Attr.of("relu"), n.attr("activation"));
        assertEquals(3, n.inputs().size());
    }

    @Test
    void plainMatMulAndATransposeWithoutPerm() {
        var f = assertFuses("""
                graph @g(%x: tensor<[6,4],f32>, %w: tensor<[3,4],f32>) -> (%y) {
                  %t = Transpose(%w)
                  %y = MatMul(%x, %t)
                }
                """, "{fuse.matmul-transposed-b=1}");
        assertEquals(Map.of("gale::FusedMatMul", 1), f.ops());
    }

    @Test
    void transposedProductsBecomeSwappedGemms() {
        // (X^T dY)^T = dY^T X: a weight gradient in the weight's layout; and (A B)^T = B^T A^T
        var f = assertFuses("""
                graph @g(%x: tensor<[6,4],f32>, %dy: tensor<[6,3],f32>, %a: tensor<[2,5],f32>, %b: tensor<[5,7],f32>) -> (%dw, %c) {
                  %g = Gemm(%x, %dy) {alpha = 0.5, transA = 1}
                  %dw = Transpose(%g) {perm = [1, 0]}
                  %p = MatMul(%a, %b)
                  %c = Transpose(%p)
                }
                """, "{fuse.transposed-gemm=2}");
        assertEquals(Map.of("Gemm", 2), f.ops());
    }

    @Test
    void nearMisses() {
        // a 3-D weight, another perm, a product something else reads, a Gemm with C
        assertNoFusion("""
                graph @g(%x: tensor<[2,6,4],f32>, %w: tensor<[2,3,4],f32>) -> (%y) {
                  %t = Transpose(%w) {perm = [0, 2, 1]}
                  %y = MatMul(%x, %t)
                }
                """);
        assertNoFusion("""
                graph @g(%a: tensor<[2,5],f32>, %b: tensor<[5,7],f32>) -> (%c, %p) {
                  %p = MatMul(%a, %b)
                  %c = Transpose(%p)
                }
                """);
        assertNoFusion("""
                graph @g(%a: tensor<[2,5],f32>, %b: tensor<[5,7],f32>, %k: tensor<[2,7],f32>) -> (%c) {
                  %p = Gemm(%a, %b, %k)
                  %c = Transpose(%p)
                }
                """);
    }
}
