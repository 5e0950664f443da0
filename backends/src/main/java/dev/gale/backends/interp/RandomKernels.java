package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Random;
import java.util.function.DoubleSupplier;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: random generators. A node with a {@code seed} attribute draws from its own generator seeded
 * by it, so its values repeat on every run; other nodes share the interpreter's seeded source. Values are not those
 * of numpy or ONNX Runtime: only the shapes, types and distributions agree.
 */
final class RandomKernels {
    private RandomKernels() {}

    static void registerAll() {
        register("RandomUniform", Kernel.single(c -> uniform(c, outType(c, DType.FLOAT32, null), c.attrInts("shape"))));
        register("RandomNormal", Kernel.single(c -> normal(c, outType(c, DType.FLOAT32, null), c.attrInts("shape"))));
        register("RandomUniformLike", Kernel.single(c -> uniform(c, outType(c, null, c.required(0)), c.required(0).shape())));
        register("RandomNormalLike", Kernel.single(c -> normal(c, outType(c, null, c.required(0)), c.required(0).shape())));
        register("Bernoulli", Kernel.single(RandomKernels::bernoulli));
        register("Multinomial", Kernel.single(RandomKernels::multinomial));
    }

    /** The node's generator: its own when it has a seed, else the interpreter's. */
    private static Random rng(KernelCall c) {
        return c.hasAttr("seed") ? new Random(Double.doubleToLongBits(c.attrFloat("seed"))) : c.rng();
    }

    /** The dtype attribute's type, else that of {@code like}, else {@code fallback}. */
    private static DType outType(KernelCall c, DType fallback, Tensor like) {
        if (c.attr("dtype") != null) return DType.fromOnnx((int) c.attrInt("dtype"));
        return like != null ? like.dtype() : fallback;
    }

    private static Tensor fill(DType t, long[] shape, DoubleSupplier draw, KernelCall c) {
        if (!t.isFloat()) throw c.error("random values need a floating-point dtype, got " + t);
        Tensor out = Tensor.zeros(t, shape);
        for (int i = 0; i < out.numel(); i++) out.setDouble(i, draw.getAsDouble());
        return out;
    }

    private static Tensor uniform(KernelCall c, DType t, long[] shape) {
        Random r = rng(c);
        double low = c.attrFloat("low"), high = c.attrFloat("high");
        return fill(t, shape, () -> low + (high - low) * r.nextDouble(), c);
    }

    private static Tensor normal(KernelCall c, DType t, long[] shape) {
        Random r = rng(c);
        double mean = c.attrFloat("mean"), scale = c.attrFloat("scale");
        return fill(t, shape, () -> mean + scale * r.nextGaussian(), c);
    }

    /** 1 with probability p (the input element), else 0, in the dtype attribute's type (default: the input's). */
    private static Tensor bernoulli(KernelCall c) {
        Tensor p = c.required(0);
        Random r = rng(c);
        Tensor out = Tensor.zeros(outType(c, null, p), p.shape());
        for (int i = 0; i < p.numel(); i++) {
            double pi = p.getDouble(i);
            if (!(pi >= 0 && pi <= 1)) throw c.error("probability " + pi + " at index " + i + " is outside [0, 1]");
            out.setDouble(i, r.nextDouble() < pi ? 1 : 0);
        }
        return out;
    }

    /**
     * Input [batch, classes] of unnormalized log-probabilities; output [batch, sample_size] of class indices drawn
     * with probability softmax(row), by inverting the cumulative distribution.
     */
    private static Tensor multinomial(KernelCall c) {
        Tensor x = c.required(0);
        if (x.rank() != 2) throw c.error("the input must be [batch_size, class_size], has rank " + x.rank());
        int batch = (int) x.dim(0), classes = (int) x.dim(1);
        int samples = (int) c.attrInt("sample_size");
        Random r = rng(c);
        Tensor out = Tensor.zeros(DType.fromOnnx((int) c.attrInt("dtype")), batch, samples);
        double[] cdf = new double[classes];
        for (int b = 0; b < batch; b++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) max = Math.max(max, x.getDouble(b * classes + k));
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += Math.exp(x.getDouble(b * classes + k) - max);
                cdf[k] = sum;
            }
            for (int s = 0; s < samples; s++) {
                double u = r.nextDouble() * sum;
                int k = 0;
                while (k < classes - 1 && cdf[k] <= u) k++;
                out.setLong(b * samples + s, k);
            }
        }
        return out;
    }
}
