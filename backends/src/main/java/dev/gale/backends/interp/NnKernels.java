package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.EinsumEquation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: MatMul, Gemm, Einsum, Det and Dropout here; convolution, pooling and normalization in
 * {@link ConvKernels}, {@link PoolKernels} and {@link NormKernels}. Floating-point sums accumulate in float64 and are
 * rounded once to the output type; integer products are exact 64-bit arithmetic wrapped to the output type.
 */
final class NnKernels {
    private NnKernels() {}

    static void registerAll() {
        register("MatMul", Kernel.single(c -> matMul(c, c.required(0), c.required(1))));
        register("Gemm", Kernel.single(NnKernels::gemm));
        register("Einsum", Kernel.single(NnKernels::einsum));
        register("Det", Kernel.single(NnKernels::det));
        register("Dropout", NnKernels::dropout);
        ConvKernels.registerAll();
        PoolKernels.registerAll();
        NormKernels.registerAll();
    }

    /** A tensor of element type {@code t} holding {@code v} rounded to that type. */
    static Tensor fromDoubles(DType t, long[] shape, double[] v) {
        if (t == DType.FLOAT64) return new Tensor(t, shape, v);
        Tensor y = Tensor.zeros(t, shape);
        for (int i = 0; i < v.length; i++) y.setDouble(i, v[i]);
        return y;
    }

    static void requireFloat(KernelCall c, Tensor x, String what) {
        if (!x.dtype().isFloat()) throw c.error(what + " must be a floating-point tensor, got " + x.dtype());
    }

    // ---- MatMul: numpy matmul, batch dimensions broadcast, a 1-D operand is a row (left) or column (right) vector

    static Tensor matMul(KernelCall c, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype())
            throw c.error("operands have different element types " + a.dtype() + " and " + b.dtype());
        if (a.rank() == 0 || b.rank() == 0) throw c.error("MatMul operands must have rank at least 1");
        long[] as = a.rank() == 1 ? new long[] {1, a.dim(0)} : a.shape();
        long[] bs = b.rank() == 1 ? new long[] {b.dim(0), 1} : b.shape();
        int m = (int) as[as.length - 2], k = (int) as[as.length - 1];
        int kb = (int) bs[bs.length - 2], n = (int) bs[bs.length - 1];
        if (k != kb)
            throw c.error("inner dimensions differ: " + Arrays.toString(a.shape()) + " x " + Arrays.toString(b.shape()));
        long[] batchA = Arrays.copyOf(as, as.length - 2), batchB = Arrays.copyOf(bs, bs.length - 2);
        long[] batch = Broadcast.shape(batchA, batchB);
        int[] ia = Broadcast.indexMap(batch, batchA), ib = Broadcast.indexMap(batch, batchB);
        long[] outShape = Arrays.copyOf(batch, batch.length + (a.rank() > 1 ? 1 : 0) + (b.rank() > 1 ? 1 : 0));
        int p = batch.length;
        if (a.rank() > 1) outShape[p++] = m;
        if (b.rank() > 1) outShape[p] = n;
        boolean integer = !a.dtype().isFloat();
        double[] ad = integer ? null : a.toDoubleArray(), bd = integer ? null : b.toDoubleArray();
        long[] al = integer ? a.toLongArray() : null, bl = integer ? b.toLongArray() : null;
        Tensor y = Tensor.zeros(a.dtype(), outShape);
        // Row by row, so B is read along its rows; each sum still adds its k terms in order.
        double[] row = new double[n];
        long[] irow = new long[n];
        for (int bi = 0; bi < ia.length; bi++) {
            int aOff = ia[bi] * m * k, bOff = ib[bi] * k * n, yOff = bi * m * n;
            for (int i = 0; i < m; i++) {
                Arrays.fill(row, 0);
                Arrays.fill(irow, 0);
                for (int q = 0; q < k; q++) {
                    int bRow = bOff + q * n;
                    if (integer) {
                        long av = al[aOff + i * k + q];
                        for (int j = 0; j < n; j++) irow[j] += av * bl[bRow + j];
                    } else {
                        double av = ad[aOff + i * k + q];
                        for (int j = 0; j < n; j++) row[j] += av * bd[bRow + j];
                    }
                }
                for (int j = 0; j < n; j++) {
                    if (integer) y.setLong(yOff + i * n + j, irow[j]);
                    else y.setDouble(yOff + i * n + j, row[j]);
                }
            }
        }
        return y;
    }

    // ---- Gemm: Y = alpha * A' B' + beta * C, C broadcast to (M, N) in one direction only

    private static Tensor gemm(KernelCall c) {
        Tensor a = c.required(0), b = c.required(1), bias = c.in(2);
        if (a.rank() != 2 || b.rank() != 2)
            throw c.error("A and B must be matrices, got " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()));
        if (a.dtype() != b.dtype()) throw c.error("A and B have different element types");
        boolean ta = c.attrInt("transA") != 0, tb = c.attrInt("transB") != 0;
        int m = (int) a.dim(ta ? 1 : 0), k = (int) a.dim(ta ? 0 : 1);
        int kb = (int) b.dim(tb ? 1 : 0), n = (int) b.dim(tb ? 0 : 1);
        if (k != kb)
            throw c.error("inner dimensions differ: A " + Arrays.toString(a.shape()) + " (transA=" + (ta ? 1 : 0)
                    + "), B " + Arrays.toString(b.shape()) + " (transB=" + (tb ? 1 : 0) + ")");
        long[] outShape = {m, n};
        int[] ic = null;
        if (bias != null) {
            long[] cs = bias.shape();
            boolean ok = cs.length <= 2;
            for (int i = 0; ok && i < cs.length; i++)
                ok = cs[i] == 1 || cs[i] == outShape[2 - cs.length + i];
            if (!ok) throw c.error("C of shape " + Arrays.toString(cs) + " does not broadcast to [" + m + ", " + n + "]");
            ic = Broadcast.indexMap(outShape, cs);
        }
        double alpha = c.attrFloat("alpha"), beta = c.attrFloat("beta");
        Tensor y = Tensor.zeros(a.dtype(), outShape);
        boolean integer = !a.dtype().isFloat();
        double[] ad = integer ? null : a.toDoubleArray(), bd = integer ? null : b.toDoubleArray();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int o = i * n + j;
                if (integer) {
                    long s = 0;
                    for (int q = 0; q < k; q++)
                        s += a.getLong(ta ? q * m + i : i * k + q) * b.getLong(tb ? j * k + q : q * n + j);
                    long v = (long) alpha * s + (ic == null ? 0 : (long) beta * bias.getLong(ic[o]));
                    y.setLong(o, v);
                } else {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += ad[ta ? q * m + i : i * k + q] * bd[tb ? j * k + q : q * n + j];
                    double v = alpha * s + (ic == null ? 0 : beta * bias.getDouble(ic[o]));
                    y.setDouble(o, v);
                }
            }
        }
        return y;
    }

    // ---- Einsum: every combination of label values, summing the product of the operands' elements

    private static Tensor einsum(KernelCall c) {
        int nIn = c.numInputs();
        Tensor[] xs = new Tensor[nIn];
        int[] ranks = new int[nIn];
        for (int i = 0; i < nIn; i++) {
            xs[i] = c.required(i);
            ranks[i] = xs[i].rank();
            if (xs[i].dtype() != xs[0].dtype()) throw c.error("operands have different element types");
        }
        EinsumEquation eq = EinsumEquation.parse(c.attrString("equation"), ranks, c::error);
        long[] size = new long[eq.numLabels()];
        Arrays.fill(size, 1);
        for (int i = 0; i < nIn; i++) {
            for (int k = 0; k < ranks[i]; k++) {
                int l = eq.inputs()[i][k];
                long d = xs[i].dim(k);
                if (size[l] == 1) size[l] = d;
                else if (d != 1 && d != size[l])
                    throw c.error("label sizes differ: " + size[l] + " vs " + d + " in input " + i);
            }
        }
        // Loop order: output labels (outer), then the summed labels.
        List<Integer> order = new ArrayList<>();
        for (int l : eq.output()) order.add(l);
        boolean[] used = new boolean[eq.numLabels()];
        for (int[] labels : eq.inputs()) for (int l : labels) used[l] = true;
        for (int l = 0; l < eq.numLabels(); l++) if (used[l] && !order.contains(l)) order.add(l);
        int nl = order.size();
        long[][] stride = new long[nIn][nl];
        for (int i = 0; i < nIn; i++) {
            long[] st = Tensor.strides(xs[i].shape());
            for (int k = 0; k < ranks[i]; k++)
                if (xs[i].dim(k) != 1) stride[i][order.indexOf(eq.inputs()[i][k])] += st[k];
        }
        long[] outShape = new long[eq.output().length];
        for (int j = 0; j < outShape.length; j++) outShape[j] = size[eq.output()[j]];
        Tensor y = Tensor.zeros(xs[0].dtype(), outShape);
        long inner = 1;
        for (int j = outShape.length; j < nl; j++) inner *= size[order.get(j)];
        boolean integer = !xs[0].dtype().isFloat();
        double[][] xd = new double[nIn][];
        if (!integer) for (int i = 0; i < nIn; i++) xd[i] = xs[i].toDoubleArray();
        long[] idx = new long[nl];
        for (int o = 0; o < y.numel(); o++) {
            double sum = 0;
            long isum = 0;
            for (long r = 0; r < inner; r++) {
                double prod = 1;
                long iprod = 1;
                for (int i = 0; i < nIn; i++) {
                    long off = 0;
                    for (int j = 0; j < nl; j++) off += idx[j] * stride[i][j];
                    if (integer) iprod *= xs[i].getLong((int) off);
                    else prod *= xd[i][(int) off];
                }
                sum += prod;
                isum += iprod;
                for (int j = nl - 1; j >= 0; j--) {
                    if (++idx[j] < size[order.get(j)]) break;
                    idx[j] = 0;
                }
            }
            if (integer) y.setLong(o, isum);
            else y.setDouble(o, sum);
        }
        return y;
    }

    // ---- Det: LU decomposition with partial pivoting per matrix, in float64

    private static Tensor det(KernelCall c) {
        Tensor x = c.required(0);
        requireFloat(c, x, "input");
        int r = x.rank();
        if (r < 2 || x.dim(r - 1) != x.dim(r - 2))
            throw c.error("input must be a (batch of) square matrices, got " + Arrays.toString(x.shape()));
        int n = (int) x.dim(r - 1);
        long[] outShape = Arrays.copyOf(x.shape(), r - 2);
        double[] xd = x.toDoubleArray();
        double[] out = new double[Tensor.checkedNumel(outShape)];
        double[] a = new double[n * n];
        for (int b = 0; b < out.length; b++) {
            System.arraycopy(xd, b * n * n, a, 0, n * n);
            double det = 1;
            for (int col = 0; col < n && det != 0; col++) {
                int piv = col;
                for (int i = col + 1; i < n; i++) if (Math.abs(a[i * n + col]) > Math.abs(a[piv * n + col])) piv = i;
                if (a[piv * n + col] == 0) {
                    det = 0;
                    break;
                }
                if (piv != col) {
                    for (int j = 0; j < n; j++) {
                        double t = a[col * n + j];
                        a[col * n + j] = a[piv * n + j];
                        a[piv * n + j] = t;
                    }
                    det = -det;
                }
                double p = a[col * n + col];
                det *= p;
                for (int i = col + 1; i < n; i++) {
                    double f = a[i * n + col] / p;
                    for (int j = col; j < n; j++) a[i * n + j] -= f * a[col * n + j];
                }
            }
            out[b] = det;
        }
        return fromDoubles(x.dtype(), outShape, out);
    }

    // ---- Dropout: identity unless training_mode; then keep each element with probability 1 - ratio

    private static List<Object> dropout(KernelCall c) {
        Tensor x = c.required(0);
        double ratio = c.has(1) ? c.required(1).getDouble(0) : 0.5;
        boolean training = c.has(2) && c.required(2).getBool(0);
        Tensor mask = Tensor.zeros(DType.BOOL, x.shape());
        if (!training || ratio == 0) {
            Arrays.fill((byte[]) mask.data(), (byte) 1);
            return List.of(x, mask);
        }
        if (!(ratio >= 0 && ratio < 1)) throw c.error("ratio must be in [0, 1) in training mode, got " + ratio);
        // With a seed the mask repeats across runs and matches numpy's legacy generator (the ONNX reference);
        // without one it comes from the interpreter's own random source.
        DoubleSupplier uniform;
        if (c.hasAttr("seed")) {
            Mt19937 mt = new Mt19937(c.attrInt("seed"));
            uniform = mt::nextDouble;
        } else {
            Random rng = c.rng();
            uniform = rng::nextDouble;
        }
        double scale = 1 / (1 - ratio);
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) {
            boolean keep = uniform.getAsDouble() >= ratio;
            mask.setLong(i, keep ? 1 : 0);
            y.setDouble(i, keep ? x.getDouble(i) * scale : 0);
        }
        return List.of(y, mask);
    }
}
