package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: random generators. A {@code seed} attribute makes a node's draws repeat from run to run; without
 * it they come from the backend's own seeded source. No value-for-value agreement with other runtimes is promised.
 */
final class RandomOps {
    private RandomOps() {}

    static void register() {
        define("RandomUniform").inputs(0).outputs(1).category(OPAQUE).attr("dtype", 1L).attr("high", 1.0f)
                .attr("low", 0.0f).optional("seed", Attr.Kind.FLOAT).required("shape", Attr.Kind.INTS)
                .infer(RandomOps::inferFromShape).register();
        define("RandomNormal").inputs(0).outputs(1).category(OPAQUE).attr("dtype", 1L).attr("mean", 0.0f)
                .attr("scale", 1.0f).optional("seed", Attr.Kind.FLOAT).required("shape", Attr.Kind.INTS)
                .infer(RandomOps::inferFromShape).register();
        define("RandomUniformLike").inputs(1).outputs(1).category(OPAQUE).optional("dtype", Attr.Kind.INT)
                .attr("high", 1.0f).attr("low", 0.0f).optional("seed", Attr.Kind.FLOAT)
                .infer(c -> like(c, true)).register();
        define("RandomNormalLike").inputs(1).outputs(1).category(OPAQUE).optional("dtype", Attr.Kind.INT)
                .attr("mean", 0.0f).attr("scale", 1.0f).optional("seed", Attr.Kind.FLOAT)
                .infer(c -> like(c, true)).register();
        define("Bernoulli").inputs(1).outputs(1).category(OPAQUE).optional("dtype", Attr.Kind.INT)
                .optional("seed", Attr.Kind.FLOAT).infer(RandomOps::inferBernoulli).register();
        define("Multinomial").inputs(1).outputs(1).category(OPAQUE).attr("dtype", 6L).attr("sample_size", 1L)
                .optional("seed", Attr.Kind.FLOAT).infer(RandomOps::inferMultinomial).register();
    }

    private static DType floatDtype(InferContext c, long code) {
        DType t = DType.fromOnnx((int) code);
        if (!t.isFloat()) throw c.error("dtype must be a floating-point type, got " + t);
        return t;
    }

    private static List<Type> inferFromShape(InferContext c) {
        long[] shape = c.attrInts("shape");
        for (long d : shape) if (d < 0) throw c.error("shape " + java.util.Arrays.toString(shape) + " has a negative size");
        return List.of(Type.tensor(floatDtype(c, c.attrInt("dtype")), Shape.of(shape)));
    }

    /** The *Like ops: the input's shape; the dtype attribute's type, else the input's (which must then be float). */
    private static List<Type> like(InferContext c, boolean floatOnly) {
        Type.TensorType in = c.tensorInput(0);
        if (in == null) throw c.error("the type of input 0 is unknown");
        DType t = c.hasAttr("dtype") ? DType.fromOnnx((int) c.attrInt("dtype")) : in.dtype();
        if (floatOnly && !t.isFloat()) throw c.error("the output must be a floating-point type, got " + t);
        return List.of(Type.tensor(t, in.shape()));
    }

    private static List<Type> inferBernoulli(InferContext c) {
        if (!c.dtype(0).isFloat()) throw c.error("the probabilities must be floating-point, got " + c.dtype(0));
        return like(c, false);
    }

    private static List<Type> inferMultinomial(InferContext c) {
        if (!c.dtype(0).isFloat()) throw c.error("the input must be floating-point, got " + c.dtype(0));
        DType t = DType.fromOnnx((int) c.attrInt("dtype"));
        if (t != DType.INT32 && t != DType.INT64) throw c.error("dtype must be int32 or int64, got " + t);
        long samples = c.attrInt("sample_size");
        if (samples < 1) throw c.error("sample_size must be positive, got " + samples);
        Shape s = c.shape(0);
        if (s == null) return List.of(Type.tensor(t, Shape.of(dev.gale.ir.Dim.UNKNOWN, dev.gale.ir.Dim.of(samples))));
        if (s.rank() != 2) throw c.error("the input must be [batch_size, class_size], has shape " + s);
        return List.of(Type.tensor(t, Shape.of(s.dim(0), dev.gale.ir.Dim.of(samples))));
    }
}
