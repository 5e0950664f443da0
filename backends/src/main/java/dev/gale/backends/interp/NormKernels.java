package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Arrays;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels for normalization: BatchNormalization (inference and training), InstanceNormalization,
 * LayerNormalization, GroupNormalization, LRN and MeanVarianceNormalization. Means and variances (the population
 * variance, as ONNX defines them) are computed in float64.
 */
final class NormKernels {
    private NormKernels() {}

    static void registerAll() {
        register("BatchNormalization", NormKernels::batchNorm);
        register("InstanceNormalization", Kernel.single(NormKernels::instanceNorm));
        register("LayerNormalization", NormKernels::layerNorm);
        register("GroupNormalization", Kernel.single(NormKernels::groupNorm));
        register("LRN", Kernel.single(NormKernels::lrn));
        register("MeanVarianceNormalization", Kernel.single(NormKernels::meanVarianceNorm));
    }

    /** Checks a per-channel vector operand and returns it in float64. */
    private static double[] vector(KernelCall c, int i, long length, String name) {
        Tensor t = c.required(i);
        if (t.rank() != 1 || t.dim(0) != length)
            throw c.error(name + " must have shape [" + length + "], got " + Arrays.toString(t.shape()));
        return t.toDoubleArray();
    }

    private static Tensor channelsFirst(KernelCall c) {
        Tensor x = c.required(0);
        NnKernels.requireFloat(c, x, "X");
        if (x.rank() < 2) throw c.error("X must have rank at least 2 (N, C, ...), got " + Arrays.toString(x.shape()));
        return x;
    }

    /** Mean and population variance of {@code n} elements of {@code x} from {@code base} with the given stride. */
    private static double[] moments(double[] x, int base, int n, int stride) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[base + i * stride];
        double mean = s / n, v = 0;
        for (int i = 0; i < n; i++) {
            double d = x[base + i * stride] - mean;
            v += d * d;
        }
        return new double[] {mean, v / n};
    }

    // training_mode=0: y = (x - mean) / sqrt(var + eps) * scale + B with the given statistics.
    // training_mode=1: the batch's statistics normalize; running = input * momentum + batch * (1 - momentum).
    private static List<Object> batchNorm(KernelCall c) {
        Tensor x = channelsFirst(c);
        int n = (int) x.dim(0), ch = (int) x.dim(1), plane = ch == 0 || n == 0 ? 0 : x.numel() / (n * ch);
        double[] scale = vector(c, 1, ch, "scale"), bias = vector(c, 2, ch, "B");
        double[] mean = vector(c, 3, ch, "input_mean"), var = vector(c, 4, ch, "input_var");
        double eps = c.attrFloat("epsilon"), momentum = c.attrFloat("momentum");
        boolean training = c.attrInt("training_mode") != 0;
        double[] xd = x.toDoubleArray(), y = new double[xd.length];
        double[] useMean = mean, useVar = var;
        if (training) {
            useMean = new double[ch];
            useVar = new double[ch];
            for (int k = 0; k < ch; k++) {
                double s = 0;
                for (int b = 0; b < n; b++) for (int i = 0; i < plane; i++) s += xd[(b * ch + k) * plane + i];
                double m = s / ((double) n * plane), v = 0;
                for (int b = 0; b < n; b++) {
                    for (int i = 0; i < plane; i++) {
                        double d = xd[(b * ch + k) * plane + i] - m;
                        v += d * d;
                    }
                }
                useMean[k] = m;
                useVar[k] = v / ((double) n * plane);
            }
        }
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < ch; k++) {
                double inv = 1 / Math.sqrt(useVar[k] + eps);
                for (int i = 0; i < plane; i++) {
                    int at = (b * ch + k) * plane + i;
                    y[at] = (xd[at] - useMean[k]) * inv * scale[k] + bias[k];
                }
            }
        }
        Tensor out = NnKernels.fromDoubles(x.dtype(), x.shape(), y);
        if (!training) return List.of(out);
        double[] runMean = new double[ch], runVar = new double[ch];
        for (int k = 0; k < ch; k++) {
            runMean[k] = mean[k] * momentum + useMean[k] * (1 - momentum);
            runVar[k] = var[k] * momentum + useVar[k] * (1 - momentum);
        }
        DType stats = c.required(3).dtype();
        return List.of(out, NnKernels.fromDoubles(stats, new long[] {ch}, runMean),
                NnKernels.fromDoubles(c.required(4).dtype(), new long[] {ch}, runVar));
    }

    // Each (n, c) plane normalized by its own mean and variance, then scaled and shifted per channel.
    private static Tensor instanceNorm(KernelCall c) {
        Tensor x = channelsFirst(c);
        int n = (int) x.dim(0), ch = (int) x.dim(1), plane = ch == 0 || n == 0 ? 0 : x.numel() / (n * ch);
        double[] scale = vector(c, 1, ch, "scale"), bias = vector(c, 2, ch, "B");
        double eps = c.attrFloat("epsilon");
        double[] xd = x.toDoubleArray(), y = new double[xd.length];
        for (int p = 0; p < n * ch; p++) {
            double[] mv = moments(xd, p * plane, plane, 1);
            double inv = 1 / Math.sqrt(mv[1] + eps);
            int k = p % ch;
            for (int i = 0; i < plane; i++) y[p * plane + i] = (xd[p * plane + i] - mv[0]) * inv * scale[k] + bias[k];
        }
        return NnKernels.fromDoubles(x.dtype(), x.shape(), y);
    }

    // Normalizes over the axes from `axis` on; Scale and B broadcast to X one way. Mean and InvStdDev keep X's rank
    // with the normalized axes of size 1, in the stash_type element type.
    private static List<Object> layerNorm(KernelCall c) {
        Tensor x = c.required(0), scale = c.required(1), bias = c.in(2);
        NnKernels.requireFloat(c, x, "X");
        int r = x.rank();
        long axisAttr = c.attrInt("axis");
        long a = axisAttr < 0 ? axisAttr + r : axisAttr;
        if (a < 0 || a >= r) throw c.error("axis " + axisAttr + " is out of range for rank " + r);
        int axis = (int) a;
        long[] shape = x.shape();
        int inner = Tensor.checkedNumel(Arrays.copyOfRange(shape, axis, r));
        int outer = inner == 0 ? 0 : x.numel() / inner;
        int[] is = unidirectional(c, shape, scale, "Scale"), ib = bias == null ? null : unidirectional(c, shape, bias, "B");
        double eps = c.attrFloat("epsilon");
        double[] xd = x.toDoubleArray(), y = new double[xd.length], means = new double[outer], invs = new double[outer];
        for (int o = 0; o < outer; o++) {
            double[] mv = moments(xd, o * inner, inner, 1);
            double inv = 1 / Math.sqrt(mv[1] + eps);
            means[o] = mv[0];
            invs[o] = inv;
            for (int i = o * inner; i < (o + 1) * inner; i++)
                y[i] = (xd[i] - mv[0]) * inv * scale.getDouble(is[i]) + (ib == null ? 0 : bias.getDouble(ib[i]));
        }
        DType stash = DType.fromOnnx((int) c.attrInt("stash_type"));
        long[] reduced = shape.clone();
        for (int k = axis; k < r; k++) reduced[k] = 1;
        return List.of(NnKernels.fromDoubles(x.dtype(), shape, y), NnKernels.fromDoubles(stash, reduced, means),
                NnKernels.fromDoubles(stash, reduced, invs));
    }

    private static int[] unidirectional(KernelCall c, long[] shape, Tensor t, String name) {
        long[] ts = t.shape();
        boolean ok = ts.length <= shape.length;
        for (int i = 0; ok && i < ts.length; i++) ok = ts[i] == 1 || ts[i] == shape[shape.length - ts.length + i];
        if (!ok) throw c.error(name + " of shape " + Arrays.toString(ts) + " does not broadcast to " + Arrays.toString(shape));
        return Broadcast.indexMap(shape, ts);
    }

    // Channels split into num_groups groups; each (n, group) normalized together. Scale and bias hold one value per
    // group (opset 18) or one per channel (the later form); both agree when there are as many groups as channels.
    private static Tensor groupNorm(KernelCall c) {
        Tensor x = channelsFirst(c);
        int n = (int) x.dim(0), ch = (int) x.dim(1), plane = ch == 0 || n == 0 ? 0 : x.numel() / (n * ch);
        long groups = c.attrInt("num_groups");
        if (groups < 1 || ch % groups != 0)
            throw c.error(ch + " channels cannot be split into num_groups=" + groups + " groups");
        int perGroup = (int) (ch / groups);
        long len = c.required(1).numel();
        if (len != groups && len != ch)
            throw c.error("scale must have num_groups (" + groups + ") or C (" + ch + ") values, got " + len);
        double[] scale = vector(c, 1, len, "scale"), bias = vector(c, 2, len, "bias");
        boolean perChannel = len == ch;
        double eps = c.attrFloat("epsilon");
        double[] xd = x.toDoubleArray(), y = new double[xd.length];
        int size = perGroup * plane;
        for (int p = 0; p < n * groups; p++) {
            double[] mv = moments(xd, p * size, size, 1);
            double inv = 1 / Math.sqrt(mv[1] + eps);
            int g = (int) (p % groups);
            for (int i = 0; i < size; i++) {
                int k = perChannel ? g * perGroup + i / Math.max(plane, 1) : g;
                y[p * size + i] = (xd[p * size + i] - mv[0]) * inv * scale[k] + bias[k];
            }
        }
        return NnKernels.fromDoubles(x.dtype(), x.shape(), y);
    }

    // y = x / (bias + alpha / size * sum of x^2 over the channels c - floor((size-1)/2) .. c + ceil((size-1)/2))^beta
    private static Tensor lrn(KernelCall c) {
        Tensor x = channelsFirst(c);
        long size = c.attrInt("size");
        if (size < 1) throw c.error("size must be positive, got " + size);
        double alpha = c.attrFloat("alpha"), beta = c.attrFloat("beta"), bias = c.attrFloat("bias");
        int n = (int) x.dim(0), ch = (int) x.dim(1), plane = ch == 0 || n == 0 ? 0 : x.numel() / (n * ch);
        int before = (int) ((size - 1) / 2), after = (int) (size - 1 - before);
        double[] xd = x.toDoubleArray(), y = new double[xd.length];
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < ch; k++) {
                for (int i = 0; i < plane; i++) {
                    double sq = 0;
                    for (int j = Math.max(0, k - before); j <= Math.min(ch - 1, k + after); j++) {
                        double v = xd[(b * ch + j) * plane + i];
                        sq += v * v;
                    }
                    int at = (b * ch + k) * plane + i;
                    y[at] = xd[at] / Math.pow(bias + alpha / size * sq, beta);
                }
            }
        }
        return NnKernels.fromDoubles(x.dtype(), x.shape(), y);
    }

    // y = (x - mean) / (sqrt(var) + 1e-9), mean and variance over `axes` (the ONNX function body's epsilon).
    private static Tensor meanVarianceNorm(KernelCall c) {
        Tensor x = c.required(0);
        NnKernels.requireFloat(c, x, "X");
        long[] shape = x.shape(), reduced = shape.clone();
        for (long axis : c.attrInts("axes")) reduced[Broadcast.axis(axis, shape.length)] = 1;
        int[] group = Broadcast.indexMap(shape, reduced);
        int groups = Tensor.checkedNumel(reduced);
        double[] xd = x.toDoubleArray(), sum = new double[groups], sq = new double[groups], y = new double[xd.length];
        int[] count = new int[groups];
        for (int i = 0; i < xd.length; i++) {
            sum[group[i]] += xd[i];
            count[group[i]]++;
        }
        for (int i = 0; i < xd.length; i++) {
            double d = xd[i] - sum[group[i]] / count[group[i]];
            sq[group[i]] += d * d;
        }
        for (int i = 0; i < xd.length; i++) {
            int g = group[i];
            y[i] = (xd[i] - sum[g] / count[g]) / (Math.sqrt(sq[g] / count[g]) + 1e-9);
        }
        return NnKernels.fromDoubles(x.dtype(), shape, y);
    }
}
