package dev.gale.passes.fuse;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.gale.passes.fuse.FusionTesting.assertFuses;
import static dev.gale.passes.fuse.FusionTesting.assertNoFusion;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Conv + inference BatchNormalization folded into new constant weights; near misses. */
class ConvBatchNormFoldingTest {
    static final String CONV_BN = """
            graph @cb(%x: tensor<[2,2,5,5],f32>) -> (%y) {
              init %w = tensor<[3,2,2,2],f32> [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2,
                                               0.5, 0.4, -0.3, 0.2, 0.1, 0.0, -0.1, 0.2, 0.3, 0.2, 0.1, -0.4]
              init %b = tensor<[3],f32> [0.5, -0.5, 0.25]
              init %scale = tensor<[3],f32> [1.5, 0.5, -2.0]
              init %shift = tensor<[3],f32> [0.1, 0.2, 0.3]
              init %mean = tensor<[3],f32> [0.05, -0.1, 0.2]
              init %var = tensor<[3],f32> [0.9, 1.1, 0.25]
              %c = Conv(%x, %w, %b) {group = 1, strides = [1, 1]}
              %y = BatchNormalization(%c, %scale, %shift, %mean, %var) {epsilon = 0.001}
            }
            """;

    @Test
    void foldsIntoTheWeights() {
        var f = assertFuses(CONV_BN, "{fuse.conv-batchnorm=1}");
        assertEquals(Map.of("Constant", 2, "Conv", 1), f.ops());
        // without a Conv bias, and with a Relu after: the folded Conv then takes the activation
        f = assertFuses(CONV_BN.replace("%c = Conv(%x, %w, %b)", "%c = Conv(%x, %w)")
                .replace("%y = BatchNormalization", "%n = BatchNormalization").replace("{epsilon = 0.001}",
                        "{epsilon = 0.001}\n  %y = Relu(%n)"), "{fuse.conv-activation=1, fuse.conv-batchnorm=1}");
        assertEquals(Map.of("Constant", 2, "gale::FusedConv", 1), f.ops());
    }

    @Test
    void trainingModeDoesNotFold() {
        assertNoFusion(CONV_BN.replace("{epsilon = 0.001}", "{epsilon = 0.001, training_mode = 1}"));
    }

    @Test
    void statisticsOrWeightsThatAreNotConstantsDoNotFold() {
        // the weights are a graph input (a trainable parameter in a training graph)
        assertNoFusion(CONV_BN.replace("graph @cb(%x: tensor<[2,2,5,5],f32>)",
                "graph @cb(%x: tensor<[2,2,5,5],f32>, %w2: tensor<[3,2,2,2],f32>)").replace("Conv(%x, %w, %b)",
                "Conv(%x, %w2, %b)"));
        assertNoFusion(CONV_BN.replace("graph @cb(%x: tensor<[2,2,5,5],f32>)",
                "graph @cb(%x: tensor<[2,2,5,5],f32>, %m2: tensor<[3],f32>)").replace("%mean, %var", "%m2, %var"));
        // the weights named as trainable parameters are not constants either
        assertNoFusion(CONV_BN, Map.of("train.params", "w"));
    }

    @Test
    void aNonPositiveVarianceDoesNotFold() {
        assertNoFusion(CONV_BN.replace("[0.9, 1.1, 0.25]", "[0.9, -1.0, 0.25]"));
    }

    @Test
    void aConvReadElsewhereDoesNotFold() {
        assertNoFusion(CONV_BN.replace("-> (%y)", "-> (%y, %c)"));
    }
}
