package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Softmax and LogSoftmax written out, with and without the max subtracted, and near misses. */
class SoftmaxFusionTest {
    static final String PLAIN = """
            graph @sm(%x: tensor<[2,3,4],f32>) -> (%y) {
              init %axes = tensor<[1],i64> [1]
              %e = Exp(%x)
              %s = ReduceSum(%e, %axes)
              %y = Div(%e, %s)
            }
            """;

    static final String SHIFTED_LOG = """
            graph @lsm(%x: tensor<[2,3,4],f32>) -> (%y) {
              init %axes = tensor<[1],i64> [-1]
              %m = ReduceMax(%x, %axes)
              %d = Sub(%x, %m)
              %e = Exp(%d)
              %s = ReduceSum(%e, %axes)
              %l = Log(%s)
              %y = Sub(%d, %l)
            }
            """;

    @Test
    void softmax() {
        var f = assertFuses(PLAIN, "{fuse.softmax=1}");
        assertEquals(Map.of("Softmax", 1), f.ops());
        assertEquals(Attr.of(1L), f.node("Softmax").attr("axis"));
        // max subtracted first, as ONNX's function body and numerically careful code write it
        assertFuses(SHIFTED_LOG.replace("%l = Log(%s)\n  %y = Sub(%d, %l)", "%y = Div(%e, %s)"), "{fuse.softmax=1}");
    }

    @Test
    void logSoftmax() {
        var f = assertFuses(SHIFTED_LOG, "{fuse.log-softmax=1}");
        assertEquals(Attr.of(2L), f.node("LogSoftmax").attr("axis"));
        assertFuses(PLAIN.replace("%y = Div(%e, %s)", "%l = Log(%s)\n  %y = Sub(%x, %l)"), "{fuse.log-softmax=1}");
    }

    @Test
    void twoExpNodesOfTheSameValueFuse() {
        assertFuses(PLAIN.replace("%s = ReduceSum(%e, %axes)", "%e2 = Exp(%x)\n  %s = ReduceSum(%e2, %axes)"),
                "{fuse.softmax=1}");
    }

    @Test
    void aSumOverTwoAxesDoesNotFuse() {
        assertNoFusion(PLAIN.replace("tensor<[1],i64> [1]", "tensor<[2],i64> [1, 2]"));
    }

    @Test
    void droppedReducedDimDividesAlongTheWrongAxis() {
        // x [4, 4]: e / sum(e, axis 1, keepdims 0) divides column j by row j's sum
        assertNoFusion("""
                graph @sm(%x: tensor<[4,4],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [1]
                  %e = Exp(%x)
                  %s = ReduceSum(%e, %axes) {keepdims = 0}
                  %y = Div(%e, %s)
                }
                """);
    }

    @Test
    void aMaxOverAnotherAxisIsNotAbsorbed() {
        // d = x - max over axis 0, then d - log(sum(exp(d)) over axis 2): the shift differs within a row, so only
        // LogSoftmax(d) fuses, and the ReduceMax and Sub stay
        var f = assertFuses(SHIFTED_LOG.replace("%m = ReduceMax(%x, %axes)", "%m = ReduceMax(%x, %a0)")
                .replace("init %axes", "init %a0 = tensor<[1],i64> [0]\n  init %axes"), "{fuse.log-softmax=1}");
        assertEquals(Map.of("ReduceMax", 1, "Sub", 1, "LogSoftmax", 1), f.ops());
        assertEquals("d", f.node("LogSoftmax").input(0).name());
    }

    @Test
    void aDenominatorOfAnotherTensorDoesNotFuse() {
        assertNoFusion("""
                graph @sm(%x: tensor<[2,4],f32>, %z: tensor<[2,4],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [1]
                  %e = Exp(%x)
                  %ez = Exp(%z)
                  %s = ReduceSum(%ez, %axes)
                  %y = Div(%e, %s)
                }
                """);
    }

    @Test
    void logOfAnotherTensorsSumDoesNotFuse() {
        // z - log(sum(exp(x))) with z != x
        assertNoFusion("""
                graph @lsm(%x: tensor<[2,4],f32>, %z: tensor<[2,4],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [1]
                  %e = Exp(%x)
                  %s = ReduceSum(%e, %axes)
                  %l = Log(%s)
                  %y = Sub(%z, %l)
                }
                """);
    }

    @Test
    void withoutTheShiftLargeInputsNoLongerOverflow() {
        // exp(100) overflows float32: the written-out form gives inf / inf = NaN, the fused kernel 0.5 each
        var f = FusionTesting.fuse("""
                graph @sm(%x: tensor<[2],f32>) -> (%y) {
                  init %axes = tensor<[1],i64> [0]
                  %e = Exp(%x)
                  %s = ReduceSum(%e, %axes)
                  %y = Div(%e, %s)
                }
                """, Map.of());
        assertEquals("{fuse.softmax=1}", f.fired().toString());
        var x = dev.gale.ir.Tensor.ofFloats(new long[] {2}, 100f, 100f);
        var before = (dev.gale.ir.Tensor) FusionTesting.run(f.before(), Map.of("x", x)).get(0);
        var after = (dev.gale.ir.Tensor) FusionTesting.run(f.after(), Map.of("x", x)).get(0);
        assertEquals(Double.NaN, before.getDouble(0));
        assertEquals(0.5, after.getDouble(0));
    }
}
