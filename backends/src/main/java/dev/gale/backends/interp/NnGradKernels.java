package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ConvGeometry;
import dev.gale.ir.op.GaleOps;

import java.util.Arrays;

/**
 * Interpreter kernels for the neural-network family's backward helpers in the {@code gale} domain (registered from
 * {@link GaleKernels}): convolution and pooling gradients, Dropout without a mask, and the normalization
 * gradients of {@link NormGradKernels}. They accept
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
        gale("BatchNormGrad", NormGradKernels::batchNormGrad);
        gale("InstanceNormGrad", NormGradKernels::instanceNormGrad);
        gale("GroupNormGrad", NormGradKernels::groupNormGrad);
        gale("LayerNormGrad", NormGradKernels::layerNormGrad);
        gale("DropoutGrad", Kernel.single(NnGradKernels::dropoutGrad));
    }

    static Tensor gradient(KernelCall c) {
        Tensor dy = c.required(0);
        NnKernels.requireFloat(c, dy, "the incoming gradient");
        return dy;
    }

    static void requireShape(KernelCall c, Tensor t, long[] shape, String what) {
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
