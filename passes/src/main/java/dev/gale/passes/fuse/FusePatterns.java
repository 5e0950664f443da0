package dev.gale.passes.fuse;

import dev.gale.ir.Graph;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;
import dev.gale.passes.simplify.DeadCodeElimination;
import dev.gale.passes.simplify.RewriteDriver;
import dev.gale.passes.simplify.RewriteRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Pattern fusion: recognizes what exporters and autodiff decompose and replaces it by one fused op. Each fusion is
 * a list of {@link RewriteRule}s (a pattern, the conditions it must prove, the replacement), in its own file:
 *
 * <ol>
 *   <li>{@link LayerNormFusion}, {@link GeluFusion}, {@link SoftmaxFusion}: decomposed LayerNormalization, Gelu,
 *       Softmax and LogSoftmax (the layer norm with gamma and beta first, then with gamma, then bare);</li>
 *   <li>{@link AttentionFusion}: scaled dot-product attention into {@code gale::Attention};</li>
 *   <li>{@link ConvBatchNormFolding}: an inference BatchNormalization folded into the constant Conv before it;</li>
 *   <li>{@link ShapeOfProduct}: a Shape of a MatMul's result read from its operands instead (autodiff reads the
 *       shapes of products, which would otherwise keep them from fusing);</li>
 *   <li>{@link BiasActivationFusion}: bias, then activation, into MatMul, Gemm and Conv
 *       ({@code gale::FusedMatMul}, {@code gale::FusedGemm}, {@code gale::FusedConv});</li>
 *   <li>{@link ConvPoolFusion}: a MaxPool or AveragePool of side-by-side windows after a 2-D convolution, into
 *       the {@code gale::FusedConv} ({@code pool});</li>
 *   <li>{@link TransposedWeightFusion}: a matrix transposed only to be multiplied, read transposed in place
 *       ({@code gale::FusedMatMul {transB = 1}}).</li>
 * </ol>
 *
 * <p>Algorithm: the stages run in this order, each applied by the {@link RewriteDriver} until no rule fires, with
 * dead code elimination between rounds (the driver counts readers, and a pattern's inner nodes stay readers until
 * removed). The order lets a larger pattern claim nodes before a smaller one: Gelu exists before the activation
 * stage absorbs it, Softmax before attention, a folded BatchNormalization leaves a Conv for a Relu to join.
 *
 * <p>Invariants: a rule fires only when its conditions prove that the fused op computes what the pattern computed
 * (shapes, axes, constants, element types, broadcasting: see each file's header); the numbers may differ by
 * rounding only (a fused kernel rounds once where the pattern rounded per op; FusedMatMul, FusedGemm and FusedConv
 * round exactly as their pieces did), or where the pattern itself overflowed or cancelled (a softmax without its
 * max subtracted, a variance by moments), which the fused op avoids. No intermediate that another node reads is
 * recomputed unless it is cheap ({@link FusionFacts#RECOMPUTE}). Rules fire as {@code simplify.fuse.*} counters
 * ({@link #fired}).
 *
 * <p>In a training pipeline this pass runs after autodiff: the fused ops have no gradient rules, and the backward
 * graph has patterns of its own (gradient sums that join a MatMul or Gemm). Before it, {@code simplify} (CSE in
 * particular: the layer norm pattern wants the one {@code x - mean} that both the numerator and the variance
 * read). {@link #decomposedOnly() fuse-decomposed}, the first three stages alone, may also run before autodiff.
 */
public final class FusePatterns implements Pass {
    private static final int MAX_ROUNDS = 8;

    /** The stages that make ONNX ops with gradient rules: LayerNormalization, Gelu, Softmax, LogSoftmax. */
    static final List<List<RewriteRule>> DECOMPOSED;

    /** The rule lists in the order the pass applies them. */
    static final List<List<RewriteRule>> STAGES;

    static {
        List<RewriteRule> first = new ArrayList<>(LayerNormFusion.WITH_SHIFT);
        first.addAll(GeluFusion.RULES);
        first.addAll(SoftmaxFusion.RULES);
        DECOMPOSED = List.of(first, LayerNormFusion.WITH_SCALE, LayerNormFusion.BARE);
        List<List<RewriteRule>> all = new ArrayList<>(DECOMPOSED);
        all.addAll(List.of(AttentionFusion.RULES, ConvBatchNormFolding.RULES, ShapeOfProduct.RULES,
                BiasActivationFusion.BIAS, BiasActivationFusion.ACTIVATION, ConvPoolFusion.RULES,
                TransposedWeightFusion.RULES));
        STAGES = List.copyOf(all);
    }

    private final boolean decomposedOnly;

    /** Every fusion: {@code fuse-patterns}. */
    public FusePatterns() { this(false); }

    private FusePatterns(boolean decomposedOnly) { this.decomposedOnly = decomposedOnly; }

    /**
     * {@code fuse-decomposed}: only the fusions whose results are ONNX ops with gradient rules (LayerNormalization,
     * Gelu, Softmax, LogSoftmax), so it may also run on a forward graph before autodiff, which then differentiates
     * the fused op instead of its pieces (a smaller backward whose intermediates die with the forward ones).
     */
    public static FusePatterns decomposedOnly() { return new FusePatterns(true); }

    @Override
    public String name() { return decomposedOnly ? "fuse-decomposed" : "fuse-patterns"; }

    @Override
    public Set<Property> invalidates() { return GRAPH_REWRITE; }

    @Override
    public Set<Property> establishes() { return Set.of(Property.PATTERNS_FUSED); }

    @Override
    public Graph run(Graph graph, PassContext ctx) {
        DeadCodeElimination dce = new DeadCodeElimination();
        for (List<RewriteRule> stage : decomposedOnly ? DECOMPOSED : STAGES) {
            for (int round = 0; round < MAX_ROUNDS; round++) {
                Graph next = dce.run(RewriteDriver.apply(graph, stage, ctx), ctx);
                if (next == graph) break;
                graph = next;
            }
        }
        return graph;
    }

    /** How often each fusion fired in the pipeline run of {@code ctx}: {@code fuse.gelu -> 2}, say. */
    public static Map<String, Long> fired(PassContext ctx) {
        Map<String, Long> out = new TreeMap<>();
        ctx.counters().forEach((k, v) -> {
            if (k.startsWith("simplify.fuse.")) out.put(k.substring("simplify.".length()), v);
        });
        return out;
    }
}
