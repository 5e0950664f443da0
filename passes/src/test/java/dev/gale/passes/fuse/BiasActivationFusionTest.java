package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.passes.pipeline.PassRegistry;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bias and activation after MatMul, Gemm and Conv; Shape(MatMul) rewritten; near misses. */
class BiasActivationFusionTest {
    static final String LINEAR = """
            graph @lin(%x: tensor<[n,5,4],f32>, %w: tensor<[4,3],f32>, %b: tensor<[3],f32>) -> (%y) {
              %m = MatMul(%x, %w)
              %a = Add(%b, %m)
              %y = Relu(%a)
            }
            """;

    @Test
    void matMulBiasRelu() {
        var f = assertFuses(LINEAR, "{fuse.matmul-activation=1, fuse.matmul-bias=1}");
        assertEquals(Map.of("gale::FusedMatMul", 1), f.ops());
        Node n = f.node("FusedMatMul");
        assertEquals(Attr.of("relu"), n.attr("activation"));
        assertEquals(3, n.inputs().size());
    }

    @Test
    void everyActivation() {
        for (String act : new String[] {"Tanh", "Sigmoid", "LeakyRelu(%a) {alpha = 0.2}", "Gelu",
                "Gelu(%a) {approximate = \"tanh\"}"}) {
            String call = act.contains("(") ? act : act + "(%a)";
            assertFuses(LINEAR.replace("Relu(%a)", call), "{fuse.matmul-activation=1, fuse.matmul-bias=1}");
        }
        var f = assertFuses(LINEAR.replace("Relu(%a)", "LeakyRelu(%a) {alpha = 0.2}"),
                "{fuse.matmul-activation=1, fuse.matmul-bias=1}");
        assertEquals(Attr.of("leaky_relu"), f.node("FusedMatMul").attr("activation"));
        assertEquals(Attr.of(0.2f), f.node("FusedMatMul").attr("activation_alpha"));
    }

    @Test
    void gemmWithoutBiasTakesTheAddThenTheActivation() {
        var f = assertFuses("""
                graph @g(%x: tensor<[6,4],f32>, %w: tensor<[3,4],f32>, %b: tensor<[1,3],f32>) -> (%y) {
                  %m = Gemm(%x, %w) {alpha = 0.5, beta = 7.0, transB = 1}
                  %a = Add(%m, %b)
                  %y = Sigmoid(%a)
                }
                """, "{fuse.gemm-activation=1, fuse.gemm-bias=1}");
        Node n = f.node("FusedGemm");
        assertEquals(Attr.of(1.0f), n.attr("beta"));
        assertEquals(Attr.of(0.5f), n.attr("alpha"));
        assertEquals(Attr.of("sigmoid"), n.attr("activation"));
    }

    @Test
    void convPerChannelAddBecomesItsBias() {
        var f = assertFuses("""
                graph @c(%x: tensor<[2,3,6,6],f32>, %w: tensor<[4,3,3,3],f32>, %b: tensor<[4,1,1],f32>) -> (%y) {
                  %c = Conv(%x, %w) {pads = [1, 1, 1, 1]}
                  %a = Add(%c, %b)
                  %y = Relu(%a)
                }
                """, "{fuse.conv-activation=1, fuse.conv-bias=1}");
        assertEquals(Map.of("Constant", 1, "Reshape", 1, "gale::FusedConv", 1), f.ops());
        assertEquals(Attr.of(new long[] {1, 1, 1, 1}), f.node("FusedConv").attr("pads"));
    }

    @Test
    void backwardGradientSumJoinsTheMatMul() {
        // dX = dX_other + dY W^T: an addend of the product's full shape
        var f = assertFuses("""
                graph @bw(%dy: tensor<[n,3],f32>, %wt: tensor<[3,4],f32>, %other: tensor<[n,4],f32>) -> (%dx) {
                  %m = MatMul(%dy, %wt)
                  %dx = Add(%other, %m)
                }
                """, "{fuse.matmul-bias=1}");
        assertEquals(Map.of("gale::FusedMatMul", 1), f.ops());
    }

    @Test
    void anAddendThatWidensTheProductDoesNotFuse() {
        assertNoFusion("""
                graph @lin(%x: tensor<[5,4],f32>, %w: tensor<[4,3],f32>, %b: tensor<[2,5,3],f32>) -> (%y) {
                  %m = MatMul(%x, %w)
                  %y = Add(%m, %b)
                }
                """);
        // [2, 1, 1] against the product's [n, 5, 3] widens it unless n = 2: not provably harmless
        assertNoFusion(LINEAR.replace("%b: tensor<[3],f32>", "%b: tensor<[2,1,1],f32>").replace("%y = Relu(%a)",
                "%y = Identity(%a)"));
    }

    @Test
    void aProductReadElsewhereKeepsItsBiasAndActivationApart() {
        assertNoFusion(LINEAR.replace("-> (%y)", "-> (%y, %m)"));
        // the pre-activation sum is an output (a backward graph reads it for Relu's gradient): bias fuses, Relu stays
        var f = assertFuses(LINEAR.replace("-> (%y)", "-> (%y, %a)"), "{fuse.matmul-bias=1}");
        assertEquals(Map.of("gale::FusedMatMul", 1, "Relu", 1), f.ops());
    }

    @Test
    void integerProductsAndPerSpatialConvAddsDoNotFuse() {
        assertNoFusion("""
                graph @i(%x: tensor<[5,4],i64>, %w: tensor<[4,3],i64>, %b: tensor<[3],i64>) -> (%y) {
                  %m = MatMul(%x, %w)
                  %y = Add(%m, %b)
                }
                """);
        assertNoFusion("""
                graph @c(%x: tensor<[2,3,6,6],f32>, %w: tensor<[4,3,3,3],f32>, %b: tensor<[1,1,4,4],f32>) -> (%y) {
                  %c = Conv(%x, %w)
                  %y = Add(%c, %b)
                }
                """);
    }

    @Test
    void aFusedProducerTakesOnlyOneActivation() {
        var f = assertFuses(LINEAR.replace("%y = Relu(%a)", "%r = Relu(%a)\n  %y = Tanh(%r)"),
                "{fuse.matmul-activation=1, fuse.matmul-bias=1}");
        assertEquals(Map.of("gale::FusedMatMul", 1, "Tanh", 1), f.ops());
    }

    @Test
    void shapeOfAProductIsReadFromItsOperands() {
        var f = assertFuses("""
                graph @s(%x: tensor<[n,5,4],f32>, %w: tensor<[4,3],f32>, %b: tensor<[3],f32>) -> (%y, %shape) {
                  %m = MatMul(%x, %w)
                  %y = Add(%m, %b)
                  %shape = Shape(%m)
                }
                """, "{fuse.matmul-bias=1, fuse.shape-of-matmul=1}");
        assertEquals(Map.of("Concat", 1, "Shape", 2, "gale::FusedMatMul", 1), f.ops());
        // a batched right operand: the batch dims would come from both; left alone
        assertNoFusion("""
                graph @s(%x: tensor<[n,5,4],f32>, %w: tensor<[n,4,3],f32>) -> (%shape) {
                  %m = MatMul(%x, %w)
                  %shape = Shape(%m)
                }
                """);
    }

    @Test
    void thePassIsRegistered() {
        assertEquals("fuse-patterns", PassRegistry.get("fuse-patterns").name());
    }
}
