package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GELU: the erf and tanh forms in the operand orders exporters write, and near misses that must stay unfused. */
class GeluFusionTest {
    /** An erf-form GELU over x with the given constants and root expression (over %x, %half, %cdf). */
    static String erf(String xType, String half, String sqrt2, String one, String root) {
        return """
                graph @g(%x: XTYPE) -> (%y) {
                  init %half = HALF
                  init %sqrt2 = SQRT2
                  init %one = ONE
                  %s = Div(%x, %sqrt2)
                  %e = Erf(%s)
                  %cdf = Add(%e, %one)
                  ROOT
                }
                """.replace("XTYPE", xType).replace("HALF", half).replace("SQRT2", sqrt2).replace("ONE", one)
                .replace("ROOT", root);
    }

    static final String F32 = "tensor<[2,5],f32>";
    static final String HALF = "tensor<[],f32> [0.5]", SQRT2 = "tensor<[],f32> [1.4142135]";
    static final String ONE = "tensor<[],f32> [1.0]";
    static final String TORCH = "%p = Mul(%x, %cdf)\n  %y = Mul(%p, %half)";

    @Test
    void pytorchOrder() {
        var f = assertFuses(erf(F32, HALF, SQRT2, ONE, TORCH), "{fuse.gelu=1}");
        assertEquals(Map.of("Gelu", 1), f.ops());
        assertEquals(null, f.node("Gelu").attr("approximate"));
    }

    @Test
    void otherAssociationsAndOperandOrders() {
        // (0.5 * x) * cdf
        assertFuses(erf(F32, HALF, SQRT2, ONE, "%p = Mul(%half, %x)\n  %y = Mul(%p, %cdf)"), "{fuse.gelu=1}");
        // x * (cdf * 0.5)
        assertFuses(erf(F32, HALF, SQRT2, ONE, "%p = Mul(%cdf, %half)\n  %y = Mul(%x, %p)"), "{fuse.gelu=1}");
        // 1 + erf, x / sqrt 2 written x * (1 / sqrt 2), symbolic batch
        assertFuses("""
                graph @g(%x: tensor<[n,4],f32>) -> (%y) {
                  init %half = tensor<[],f32> [0.5]
                  init %r = tensor<[1],f32> [0.70710677]
                  init %one = tensor<[],f32> [1.0]
                  %s = Mul(%r, %x)
                  %e = Erf(%s)
                  %cdf = Add(%one, %e)
                  %p = Mul(%cdf, %x)
                  %y = Mul(%half, %p)
                }
                """, "{fuse.gelu=1}");
    }

    @Test
    void tanhForm() {
        String torch = """
                graph @g(%x: tensor<[3,4],f32>) -> (%y) {
                  init %half = tensor<[],f32> [0.5]
                  init %one = tensor<[],f32> [1.0]
                  init %beta = tensor<[],f32> [0.7978846]
                  init %kappa = tensor<[],f32> [0.044715]
                  init %three = tensor<[],f32> [3.0]
                  %x3 = Pow(%x, %three)
                  %k = Mul(%kappa, %x3)
                  %inner = Add(%x, %k)
                  %z = Mul(%beta, %inner)
                  %t = Tanh(%z)
                  %cdf = Add(%one, %t)
                  %p = Mul(%x, %cdf)
                  %y = Mul(%half, %p)
                }
                """;
        var f = assertFuses(torch, "{fuse.gelu-tanh=1}");
        assertEquals(Attr.of("tanh"), f.node("Gelu").attr("approximate"));
        // x^3 as x * (x * x)
        assertFuses(torch.replace("%x3 = Pow(%x, %three)", "%sq = Mul(%x, %x)\n  %x3 = Mul(%sq, %x)"),
                "{fuse.gelu-tanh=1}");
        // near misses: kappa 0.04, beta 0.8, exponent 2
        assertNoFusion(torch.replace("[0.044715]", "[0.04]"));
        assertNoFusion(torch.replace("[0.7978846]", "[0.8]"));
        assertNoFusion(torch.replace("[3.0]", "[2.0]"));
    }

    @Test
    void float64ConstantsMatchTheirOwnPrecision() {
        String f64 = erf("tensor<[2,5],f64>", "tensor<[],f64> [0.5]", "tensor<[],f64> [1.4142135623730951]",
                "tensor<[],f64> [1.0]", TORCH);
        assertFuses(f64, "{fuse.gelu=1}");
        // sqrt 2 rounded to float32 is 2e-8 off: too far for a float64 graph
        assertNoFusion(f64.replace("[1.4142135623730951]", "[1.4142135381698608]"));
    }

    @Test
    void wrongConstantsDoNotFuse() {
        assertNoFusion(erf(F32, "tensor<[],f32> [0.49]", SQRT2, ONE, TORCH));
        assertNoFusion(erf(F32, HALF, "tensor<[],f32> [1.5]", ONE, TORCH));
        assertNoFusion(erf(F32, HALF, "tensor<[],f32> [1.4142]", ONE, TORCH));
        assertNoFusion(erf(F32, HALF, SQRT2, "tensor<[],f32> [2.0]", TORCH));
        // a constant holding more than one number, even if every one is 0.5
        assertNoFusion(erf(F32, "tensor<[5],f32> [0.5, 0.5, 0.5, 0.5, 0.5]", SQRT2, ONE, TORCH));
    }

    @Test
    void aConstantThatWidensXDoesNotFuse() {
        // [1, 1, 1] against x [2, 5] makes the result [1, 2, 5]: Gelu(x) would have another shape
        assertNoFusion(erf(F32, "tensor<[1,1,1],f32> [0.5]", SQRT2, ONE, TORCH));
        assertNoFusion(erf(F32, HALF, "tensor<[1,1,1],f32> [1.4142135]", ONE, TORCH));
    }

    @Test
    void twoDifferentOperandsDoNotFuse() {
        // x * 0.5 * (1 + erf(z / sqrt 2)) with z != x
        assertNoFusion("""
                graph @g(%x: tensor<[2,5],f32>, %z: tensor<[2,5],f32>) -> (%y) {
                  init %half = tensor<[],f32> [0.5]
                  init %sqrt2 = tensor<[],f32> [1.4142135]
                  init %one = tensor<[],f32> [1.0]
                  %s = Div(%z, %sqrt2)
                  %e = Erf(%s)
                  %cdf = Add(%e, %one)
                  %p = Mul(%x, %cdf)
                  %y = Mul(%p, %half)
                }
                """);
    }

    @Test
    void sharedIntermediateIsRecomputedOnlyWhenAllowed() {
        // erf(x / sqrt 2) is also an output (as a backward graph would read it): it stays, Gelu recomputes it
        String shared = erf(F32, HALF, SQRT2, ONE, TORCH).replace("-> (%y)", "-> (%y, %e)");
        var f = assertFuses(shared, "{fuse.gelu=1}");
        assertEquals(Map.of("Div", 1, "Erf", 1, "Gelu", 1), f.ops());
        assertNoFusion(shared, Map.of(FusionFacts.RECOMPUTE, "none"));
    }
}
