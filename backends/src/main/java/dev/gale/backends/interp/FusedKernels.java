package dev.gale.backends.interp;

import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;

/**
 * Interpreter kernels of the fused ops made by the {@code fuse-patterns} pass (see {@code FusedOpTypes}). Each one
 * runs the same steps as the ops it replaces: the MatMul, Gemm or Conv kernel, the bias added and rounded to the
 * element type, then the activation with the formula of its ONNX kernel; so a fused node gives the unfused result.
 * Attention is computed in float64 throughout and rounded once.
 */
final class FusedKernels {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private FusedKernels() {}

    static void registerAll() {
        gale("FusedMatMul", Kernel.single(c -> activate(c, addBias(c, NnKernels.matMul(c, c.required(0),
                operandB(c)), c.in(2)))));
        gale("FusedGemm", Kernel.single(c -> activate(c, (Tensor) Kernels.lookup("", "Gemm").run(c).get(0))));
        gale("FusedConv", Kernel.single(c -> pool(c, activate(c, (Tensor) Kernels.lookup("", "Conv").run(c).get(0)))));
        gale("Attention", Kernel.single(FusedKernels::attention));
    }

    /**
     * FusedConv's pool (max or average) over pool_kernel [ph, pw] windows of y's spatial axes, side by side (stride =
     * window, no padding, rows and columns past the last whole window dropped): max compares as MaxPool does (the
     * window's first NaN wins), average sums in float64 and rounds once, as AveragePool does.
     */
    private static Tensor pool(KernelCall c, Tensor y) {
        String mode = c.attrString("pool");
        if (mode.equals("none")) return y;
        if (!mode.equals("max") && !mode.equals("average"))
            throw c.error("pool must be none, max or average, got '" + mode + "'");
        long[] p = c.hasAttr("pool_kernel") ? c.attrInts("pool_kernel") : new long[0];
        if (p.length != 2 || p[0] < 1 || p[1] < 1)
            throw c.error("pool_kernel must be two window sizes of at least 1, got " + Arrays.toString(p));
        if (y.rank() != 4) throw c.error("pool needs a 2-D convolution, got a result of shape " + Arrays.toString(y.shape()));
        int planes = Math.toIntExact(y.dim(0) * y.dim(1)), h = (int) y.dim(2), w = (int) y.dim(3);
        int ph = (int) p[0], pw = (int) p[1], oh = h / ph, ow = w / pw;
        if (oh < 1 || ow < 1)
            throw c.error("pool_kernel " + Arrays.toString(p) + " is larger than the result " + Arrays.toString(y.shape()));
        boolean max = mode.equals("max");
        double[] x = y.toDoubleArray(), out = new double[planes * oh * ow];
        for (int pl = 0; pl < planes; pl++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double best = Double.NEGATIVE_INFINITY, sum = 0;
                    boolean first = true;
                    for (int ki = 0; ki < ph; ki++)
                        for (int kj = 0; kj < pw; kj++) {
                            double v = x[(pl * h + oy * ph + ki) * w + ox * pw + kj];
                            sum += v;
                            if (first || v > best || Double.isNaN(v) && !Double.isNaN(best)) best = v;
                            first = false;
                        }
                    out[(pl * oh + oy) * ow + ox] = max ? best : sum / (ph * pw);
                }
        return NnKernels.fromDoubles(y.dtype(), new long[] {y.dim(0), y.dim(1), oh, ow}, out);
    }

    /** FusedMatMul's B, transposed when transB = 1 (then it must be a matrix). */
    private static Tensor operandB(KernelCall c) {
        Tensor b = c.required(1);
        long tb = c.attrInt("transB");
        if (tb != 0 && tb != 1) throw c.error("transB must be 0 or 1, got " + tb);
        if (tb == 0) return b;
        if (b.rank() != 2)
            throw c.error("with transB = 1, B must be a matrix, got shape " + Arrays.toString(b.shape()));
        return Strided.transpose(b, new int[] {1, 0});
    }

    private static void gale(String op, Kernel k) { Kernels.register(GaleOps.DOMAIN, op, k); }

    /** y + bias, bias broadcast into y's shape (never widening it), rounded to y's element type like Add. */
    static Tensor addBias(KernelCall c, Tensor y, Tensor bias) {
        if (bias == null) return y;
        if (bias.dtype() != y.dtype())
            throw c.error("bias has element type " + bias.dtype() + ", expected " + y.dtype());
        if (!broadcastsInto(bias.shape(), y.shape()))
            throw c.error("bias of shape " + Arrays.toString(bias.shape()) + " does not broadcast into the result "
                    + Arrays.toString(y.shape()));
        int[] map = Broadcast.indexMap(y.shape(), bias.shape());
        Tensor out = Tensor.zeros(y.dtype(), y.shape());
        boolean integer = !y.dtype().isFloat();
        for (int i = 0; i < y.numel(); i++) {
            if (integer) out.setLong(i, y.getLong(i) + bias.getLong(map[i]));
            else out.setDouble(i, y.getDouble(i) + bias.getDouble(map[i]));
        }
        return out;
    }

    private static boolean broadcastsInto(long[] small, long[] big) {
        if (small.length > big.length) return false;
        for (int k = 1; k <= small.length; k++) {
            long s = small[small.length - k];
            if (s != 1 && s != big[big.length - k]) return false;
        }
        return true;
    }

    /** The node's activation applied to every element of y. */
    static Tensor activate(KernelCall c, Tensor y) {
        String a = c.attrString("activation");
        if (a.equals("none")) return y;
        if (!y.dtype().isFloat())
            throw c.error("activation \"" + a + "\" needs a floating-point result, got " + y.dtype());
        double alpha = c.attrFloat("activation_alpha");
        DoubleUnaryOperator f = switch (a) {
            case "relu" -> x -> x > 0 ? x : 0;
            case "leaky_relu" -> x -> x >= 0 ? x : alpha * x;
            case "tanh" -> Math::tanh;
            case "sigmoid" -> ScalarMath::sigmoid;
            // 0.5 x (1 + erf(x / sqrt 2)), as the Gelu kernel writes it
            case "gelu" -> x -> 0.5 * x * ScalarMath.erfc(-x / Math.sqrt(2));
            case "gelu_tanh" -> x -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            default -> throw c.error("unknown activation \"" + a + "\"");
        };
        return Elementwise.map(y, f);
    }

    // softmax(scale Q K^T + mask, last axis) V over broadcast batch dims, in float64, rounded once
    private static Tensor attention(KernelCall c) {
        Tensor q = c.required(0), k = c.required(1), v = c.required(2), mask = c.in(3);
        NnKernels.requireFloat(c, q, "Q");
        for (Tensor t : mask == null ? new Tensor[] {k, v} : new Tensor[] {k, v, mask})
            if (t.dtype() != q.dtype()) throw c.error("Q, K, V and mask must share Q's element type " + q.dtype());
        if (q.rank() < 2 || k.rank() < 2 || v.rank() < 2)
            throw c.error("Q, K and V must have rank at least 2, got " + Arrays.toString(q.shape()) + ", "
                    + Arrays.toString(k.shape()) + ", " + Arrays.toString(v.shape()));
        boolean kt = c.attrInt("key_transposed") != 0;
        double scale = c.attrFloat("scale");
        int lq = (int) q.dim(q.rank() - 2), d = (int) q.dim(q.rank() - 1);
        int lk = (int) k.dim(k.rank() - (kt ? 1 : 2)), dk = (int) k.dim(k.rank() - (kt ? 2 : 1));
        int lv = (int) v.dim(v.rank() - 2), dv = (int) v.dim(v.rank() - 1);
        if (d != dk || lv != lk)
            throw c.error("shapes do not fit: Q " + Arrays.toString(q.shape()) + ", K " + Arrays.toString(k.shape())
                    + (kt ? " (transposed)" : "") + ", V " + Arrays.toString(v.shape()));
        long[] qb = batch(q), kb = batch(k), vb = batch(v), ob, sb;
        try {
            sb = Broadcast.shape(qb, kb);
            ob = Broadcast.shape(sb, vb);
        } catch (GaleException e) {
            throw c.error("batch dims do not broadcast: " + e.getMessage());
        }
        long[] scores = append(ob, lq, lk);
        if (mask != null && !broadcastsInto(mask.shape(), append(sb, lq, lk)))
            throw c.error("mask of shape " + Arrays.toString(mask.shape()) + " does not broadcast into the scores "
                    + Arrays.toString(append(sb, lq, lk)));
        int[] iq = Broadcast.indexMap(ob, qb), ik = Broadcast.indexMap(ob, kb), iv = Broadcast.indexMap(ob, vb);
        int[] im = mask == null ? null : Broadcast.indexMap(scores, mask.shape());
        double[] qd = q.toDoubleArray(), kd = k.toDoubleArray(), vd = v.toDoubleArray();
        double[] md = mask == null ? null : mask.toDoubleArray();
        double[] out = new double[iq.length * lq * dv], s = new double[lk];
        for (int b = 0; b < iq.length; b++) {
            int qo = iq[b] * lq * d, ko = ik[b] * lk * d, vo = iv[b] * lk * dv;
            for (int i = 0; i < lq; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double dot = 0;
                    for (int t = 0; t < d; t++) dot += qd[qo + i * d + t] * kd[ko + (kt ? t * lk + j : j * d + t)];
                    s[j] = scale * dot + (md == null ? 0 : md[im[(b * lq + i) * lk + j]]);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                int o = (b * lq + i) * dv;
                for (int j = 0; j < lk; j++) {
                    double p = s[j] / sum;
                    for (int e = 0; e < dv; e++) out[o + e] += p * vd[vo + j * dv + e];
                }
            }
        }
        return NnKernels.fromDoubles(q.dtype(), append(ob, lq, dv), out);
    }

    private static long[] batch(Tensor t) { return Arrays.copyOf(t.shape(), t.rank() - 2); }

    private static long[] append(long[] batch, long a, long b) {
        long[] r = Arrays.copyOf(batch, batch.length + 2);
        r[batch.length] = a;
        r[batch.length + 1] = b;
        return r;
    }
}
