package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Layer norm: the centered and moments spellings, the affine forms, and near misses that must stay unfused. */
class LayerNormFusionTest {
    /** PyTorch's decomposition (opset < 17) of LayerNorm over the last axis of x [2, 3, 4], gamma and beta [4]. */
    static final String TORCH = """
            graph @ln(%x: tensor<[2,3,4],f32>, %gamma: tensor<[4],f32>, %beta: tensor<[4],f32>) -> (%y) {
              init %axes = tensor<[1],i64> [-1]
              init %two = tensor<[],f32> [2.0]
              init %eps = tensor<[],f32> [1.0E-5]
              %mean = ReduceMean(%x, %axes)
              %d = Sub(%x, %mean)
              %sq = Pow(%d, %two)
              %var = ReduceMean(%sq, %axes)
              %ve = Add(%var, %eps)
              %std = Sqrt(%ve)
              %n = Div(%d, %std)
              %s = Mul(%n, %gamma)
              %y = Add(%s, %beta)
            }
            """;

    @Test
    void pytorchDecomposition() {
        var f = assertFuses(TORCH, "{fuse.layer-norm=1}");
        assertEquals(Map.of("LayerNormalization", 1), f.ops());
        Node ln = f.node("LayerNormalization");
        assertEquals(Attr.of(2L), ln.attr("axis"));
        assertEquals(Attr.of(1.0e-5f), ln.attr("epsilon"));
        assertEquals(3, ln.inputs().size());
    }

    @Test
    void squareAsProductAndReciprocalWithScaleOnly() {
        assertFuses("""
                graph @ln(%x: tensor<[n,8],f32>, %gamma: tensor<[8],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [1]
                  init %eps = tensor<[1],f32> [0.001]
                  %mean = ReduceMean(%x, %axes) {keepdims = 1}
                  %d = Sub(%x, %mean)
                  %sq = Mul(%d, %d)
                  %var = ReduceMean(%sq, %axes)
                  %ve = Add(%eps, %var)
                  %std = Sqrt(%ve)
                  %r = Reciprocal(%std)
                  %n = Mul(%r, %d)
                  %y = Mul(%gamma, %n)
                }
                """, "{fuse.layer-norm=1}");
    }

    @Test
    void bareNormalizationGetsAScaleOfOnes() {
        String bare = TORCH.replace("%s = Mul(%n, %gamma)\n  %y = Add(%s, %beta)", "%y = Identity(%n)");
        var f = assertFuses(bare, "{fuse.layer-norm=1}");
        assertEquals(2, f.node("LayerNormalization").inputs().size());
    }

    @Test
    void severalTrailingAxesByMoments() {
        // ONNX's own function body: var = E[x^2] - E[x]^2, normalized over the last two axes
        var f = assertFuses("""
                graph @ln(%x: tensor<[2,3,4],f32>, %gamma: tensor<[3,4],f32>, %beta: tensor<[1,4],f32>) -> (%y) {
                  init %axes = tensor<[2],i64> [1, 2]
                  init %eps = tensor<[],f32> [1.0E-5]
                  %mean = ReduceMean(%x, %axes)
                  %xx = Mul(%x, %x)
                  %msq = ReduceMean(%xx, %axes)
                  %mm = Mul(%mean, %mean)
                  %var = Sub(%msq, %mm)
                  %ve = Add(%var, %eps)
                  %std = Sqrt(%ve)
                  %d = Sub(%x, %mean)
                  %n = Div(%d, %std)
                  %s = Mul(%n, %gamma)
                  %y = Add(%s, %beta)
                }
                """, "{fuse.layer-norm=1}");
        assertEquals(Attr.of(1L), f.node("LayerNormalization").attr("axis"));
    }

    @Test
    void aMeanOverANonTrailingAxisDoesNotFuse() {
        assertNoFusion(TORCH.replace("init %axes = tensor<[1],i64> [-1]", "init %axes = tensor<[1],i64> [1]")
                .replace("%gamma: tensor<[4],f32>", "%gamma: tensor<[3,1],f32>")
                .replace("%beta: tensor<[4],f32>", "%beta: tensor<[3,1],f32>"));
    }

    @Test
    void meanAndVarianceOverDifferentAxesDoNotFuse() {
        assertNoFusion("""
                graph @ln(%x: tensor<[2,3,4],f32>) -> (%y) {
                  init %a1 = tensor<[1],i64> [-1]
                  init %a2 = tensor<[2],i64> [1, 2]
                  init %eps = tensor<[],f32> [1.0E-5]
                  %mean = ReduceMean(%x, %a1)
                  %d = Sub(%x, %mean)
                  %sq = Mul(%d, %d)
                  %var = ReduceMean(%sq, %a2)
                  %ve = Add(%var, %eps)
                  %std = Sqrt(%ve)
                  %y = Div(%d, %std)
                }
                """);
    }

    @Test
    void droppedReducedDimsBroadcastAlongTheWrongAxis() {
        // keepdims = 0 on a square x: x [4, 4] - mean [4] subtracts row means from columns; not a layer norm
        assertNoFusion("""
                graph @ln(%x: tensor<[4,4],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [-1]
                  init %eps = tensor<[],f32> [1.0E-5]
                  %mean = ReduceMean(%x, %axes) {keepdims = 0}
                  %d = Sub(%x, %mean)
                  %sq = Mul(%d, %d)
                  %var = ReduceMean(%sq, %axes) {keepdims = 0}
                  %ve = Add(%var, %eps)
                  %std = Sqrt(%ve)
                  %y = Div(%d, %std)
                }
                """);
    }

    @Test
    void wrongExponentOrEpsilonDoesNotFuse() {
        assertNoFusion(TORCH.replace("init %two = tensor<[],f32> [2.0]", "init %two = tensor<[],f32> [3.0]"));
        assertNoFusion(TORCH.replace("init %eps = tensor<[],f32> [1.0E-5]", "init %eps = tensor<[],f32> [-1.0E-5]"));
        // one epsilon per feature is not LayerNormalization's single epsilon
        assertNoFusion(TORCH.replace("init %eps = tensor<[],f32> [1.0E-5]",
                "init %eps = tensor<[1,1,4],f32> [1.0E-5, 1.0E-4, 1.0E-3, 1.0E-2]"));
        // a variance input that is not a constant
        assertNoFusion(TORCH.replace("init %eps = tensor<[],f32> [1.0E-5]\n", "")
                .replace("%beta: tensor<[4],f32>)", "%beta: tensor<[4],f32>, %eps: tensor<[],f32>)"));
    }

    @Test
    void aScaleAlongTheBatchOrWideningStaysOutside() {
        // gamma [2, 1, 1] scales each batch element differently: only the bare normalization fuses
        var f = assertFuses(TORCH.replace("%gamma: tensor<[4],f32>", "%gamma: tensor<[2,1,1],f32>"),
                "{fuse.layer-norm=1}");
        assertEquals(Map.of("Constant", 1, "LayerNormalization", 1, "Mul", 1, "Add", 1), f.ops());
        // gamma [5, 1, 1, 4] widens the result to rank 4
        f = assertFuses(TORCH.replace("%gamma: tensor<[4],f32>", "%gamma: tensor<[5,1,1,4],f32>"),
                "{fuse.layer-norm=1}");
        assertEquals(Map.of("Constant", 1, "LayerNormalization", 1, "Mul", 1, "Add", 1), f.ops());
        // beta along the middle axis: gamma joins, beta stays outside
        f = assertFuses(TORCH.replace("%beta: tensor<[4],f32>", "%beta: tensor<[3,1],f32>"), "{fuse.layer-norm=1}");
        assertEquals(Map.of("LayerNormalization", 1, "Add", 1), f.ops());
    }

    @Test
    void aNumeratorCenteredOnAnotherMeanDoesNotFuse() {
        // (x - mean(z)) / std(x): the Sub of the numerator is not the one squared
        assertNoFusion("""
                graph @ln(%x: tensor<[2,4],f32>, %z: tensor<[2,4],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [-1]
                  init %eps = tensor<[],f32> [1.0E-5]
                  %mean = ReduceMean(%x, %axes)
                  %d = Sub(%x, %mean)
                  %sq = Mul(%d, %d)
                  %var = ReduceMean(%sq, %axes)
                  %ve = Add(%var, %eps)
                  %std = Sqrt(%ve)
                  %mz = ReduceMean(%z, %axes)
                  %dz = Sub(%x, %mz)
                  %y = Div(%dz, %std)
                }
                """);
    }

    @Test
    void sharedStatisticsAreRecomputedOnlyWhenAllowed() {
        // the mean is also an output (the expanded ONNX function returns Mean): it stays, the fused op recomputes it
        String shared = TORCH.replace("-> (%y)", "-> (%y, %mean)");
        var f = assertFuses(shared, "{fuse.layer-norm=1}");
        assertEquals(Map.of("LayerNormalization", 1, "ReduceMean", 1), f.ops());
        assertNoFusion(shared, Map.of(FusionFacts.RECOMPUTE, "none"));
    }

    @Test
    void bareFormNeedsFixedNormalizedDims() {
        // its scale of ones has the normalized shape, unknown here
        assertNoFusion(TORCH.replace("%s = Mul(%n, %gamma)\n  %y = Add(%s, %beta)", "%y = Identity(%n)")
                .replace("%x: tensor<[2,3,4],f32>", "%x: tensor<[2,3,m],f32>"));
    }
}
