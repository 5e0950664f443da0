package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries of Gale's internal {@code gale} domain: the backward helpers that automatic differentiation emits
 * where a gradient is not a short composition of ONNX ops. They never appear in imported or exported ONNX.
 */
public final class GaleOps {
    public static final String DOMAIN = "gale";

    private GaleOps() {}

    static void register() {
        // --- nn family ---
        NnGradOps.register();

        // ReduceSumToShape(x, shape): sums x over the axes along which a tensor of `shape` was broadcast to x's shape.
        define(DOMAIN, "ReduceSumToShape").inputs(2).outputs(1).category(REDUCTION)
                .infer(c -> List.of(Type.tensor(c.dtype(0), shapeFromConstant(c, 1)))).register();

        // --- reduction family ---
        // <Loss>Grad(dloss, scores, target[, weight]), attributes as on the forward node: d loss / d scores of
        // SoftmaxCrossEntropyLoss (through its log-softmax) or of NegativeLogLikelihoodLoss; the scores' type.
        for (String op : List.of("SoftmaxCrossEntropyLossGrad", "NegativeLogLikelihoodLossGrad"))
            define(DOMAIN, op).inputs(3, 4).outputs(1).optional("ignore_index", dev.gale.ir.Attr.Kind.INT)
                    .attr("reduction", "mean").category(OPAQUE).infer(c -> {
                        if (!c.dtype(1).isFloat())
                            throw c.error("the scores must be floating-point, got " + c.dtype(1));
                        if (c.dtype(0) != c.dtype(1))
                            throw c.error("the loss gradient must have the scores' element type " + c.dtype(1)
                                    + ", got " + c.dtype(0));
                        return List.of(c.inputType(1));
                    }).register();

        // --- shape family ---
        // Backward helpers of ShapeGradients: each returns zeros of `shape` (x's, int64) with dy moved back into it.
        // SliceGrad(dy, shape, starts, ends[, axes[, steps]]): dy written where Slice(x, starts, ...) read x.
        define(DOMAIN, "SliceGrad").inputs(4, 6).outputs(1).category(INJECTIVE)
                .infer(c -> ShapeGradients.inferBack(c, -1)).register();
        // GatherGrad(dy, shape, indices), axis: dy's slices added at the gathered rows (repeated indices sum).
        define(DOMAIN, "GatherGrad").inputs(3).outputs(1).attr("axis", 0L).category(OPAQUE)
                .infer(c -> ShapeGradients.inferBack(c, 2)).register();
        // PadGrad(dy, shape, pads[, axes]), mode: each element of x gets the sum of dy over the outputs that read it.
        define(DOMAIN, "PadGrad").inputs(3, 4).outputs(1).attr("mode", "constant").category(OPAQUE)
                .infer(c -> ShapeGradients.inferBack(c, -1)).register();
        // ResizeGrad(dy, shape[, roi[, scales[, sizes]]]), Resize's attributes: each element of x gets dy times the
        // weight with which each output read it, summed (the transpose of the interpolation).
        define(DOMAIN, "ResizeGrad").inputs(2, 5).outputs(1).attr("antialias", 0L).optional("axes", Attr.Kind.INTS)
                .attr("coordinate_transformation_mode", "half_pixel").attr("cubic_coeff_a", -0.75f)
                .attr("exclude_outside", 0L).attr("extrapolation_value", 0f)
                .attr("keep_aspect_ratio_policy", "stretch").attr("mode", "nearest")
                .attr("nearest_mode", "round_prefer_floor").category(OPAQUE)
                .infer(c -> ShapeGradients.inferBack(c, -1)).register();

        // --- pattern fusions (elementwise helper) ---
        // Made by the fuse-patterns pass (passes/.../fuse) from what exporters decompose; types in FusedOpTypes.
        // FusedMatMul(A, B[, bias]): act(A @ op(B) + bias), bias broadcast into the product's shape; op(B) = B, or
        // B^T for a matrix B [n, k] when transB = 1 (a weight used transposed, read in place instead of copied).
        define(DOMAIN, "FusedMatMul").inputs(2, 3).outputs(1).attr("activation", "none")
                .attr("activation_alpha", 0.01f).attr("transB", 0L).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(FusedOpTypes::matMul).register();
        // FusedGemm(A, B[, C]): act(alpha A' B' + beta C), attributes as Gemm's.
        define(DOMAIN, "FusedGemm").inputs(2, 3).outputs(1).attr("alpha", 1.0f).attr("beta", 1.0f)
                .attr("transA", 0L).attr("transB", 0L).attr("activation", "none").attr("activation_alpha", 0.01f)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(FusedOpTypes::gemm).register();
        // FusedConv(X, W[, B]): act(conv(X, W) + B), attributes as Conv's; with pool = max or average and
        // pool_kernel = [ph, pw] (a 2-D convolution only), then MaxPool or AveragePool {kernel_shape = strides =
        // pool_kernel}, unpadded, floor mode, of that.
        define(DOMAIN, "FusedConv").inputs(2, 3).outputs(1).attr("auto_pad", "NOTSET")
                .optional("dilations", dev.gale.ir.Attr.Kind.INTS).attr("group", 1L)
                .optional("kernel_shape", dev.gale.ir.Attr.Kind.INTS).optional("pads", dev.gale.ir.Attr.Kind.INTS)
                .optional("strides", dev.gale.ir.Attr.Kind.INTS).attr("activation", "none")
                .attr("activation_alpha", 0.01f).attr("pool", "none").optional("pool_kernel", dev.gale.ir.Attr.Kind.INTS)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(FusedOpTypes::conv).register();
        // Attention(Q, K, V[, mask]): softmax(scale Q K^T + mask, last axis) V; K given as K^T when key_transposed.
        define(DOMAIN, "Attention").inputs(3, 4).outputs(1).required("scale", dev.gale.ir.Attr.Kind.FLOAT)
                .attr("key_transposed", 0L).category(OPAQUE).infer(FusedOpTypes::attention).register();

        // --- kernel (control helper) ---
        // Kernel(inputs...) -> outputs...: a group of nodes fused by partitioning. `body` is a closed graph (it reads
        // only its own inputs) taking the node's inputs and giving its outputs in order; `pattern` says how it was
        // fused ("elementwise", "reduction", "matmul+epilogue", ...) and `name` names the kernel. The outputs have
        // the body's output types for the node's input types.
        define(DOMAIN, "Kernel").inputs(0, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC)
                .required("body", dev.gale.ir.Attr.Kind.GRAPH).attr("pattern", "").attr("name", "").category(OPAQUE)
                .infer(c -> {
                    dev.gale.ir.Graph body = c.attrGraph("body");
                    if (body.inputs().size() != c.numInputs() || body.outputs().size() != c.numOutputs())
                        throw c.error("the body takes " + body.inputs().size() + " inputs and gives "
                                + body.outputs().size() + " outputs, but the node has " + c.numInputs()
                                + " inputs and " + c.numOutputs() + " outputs");
                    List<Type> in = new ArrayList<>();
                    Map<String, Tensor> known = new HashMap<>();
                    for (int i = 0; i < c.numInputs(); i++) {
                        in.add(c.inputType(i));
                        if (c.constant(i) != null) known.put(body.inputs().get(i).name(), c.constant(i));
                    }
                    return NestedGraphs.outputTypes(body, in, known, c, "the kernel body");
                }).register();
    }

    /** The shape held by constant input {@code i}, or a shape of unknown dims when only its length is known. */
    static Shape shapeFromConstant(InferContext c, int i) {
        Tensor t = c.constant(i);
        if (t != null) {
            List<Dim> d = new ArrayList<>();
            for (long v : t.toLongArray()) d.add(Dim.of(v));
            return new Shape(d);
        }
        Shape s = c.shape(i);
        if (s == null || s.rank() != 1 || !s.dim(0).isFixed()) return null;
        List<Dim> d = new ArrayList<>();
        for (int k = 0; k < s.dim(0).sizeOr(0); k++) d.add(Dim.UNKNOWN);
        return new Shape(d);
    }
}
