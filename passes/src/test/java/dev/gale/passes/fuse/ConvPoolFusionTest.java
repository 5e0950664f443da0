package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A MaxPool or AveragePool of side-by-side windows folded into the convolution before it; near misses. */
class ConvPoolFusionTest {
    static final String CONV_RELU_POOL = """
            graph @c(%x: tensor<[2,3,9,11],f32>, %w: tensor<[4,3,3,3],f32>, %b: tensor<[4],f32>) -> (%y) {
              %c = Conv(%x, %w, %b) {pads = [1, 1, 1, 1]}
              %r = Relu(%c)
              %y = MaxPool(%r) {kernel_shape = [2, 2], strides = [2, 2]}
            }
            """;

    /** A bare convolution and a pooling: nothing else to fuse, so a near miss fires nothing. */
    static final String CONV_POOL = """
            graph @c(%x: tensor<[2,3,9,11],f32>, %w: tensor<[4,3,3,3],f32>) -> (%y) {
              %c = Conv(%x, %w) {pads = [1, 1, 1, 1]}
              %y = MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2]}
            }
            """;

    @Test
    void convReluMaxPool() {
        var f = assertFuses(CONV_RELU_POOL, "{fuse.conv-activation=1, fuse.conv-maxpool=1}");
        assertEquals(Map.of("gale::FusedConv", 1), f.ops());
        Node n = f.node("FusedConv");
        assertEquals(Attr.of("relu"), n.attr("activation"));
        assertEquals(Attr.of("max"), n.attr("pool"));
        assertEquals(Attr.of(new long[] {2, 2}), n.attr("pool_kernel"));
        assertEquals(Attr.of(new long[] {1, 1, 1, 1}), n.attr("pads"));
        assertEquals(3, n.inputs().size());
    }

    @Test
    void averagePoolAndOtherWindows() {
        var f = assertFuses(CONV_POOL.replace("MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2]}",
                "AveragePool(%c) {kernel_shape = [3, 2], strides = [3, 2], count_include_pad = 1}"),
                "{fuse.conv-averagepool=1}");
        assertEquals(Attr.of("average"), f.node("FusedConv").attr("pool"));
        assertEquals(Attr.of(new long[] {3, 2}), f.node("FusedConv").attr("pool_kernel"));
        // explicit zero pads, VALID, a 1 x 1 window without strides
        assertFuses(CONV_POOL.replace("strides = [2, 2]}", "strides = [2, 2], pads = [0, 0, 0, 0], auto_pad = \"VALID\"}"),
                "{fuse.conv-maxpool=1}");
        assertFuses(CONV_POOL.replace("{kernel_shape = [2, 2], strides = [2, 2]}", "{kernel_shape = [1, 1]}"),
                "{fuse.conv-maxpool=1}");
    }

    @Test
    void poolingsThatAreNotSideBySideWindowsDoNotFuse() {
        String pool = "MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2]}";
        for (String near : new String[] {
                "MaxPool(%c) {kernel_shape = [2, 2]}", // overlapping windows (strides 1)
                "MaxPool(%c) {kernel_shape = [3, 3], strides = [2, 2]}",
                "MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2], pads = [1, 1, 0, 0]}",
                "MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2], auto_pad = \"SAME_UPPER\"}",
                "MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1}",
                "MaxPool(%c) {kernel_shape = [2, 2], strides = [2, 2], dilations = [2, 2]}",
        })
            assertNoFusion(CONV_POOL.replace(pool, near));
    }

    @Test
    void aConvolutionReadElsewhereOrUsedIndicesDoNotFuse() {
        // the convolution's result is also a graph output
        assertNoFusion(CONV_POOL.replace("-> (%y)", "-> (%y, %c)"));
        // MaxPool's Indices are read
        assertNoFusion(CONV_POOL.replace("-> (%y)", "-> (%y, %i)").replace("%y = MaxPool", "%y, %i = MaxPool"));
        // a 1-D convolution
        assertNoFusion("""
                graph @c(%x: tensor<[2,3,9],f32>, %w: tensor<[4,3,3],f32>) -> (%y) {
                  %c = Conv(%x, %w)
                  %y = MaxPool(%c) {kernel_shape = [2], strides = [2]}
                }
                """);
    }
}
