package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.GaleOps.DOMAIN;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries of the {@code gale} domain for the backward pass of the neural-network family (registered from
 * {@link GaleOps}; their rules are in {@link NnGradients}). Each takes the incoming gradient first and the forward
 * node's attributes unchanged; where the result's shape is not that of an operand at hand it comes as an int64 shape
 * input (a constant when known at compile time).
 */
final class NnGradOps {
    private NnGradOps() {}

    static void register() {
        // ConvGradInput(dY, W, x_shape) / ConvGradWeight(dY, X, w_shape), Conv's attributes: d loss / d X and d W.
        conv(define(DOMAIN, "ConvGradInput")).infer(c -> shaped(c, 2)).register();
        conv(define(DOMAIN, "ConvGradWeight")).infer(c -> shaped(c, 2)).register();
        // The same for ConvTranspose (its attributes, output_padding and output_shape included).
        conv(define(DOMAIN, "ConvTransposeGradInput")).optional("output_padding", Attr.Kind.INTS)
                .optional("output_shape", Attr.Kind.INTS).infer(c -> shaped(c, 2)).register();
        conv(define(DOMAIN, "ConvTransposeGradWeight")).optional("output_padding", Attr.Kind.INTS)
                .optional("output_shape", Attr.Kind.INTS).infer(c -> shaped(c, 2)).register();

        // MaxPoolGrad(dY, X), MaxPool's attributes: dY goes to the first maximum of each window (PyTorch's choice).
        window(define(DOMAIN, "MaxPoolGrad")).attr("storage_order", 0L).infer(c -> like(c, 1)).register();
        // AveragePoolGrad(dY, x_shape), AveragePool's attributes: dY / divisor spread over each window.
        window(define(DOMAIN, "AveragePoolGrad")).attr("count_include_pad", 0L).infer(c -> shaped(c, 1)).register();
        // GlobalMaxPoolGrad(dY, X): dY goes to the first maximum of each (n, c) plane.
        define(DOMAIN, "GlobalMaxPoolGrad").inputs(2).outputs(1).category(OPAQUE).infer(c -> like(c, 1)).register();

        // Normalization backward: (dX, dScale, dB) from dY, X and Scale; statistics are recomputed from X.
        // BatchNormGrad(dY, X, scale, mean, var): training_mode=1 differentiates through the batch statistics,
        // training_mode=0 treats the given mean and var as constants.
        define(DOMAIN, "BatchNormGrad").inputs(5).outputs(3).attr("epsilon", 1e-5f).attr("training_mode", 0L)
                .category(OPAQUE).infer(NnGradOps::normGrad).register();
        define(DOMAIN, "InstanceNormGrad").inputs(3).outputs(3).attr("epsilon", 1e-5f)
                .category(OPAQUE).infer(NnGradOps::normGrad).register();
        define(DOMAIN, "GroupNormGrad").inputs(3).outputs(3).attr("epsilon", 1e-5f)
                .required("num_groups", Attr.Kind.INT).category(OPAQUE).infer(NnGradOps::normGrad).register();
        // LayerNormGrad(dY, X, scale) -> (dX, dScale); dB is dY summed to B's shape, which may differ from Scale's.
        define(DOMAIN, "LayerNormGrad").inputs(3).outputs(2).attr("axis", -1L).attr("epsilon", 1e-5f)
                .category(OPAQUE).infer(NnGradOps::normGrad).register();

        // DropoutGrad(dY, ratio, training_mode): Dropout without its mask output; identity unless the node trains,
        // which is an error (the mask is needed), at compile time when training_mode is a constant.
        define(DOMAIN, "DropoutGrad").inputs(1, 3).outputs(1).category(ELEMENTWISE).infer(c -> {
            Tensor training = c.constant(2), ratio = c.constant(1);
            if (training != null && training.numel() == 1 && training.getBool(0)
                    && (!c.hasInput(1) || ratio == null || ratio.numel() != 1 || ratio.getDouble(0) != 0))
                throw c.error(dropoutWithoutMask());
            return List.of(c.inputType(0));
        }).register();
    }

    static String dropoutWithoutMask() {
        return "Dropout runs in training mode but its mask output is not in the graph, so its gradient cannot be"
                + " computed; export the model with the mask output (PyTorch does in training mode) or set"
                + " training_mode to false";
    }

    private static OpSchema conv(OpSchema s) {
        return s.inputs(3).outputs(1).attr("auto_pad", "NOTSET").optional("dilations", Attr.Kind.INTS)
                .attr("group", 1L).optional("kernel_shape", Attr.Kind.INTS).optional("pads", Attr.Kind.INTS)
                .optional("strides", Attr.Kind.INTS).category(OPAQUE);
    }

    private static OpSchema window(OpSchema s) {
        return s.inputs(2).outputs(1).attr("auto_pad", "NOTSET").attr("ceil_mode", 0L)
                .optional("dilations", Attr.Kind.INTS).required("kernel_shape", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS).category(OPAQUE);
    }

    private static DType floatGradient(InferContext c) {
        DType t = c.dtype(0);
        if (!t.isFloat()) throw c.error("the incoming gradient must be floating-point, got " + t);
        return t;
    }

    /** dY's element type, the shape held by int64 input {@code i}. */
    private static List<Type> shaped(InferContext c, int i) {
        DType t = floatGradient(c);
        if (c.dtype(i) != DType.INT64) throw c.error("input " + i + " must be an int64 shape, got " + c.dtype(i));
        return List.of(Type.tensor(t, GaleOps.shapeFromConstant(c, i)));
    }

    /** dY's element type, the shape of input {@code i}. */
    private static List<Type> like(InferContext c, int i) {
        DType t = floatGradient(c);
        Shape s = c.shape(i);
        return List.of(s == null ? Type.unranked(t) : Type.tensor(t, s));
    }

    /** dX like X; dScale (and dB) like Scale. */
    private static List<Type> normGrad(InferContext c) {
        DType t = floatGradient(c);
        if (c.dtype(1) != t) throw c.error("X has element type " + c.dtype(1) + ", the gradient " + t);
        Type dx = c.inputType(1), ds = c.inputType(2);
        return c.numOutputs() == 2 ? List.of(dx, ds) : List.of(dx, ds, ds);
    }
}
