package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.RewriteRule;
import dev.gale.passes.simplify.Rewriter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gale.passes.fuse.FusionFacts.Inner.heavy;
import static dev.gale.passes.simplify.Pattern.constant;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Inference-time folding of a BatchNormalization into the Conv before it:
 *
 * <pre>
 * BatchNormalization(Conv(x, W, B), scale, bias, mean, var) {epsilon, training_mode = 0}
 *   -> Conv(x, W', B')   with s = scale / sqrt(var + epsilon) per output channel m,
 *                        W'[m] = W[m] s[m],  B'[m] = (B[m] - mean[m]) s[m] + bias[m]   (B = 0 when absent)
 * </pre>
 *
 * computed in float64 and rounded once to the weights' element type.
 *
 * <p>Conditions: BatchNormalization is in inference mode (training_mode = 0) and its running-statistics outputs,
 * if any, are unused; W, B and the four statistics are compile-time constants (initializers that are neither
 * graph inputs nor trainable parameters, so a training graph, whose parameters are inputs, never folds); all
 * share W's float element type; W has rank at least 3 with M output channels, and B and the statistics are
 * vectors of length M; the Conv is read only by the BatchNormalization.
 */
final class ConvBatchNormFolding {
    private ConvBatchNormFolding() {}

    static final List<RewriteRule> RULES = List.of(
            // BatchNormalization(Conv(x, W[, B]), scale, bias, mean, var) -> Conv(x, W', B')
            RewriteRule.of("fuse.conv-batchnorm", op("BatchNormalization", op("Conv").anyInputs().as("conv"),
                            constant("scale"), constant("bias"), constant("mean"), constant("var")),
                    ConvBatchNormFolding::fits, ConvBatchNormFolding::fold));

    private static boolean fits(Match m) {
        Node bn = m.root(), conv = m.node("conv");
        if (FusionFacts.intAttr(bn, "training_mode", 0) != 0 || !m.outputUnused(1) || !m.outputUnused(2)) return false;
        if (!conv.domain().isEmpty() || !conv.hasInput(0) || !conv.hasInput(1)) return false;
        Tensor w = m.view().constant(conv.input(1));
        Tensor b = conv.hasInput(2) ? m.view().constant(conv.input(2)) : null;
        if (w == null || w.rank() < 3 || !w.dtype().isFloat() || (conv.hasInput(2) && b == null)) return false;
        long channels = w.dim(0);
        List<Tensor> vectors = new ArrayList<>();
        for (String s : List.of("scale", "bias", "mean", "var")) vectors.add(m.constant(s));
        if (b != null) vectors.add(b);
        for (Tensor t : vectors)
            if (t.dtype() != w.dtype() || t.rank() != 1 || t.dim(0) != channels) return false;
        double eps = epsilon(bn);
        // A variance the statistics leave non-positive would make the original NaN anyway: leave it be.
        for (int c = 0; c < channels; c++) if (!(m.constant("var").getDouble(c) + eps > 0)) return false;
        return FusionFacts.intermediatesOk(m, List.of(heavy(conv, 1)));
    }

    private static List<Value> fold(Match m, Rewriter r) {
        Node bn = m.root(), conv = m.node("conv");
        Tensor w = m.view().constant(conv.input(1));
        Tensor b = conv.hasInput(2) ? m.view().constant(conv.input(2)) : null;
        double eps = epsilon(bn);
        double[] scale = m.constant("scale").toDoubleArray(), bias = m.constant("bias").toDoubleArray();
        double[] mean = m.constant("mean").toDoubleArray(), var = m.constant("var").toDoubleArray();
        int channels = (int) w.dim(0), per = w.numel() / Math.max(channels, 1);
        DType t = w.dtype();
        Tensor w2 = Tensor.zeros(t, w.shape()), b2 = Tensor.zeros(t, channels);
        for (int c = 0; c < channels; c++) {
            double s = scale[c] / Math.sqrt(var[c] + eps);
            for (int i = c * per; i < (c + 1) * per; i++) w2.setDouble(i, w.getDouble(i) * s);
            b2.setDouble(c, ((b == null ? 0 : b.getDouble(c)) - mean[c]) * s + bias[c]);
        }
        List<Value> in = Arrays.asList(conv.input(0), r.constant(w2), r.constant(b2));
        List<Value> out = new ArrayList<>();
        out.add(r.op("Conv", in, conv.attrs()));
        for (int k = 1; k < bn.outputs().size(); k++) out.add(null);
        return out;
    }

    private static double epsilon(Node bn) {
        return bn.attr("epsilon") instanceof Attr.FloatAttr e ? e.value() : 1e-5f;
    }
}
