package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ConvGeometry;
import dev.gale.ir.op.GaleOps;

import java.util.Arrays;
import java.util.List;

/**
 * Interpreter kernels for the neural-network family's backward helpers in the {@code gale} domain (registered from
 * {@link GaleKernels}): convolution, pooling and normalization gradients, and Dropout without a mask. They accept
 * any floating-point type, accumulate in float64 and round once to the incoming gradient's type.
 */
final class NnGradKernels {
    private NnGradKernels() {}

    private static void gale(String op, Kernel k) { Kernels.register(GaleOps.DOMAIN, op, k); }

    static void registerAll() {
        gale("ConvGradInput", Kernel.single(c -> convGrad(c, false, true)));
        gale("ConvGradWeight", Kernel.single(c -> convGrad(c, false, false)));
        gale("ConvTransposeGradInput", Kernel.single(c -> convGrad(c, true, true)));
        gale("ConvTransposeGradWeight", Kernel.single(c -> convGrad(c, true, false)));
        gale("MaxPoolGrad", Kernel.single(NnGradKernels::maxPoolGrad));
        gale("AveragePoolGrad", Kernel.single(NnGradKernels::averagePoolGrad));
        gale("GlobalMaxPoolGrad", Kernel.single(NnGradKernels::globalMaxPoolGrad));
        gale("BatchNormGrad", NnGradKernels::batchNormGrad);
        gale("InstanceNormGrad", NnGradKernels::instanceNormGrad);
        gale("GroupNormGrad", NnGradKernels::groupNormGrad);
        gale("LayerNormGrad", NnGradKernels::layerNormGrad);
        gale("DropoutGrad", Kernel.single(NnGradKernels::dropoutGrad));
    }

    private static Tensor gradient(KernelCall c) {
        Tensor dy = c.required(0);
        NnKernels.requireFloat(c, dy, "the incoming gradient");
        return dy;
    }

    private static void requireShape(KernelCall c, Tensor t, long[] shape, String what) {
        if (!Arrays.equals(t.shape(), shape))
            throw c.error(what + " has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
    }

    // ---- convolution

    /**
     * Conv and ConvTranspose relate a "small" tensor S [N, Cs, small...] and a "big" tensor B [N, Cb, big...] through
     * W [Cs, Cb / group, kernel...]: Conv gathers S = y from B = x, ConvTranspose scatters S = x into B = y.
     * {@code table[i * ks + k]} is the offset within a big plane that small position {@code i} meets through kernel
     * position {@code k}, negative where that falls into padding or outside.
     */
    private record Link(int n, int cs, int cb, int group, long[] small, long[] big, int ks, int[] table) {
        int smallSize() { return Tensor.checkedNumel(small); }

        int bigSize() { return Tensor.checkedNumel(big); }

        long[] smallShape() { return withNC(cs, small); }

        long[] bigShape() { return withNC(cb, big); }

        private long[] withNC(int ch, long[] spatial) {
            long[] s = new long[spatial.length + 2];
            s[0] = n;
            s[1] = ch;
            System.arraycopy(spatial, 0, s, 2, spatial.length);
            return s;
        }
    }

    private static Link link(KernelCall c, long[] xs, long[] ws, boolean transposed) {
        if (xs.length < 3) throw c.error("X must have rank at least 3 (N, C, spatial...), got " + Arrays.toString(xs));
        if (ws.length != xs.length)
            throw c.error("W has shape " + Arrays.toString(ws) + " but X has shape " + Arrays.toString(xs));
        long[] in = Arrays.copyOfRange(xs, 2, xs.length), kernel = Arrays.copyOfRange(ws, 2, ws.length);
        long[] kAttr = c.attrInts("kernel_shape");
        if (kAttr != null && !Arrays.equals(kAttr, kernel))
            throw c.error("kernel_shape " + Arrays.toString(kAttr) + " disagrees with W's shape " + Arrays.toString(ws));
        long group = c.attrInt("group");
        if (group < 1) throw c.error("group must be positive, got " + group);
        ConvGeometry.AutoPad autoPad = ConvGeometry.autoPad(c.attrString("auto_pad"), c::error);
        int n = Math.toIntExact(xs[0]), ks = Tensor.checkedNumel(kernel);
        if (!transposed) {
            if (xs[1] != ws[1] * group || ws[0] % group != 0)
                throw c.error("X has " + xs[1] + " channels, W has shape " + Arrays.toString(ws) + " with group " + group);
            ConvGeometry g = ConvGeometry.forward(in, kernel, c.attrInts("strides"), c.attrInts("dilations"),
                    c.attrInts("pads"), autoPad, false, c::error);
            return new Link(n, Math.toIntExact(ws[0]), Math.toIntExact(xs[1]), (int) group, g.out(), in, ks,
                    SlidingWindow.of(in, g).offsets);
        }
        if (xs[1] != ws[0] || xs[1] % group != 0)
            throw c.error("X has " + xs[1] + " channels, W has shape " + Arrays.toString(ws) + " with group " + group);
        ConvGeometry g = ConvGeometry.transposed(in, kernel, c.attrInts("strides"), c.attrInts("dilations"),
                c.attrInts("pads"), autoPad, c.attrInts("output_padding"), c.attrInts("output_shape"), c::error);
        return new Link(n, Math.toIntExact(xs[1]), Math.toIntExact(ws[1] * group), (int) group, in, g.out(), ks,
                ConvKernels.transposedTargets(in, g));
    }

    /**
     * ConvGradInput(dY, W, x_shape): scatters dY = dS through W into dX = dB. ConvGradWeight(dY, X, w_shape): dW from
     * S = dY and B = X. ConvTransposeGradInput(dY, W, x_shape): gathers dY = dB through W into dX = dS.
     * ConvTransposeGradWeight(dY, X, w_shape): dW from S = X and B = dY.
     */
    private static Tensor convGrad(KernelCall c, boolean transposed, boolean input) {
        Tensor dy = gradient(c), other = c.required(1);
        NnKernels.requireFloat(c, other, input ? "W" : "X");
        long[] given = c.required(2).toLongArray();
        long[] xs = input ? given : other.shape(), ws = input ? other.shape() : given;
        Link l = link(c, xs, ws, transposed);
        requireShape(c, dy, transposed ? l.bigShape() : l.smallShape(), "the incoming gradient");
        double[] g = dy.toDoubleArray(), o = other.toDoubleArray();
        if (!input) {
            double[] dw = transposed ? weightGrad(l, o, g) : weightGrad(l, g, o);
            return NnKernels.fromDoubles(dy.dtype(), ws, dw);
        }
        double[] dx = transposed ? gather(l, g, o) : scatter(l, g, o);
        return NnKernels.fromDoubles(dy.dtype(), xs, dx);
    }

    /** B[n, b, table(i, k)] += S[n, s, i] W[s, b - first, k] over the small channels s of b's group. */
    private static double[] scatter(Link l, double[] s, double[] w) {
        int csg = l.cs / l.group, cbg = l.cb / l.group, ss = l.smallSize(), bs = l.bigSize(), ks = l.ks;
        double[] b = new double[Math.multiplyExact(l.n, Math.multiplyExact(l.cb, bs))];
        for (int n = 0; n < l.n; n++) {
            for (int sc = 0; sc < l.cs; sc++) {
                int first = (sc / csg) * cbg, sBase = (n * l.cs + sc) * ss;
                for (int bi = 0; bi < cbg; bi++) {
                    int bBase = (n * l.cb + first + bi) * bs, wBase = (sc * cbg + bi) * ks;
                    for (int i = 0; i < ss; i++) {
                        double v = s[sBase + i];
                        for (int k = 0; k < ks; k++) {
                            int t = l.table[i * ks + k];
                            if (t >= 0) b[bBase + t] += v * w[wBase + k];
                        }
                    }
                }
            }
        }
        return b;
    }

    /** S[n, s, i] = sum over b in s's group and k of B[n, b, table(i, k)] W[s, b - first, k]. */
    private static double[] gather(Link l, double[] b, double[] w) {
        int csg = l.cs / l.group, cbg = l.cb / l.group, ss = l.smallSize(), bs = l.bigSize(), ks = l.ks;
        double[] s = new double[Math.multiplyExact(l.n, Math.multiplyExact(l.cs, ss))];
        for (int n = 0; n < l.n; n++) {
            for (int sc = 0; sc < l.cs; sc++) {
                int first = (sc / csg) * cbg, sBase = (n * l.cs + sc) * ss;
                for (int i = 0; i < ss; i++) {
                    double acc = 0;
                    for (int bi = 0; bi < cbg; bi++) {
                        int bBase = (n * l.cb + first + bi) * bs, wBase = (sc * cbg + bi) * ks;
                        for (int k = 0; k < ks; k++) {
                            int t = l.table[i * ks + k];
                            if (t >= 0) acc += b[bBase + t] * w[wBase + k];
                        }
                    }
                    s[sBase + i] = acc;
                }
            }
        }
        return s;
    }

    /** dW[s, bi, k] = sum over n and i of S[n, s, i] B[n, first + bi, table(i, k)]. */
    private static double[] weightGrad(Link l, double[] s, double[] b) {
        int csg = l.cs / l.group, cbg = l.cb / l.group, ss = l.smallSize(), bs = l.bigSize(), ks = l.ks;
        double[] dw = new double[Math.multiplyExact(l.cs, Math.multiplyExact(cbg, ks))];
        for (int sc = 0; sc < l.cs; sc++) {
            int first = (sc / csg) * cbg;
            for (int bi = 0; bi < cbg; bi++) {
                int wBase = (sc * cbg + bi) * ks;
                for (int n = 0; n < l.n; n++) {
                    int sBase = (n * l.cs + sc) * ss, bBase = (n * l.cb + first + bi) * bs;
                    for (int i = 0; i < ss; i++) {
                        double v = s[sBase + i];
                        for (int k = 0; k < ks; k++) {
                            int t = l.table[i * ks + k];
                            if (t >= 0) dw[wBase + k] += v * b[bBase + t];
                        }
                    }
                }
            }
        }
        return dw;
    }

    // ---- pooling

    /**
     * MaxPoolGrad(dY, X): each window's dY goes to its maximum; PyTorch's scan picks the first in-bounds position,
     * then any larger value, and a NaN always wins.
     */
    private static Tensor maxPoolGrad(KernelCall c) {
        Tensor dy = gradient(c), x = c.required(1);
        NnKernels.requireFloat(c, x, "X");
        PoolKernels.Pooled p = PoolKernels.geometry(c, x.shape());
        requireShape(c, dy, p.outShape(), "the incoming gradient");
        SlidingWindow win = p.win();
        double[] xd = x.toDoubleArray(), g = dy.toDoubleArray(), dx = new double[xd.length];
        for (int plane = 0; plane < p.planes(); plane++) {
            int base = plane * win.inSize;
            for (int o = 0; o < win.outSize; o++) {
                int arg = -1;
                double best = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < win.kernelSize; k++) {
                    int off = win.offsets[o * win.kernelSize + k];
                    if (off < 0) continue;
                    if (arg < 0) arg = off;
                    double v = xd[base + off];
                    if (v > best || Double.isNaN(v)) {
                        best = v;
                        arg = off;
                    }
                }
                if (arg >= 0) dx[base + arg] += g[plane * win.outSize + o];
            }
        }
        return NnKernels.fromDoubles(dy.dtype(), x.shape(), dx);
    }

    /** AveragePoolGrad(dY, x_shape): each window's dY / divisor to every input element of the window. */
    private static Tensor averagePoolGrad(KernelCall c) {
        Tensor dy = gradient(c);
        long[] xs = c.required(1).toLongArray();
        PoolKernels.Pooled p = PoolKernels.geometry(c, xs);
        requireShape(c, dy, p.outShape(), "the incoming gradient");
        boolean includePad = c.attrInt("count_include_pad") != 0;
        SlidingWindow win = p.win();
        double[] g = dy.toDoubleArray(), dx = new double[Tensor.checkedNumel(xs)];
        for (int plane = 0; plane < p.planes(); plane++) {
            int base = plane * win.inSize;
            for (int o = 0; o < win.outSize; o++) {
                int count = 0;
                for (int k = 0; k < win.kernelSize; k++) {
                    int off = win.offsets[o * win.kernelSize + k];
                    if (off >= 0 || includePad && off == SlidingWindow.PAD) count++;
                }
                if (count == 0) continue;
                double share = g[plane * win.outSize + o] / count;
                for (int k = 0; k < win.kernelSize; k++) {
                    int off = win.offsets[o * win.kernelSize + k];
                    if (off >= 0) dx[base + off] += share;
                }
            }
        }
        return NnKernels.fromDoubles(dy.dtype(), xs, dx);
    }

    /** GlobalMaxPoolGrad(dY, X): each plane's dY to its first maximum (a NaN wins, as in PyTorch). */
    private static Tensor globalMaxPoolGrad(KernelCall c) {
        Tensor dy = gradient(c), x = c.required(1);
        NnKernels.requireFloat(c, x, "X");
        if (x.rank() < 2) throw c.error("X must have rank at least 2 (N, C, spatial...), got " + Arrays.toString(x.shape()));
        long[] ys = x.shape();
        for (int a = 2; a < ys.length; a++) ys[a] = 1;
        requireShape(c, dy, ys, "the incoming gradient");
        int planes = Math.toIntExact(x.dim(0) * x.dim(1)), size = planes == 0 ? 0 : x.numel() / planes;
        double[] xd = x.toDoubleArray(), g = dy.toDoubleArray(), dx = new double[xd.length];
        for (int plane = 0; plane < planes && size > 0; plane++) {
            int base = plane * size, arg = base;
            double best = Double.NEGATIVE_INFINITY;
            for (int i = base; i < base + size; i++) {
                if (xd[i] > best || Double.isNaN(xd[i])) {
                    best = xd[i];
                    arg = i;
                }
            }
            dx[arg] += g[plane];
        }
        return NnKernels.fromDoubles(dy.dtype(), x.shape(), dx);
    }

    // ---- normalization

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
        requireShape(c, dy, x.shape(), "the incoming gradient");
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
    private static List<Object> batchNormGrad(KernelCall c) {
        Tensor dy = gradient(c), x = c.required(1);
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
    private static List<Object> instanceNormGrad(KernelCall c) {
        Tensor dy = gradient(c), x = c.required(1);
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
    private static List<Object> groupNormGrad(KernelCall c) {
        Tensor dy = gradient(c), x = c.required(1);
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
    private static List<Object> layerNormGrad(KernelCall c) {
        Tensor dy = gradient(c), x = c.required(1), scale = c.required(2);
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

    // ---- Dropout

    /** DropoutGrad(dY, ratio, training_mode): identity, unless the node trains with a non-zero ratio (no mask). */
    private static Tensor dropoutGrad(KernelCall c) {
        Tensor dy = gradient(c);
        boolean training = c.has(2) && c.required(2).getBool(0);
        double ratio = c.has(1) ? c.required(1).getDouble(0) : 0.5;
        if (training && ratio != 0)
            throw c.error("Dropout runs in training mode but its mask output is not in the graph, so its gradient"
                    + " cannot be computed; export the model with the mask output (PyTorch does in training mode) or"
                    + " set training_mode to false");
        return dy;
    }
}
