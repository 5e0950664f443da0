package dev.gale.backends.interp;

import dev.gale.ir.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Backward kernels of BatchNormalization, InstanceNormalization, GroupNormalization and LayerNormalization (the
 * {@code gale} ops BatchNormGrad, InstanceNormGrad, GroupNormGrad, LayerNormGrad). All four share one computation that
 * differs only in how elements map to statistics groups and to scale/bias entries; statistics are recomputed from X
 * in float64 with the forward kernels' two-pass formula.
 */
final class NormGradKernels {
    private NormGradKernels() {}

    /**
     * Backward of y = (x - mean_g) inv_g scale_p + b_p, where element i belongs to statistics group g(i) and
     * parameter p(i), and inv_g = 1 / sqrt(var_g + eps). With the statistics taken from x itself
     * ({@code given == null}): dx = inv (h - mean_g(h) - xhat mean_g(h xhat)) for h = dy scale; with given statistics
     * dx = inv h. dscale_p = sum of dy xhat, db_p = sum of dy over the elements of p.
     *
     * @param given mean and variance per group ({@code {mean, var}}), or null to compute them from x
     */
    private static List<Object> normBackward(KernelCall c, Tensor dy, Tensor x, Tensor scale, int[] group, int groups,
                                             int[] param, double[][] given, int outputs) {
        NnGradKernels.requireShape(c, dy, x.shape(), "the incoming gradient");
        if (x.dtype() != dy.dtype()) throw c.error("X has element type " + x.dtype() + ", the gradient " + dy.dtype());
        NnKernels.requireFloat(c, scale, "scale");
        double eps = c.attrFloat("epsilon");
        double[] xd = x.toDoubleArray(), g = dy.toDoubleArray(), sd = scale.toDoubleArray();
        double[] mean = new double[groups], var = new double[groups], count = new double[groups];
        for (int i = 0; i < xd.length; i++) count[group[i]]++;
        if (given == null) {
            for (int i = 0; i < xd.length; i++) mean[group[i]] += xd[i];
            for (int k = 0; k < groups; k++) mean[k] /= count[k];
            for (int i = 0; i < xd.length; i++) {
                double d = xd[i] - mean[group[i]];
                var[group[i]] += d * d;
            }
            for (int k = 0; k < groups; k++) var[k] /= count[k];
        } else {
            mean = given[0];
            var = given[1];
        }
        double[] inv = new double[groups], sumH = new double[groups], sumHx = new double[groups];
        for (int k = 0; k < groups; k++) inv[k] = 1 / Math.sqrt(var[k] + eps);
        double[] dScale = new double[sd.length], dB = new double[sd.length], xhat = new double[xd.length];
        for (int i = 0; i < xd.length; i++) {
            int k = group[i], p = param[i];
            xhat[i] = (xd[i] - mean[k]) * inv[k];
            dScale[p] += g[i] * xhat[i];
            dB[p] += g[i];
            double h = g[i] * sd[p];
            sumH[k] += h;
            sumHx[k] += h * xhat[i];
        }
        double[] dx = new double[xd.length];
        for (int i = 0; i < xd.length; i++) {
            int k = group[i];
            double h = g[i] * sd[param[i]];
            dx[i] = given == null ? inv[k] * (h - sumH[k] / count[k] - xhat[i] * sumHx[k] / count[k]) : inv[k] * h;
        }
        Tensor tdx = NnKernels.fromDoubles(dy.dtype(), x.shape(), dx);
        Tensor tds = NnKernels.fromDoubles(scale.dtype(), scale.shape(), dScale);
        if (outputs == 2) return List.of(tdx, tds);
        return List.of(tdx, tds, NnKernels.fromDoubles(scale.dtype(), scale.shape(), dB));
    }

    /** Channels-first input [N, C, ...]: {N, C, plane size}. */
    private static int[] planes(KernelCall c, Tensor x) {
        NnKernels.requireFloat(c, x, "X");
        if (x.rank() < 2) throw c.error("X must have rank at least 2 (N, C, ...), got " + Arrays.toString(x.shape()));
        int n = Math.toIntExact(x.dim(0)), ch = Math.toIntExact(x.dim(1));
        return new int[] {n, ch, n == 0 || ch == 0 ? 0 : x.numel() / (n * ch)};
    }

    private static Tensor vector(KernelCall c, int i, long length, String name) {
        Tensor t = c.required(i);
        if (t.rank() != 1 || t.dim(0) != length)
            throw c.error(name + " must have shape [" + length + "], got " + Arrays.toString(t.shape()));
        return t;
    }

    /** BatchNormGrad(dY, X, scale, mean, var): per-channel statistics, from the batch when training_mode=1. */
    static List<Object> batchNormGrad(KernelCall c) {
        Tensor dy = NnGradKernels.gradient(c), x = c.required(1);
        int[] d = planes(c, x);
        int ch = d[1], plane = d[2];
        Tensor scale = vector(c, 2, ch, "scale");
        int[] channel = new int[x.numel()];
        for (int i = 0; i < channel.length; i++) channel[i] = (i / plane) % ch;
        double[][] given = c.attrInt("training_mode") != 0 ? null
                : new double[][] {vector(c, 3, ch, "mean").toDoubleArray(), vector(c, 4, ch, "var").toDoubleArray()};
        return normBackward(c, dy, x, scale, channel, ch, channel, given, 3);
    }

    /** InstanceNormGrad(dY, X, scale): statistics per (n, c) plane, parameters per channel. */
    static List<Object> instanceNormGrad(KernelCall c) {
        Tensor dy = NnGradKernels.gradient(c), x = c.required(1);
        int[] d = planes(c, x);
        int ch = d[1], plane = d[2];
        Tensor scale = vector(c, 2, ch, "scale");
        int[] group = new int[x.numel()], param = new int[x.numel()];
        for (int i = 0; i < group.length; i++) {
            group[i] = i / plane;
            param[i] = group[i] % ch;
        }
        return normBackward(c, dy, x, scale, group, d[0] * ch, param, null, 3);
    }

    /** GroupNormGrad(dY, X, scale): statistics per (n, group); parameters per group or per channel. */
    static List<Object> groupNormGrad(KernelCall c) {
        Tensor dy = NnGradKernels.gradient(c), x = c.required(1);
        int[] d = planes(c, x);
        int ch = d[1], plane = d[2];
        long groups = c.attrInt("num_groups");
        if (groups < 1 || ch % groups != 0)
            throw c.error(ch + " channels cannot be split into num_groups=" + groups + " groups");
        long len = c.required(2).numel();
        if (len != groups && len != ch)
            throw c.error("scale must have num_groups (" + groups + ") or C (" + ch + ") values, got " + len);
        Tensor scale = vector(c, 2, len, "scale");
        int perGroup = (int) (ch / groups), size = perGroup * plane;
        int[] group = new int[x.numel()], param = new int[x.numel()];
        for (int i = 0; i < group.length; i++) {
            group[i] = i / size;
            param[i] = len == ch ? (i / plane) % ch : (int) (group[i] % groups);
        }
        return normBackward(c, dy, x, scale, group, (int) (d[0] * groups), param, null, 3);
    }

    /** LayerNormGrad(dY, X, scale) -> (dX, dScale): statistics over the axes from `axis` on; Scale broadcasts to X. */
    static List<Object> layerNormGrad(KernelCall c) {
        Tensor dy = NnGradKernels.gradient(c), x = c.required(1), scale = c.required(2);
        NnKernels.requireFloat(c, x, "X");
        int r = x.rank();
        long axisAttr = c.attrInt("axis");
        long a = axisAttr < 0 ? axisAttr + r : axisAttr;
        if (a < 0 || a >= r) throw c.error("axis " + axisAttr + " is out of range for rank " + r);
        long[] shape = x.shape(), ss = scale.shape();
        boolean ok = ss.length <= shape.length;
        for (int i = 0; ok && i < ss.length; i++) ok = ss[i] == 1 || ss[i] == shape[shape.length - ss.length + i];
        if (!ok) throw c.error("Scale of shape " + Arrays.toString(ss) + " does not broadcast to " + Arrays.toString(shape));
        int inner = Tensor.checkedNumel(Arrays.copyOfRange(shape, (int) a, r));
        int[] group = new int[x.numel()];
        for (int i = 0; i < group.length; i++) group[i] = i / inner;
        return normBackward(c, dy, x, scale, group, inner == 0 ? 0 : x.numel() / inner,
                Broadcast.indexMap(shape, ss), null, 2);
    }
}
