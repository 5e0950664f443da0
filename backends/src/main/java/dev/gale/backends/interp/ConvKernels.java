package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ConvGeometry;

import java.util.Arrays;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels for Conv and ConvTranspose (1-D, 2-D, 3-D and beyond), with groups, strides, dilations, pads
 * and auto_pad; sums accumulate in float64.
 */
final class ConvKernels {
    private ConvKernels() {}

    static void registerAll() {
        register("Conv", Kernel.single(ConvKernels::conv));
        register("ConvTranspose", Kernel.single(ConvKernels::convTranspose));
    }

    /** Checked operand shapes shared by both ops. */
    private record Operands(Tensor x, Tensor w, Tensor b, int n, int channels, long[] in, long[] kernel, int group) {}

    private static Operands operands(KernelCall c) {
        Tensor x = c.required(0), w = c.required(1), b = c.in(2);
        NnKernels.requireFloat(c, x, "X");
        if (x.rank() < 3) throw c.error("X must have rank at least 3 (N, C, spatial...), got " + Arrays.toString(x.shape()));
        if (w.rank() != x.rank())
            throw c.error("W has rank " + w.rank() + " but X has rank " + x.rank());
        int sr = x.rank() - 2;
        long[] kernel = Arrays.copyOfRange(w.shape(), 2, w.rank());
        long[] kAttr = c.attrInts("kernel_shape");
        if (kAttr != null && !Arrays.equals(kAttr, kernel))
            throw c.error("kernel_shape " + Arrays.toString(kAttr) + " disagrees with W's shape " + Arrays.toString(w.shape()));
        long group = c.attrInt("group");
        if (group < 1) throw c.error("group must be positive, got " + group);
        if (b != null && b.rank() != 1) throw c.error("B must be 1-D, got " + Arrays.toString(b.shape()));
        return new Operands(x, w, b, (int) x.dim(0), (int) x.dim(1), Arrays.copyOfRange(x.shape(), 2, 2 + sr), kernel,
                (int) group);
    }

    private static ConvGeometry.AutoPad autoPad(KernelCall c) { return ConvGeometry.autoPad(c.attrString("auto_pad"), c::error); }

    // y[n, m, o] = B[m] + sum over the group's channels ci and kernel positions k of x[n, ci, window(o, k)] * W[m, ci, k]
    private static Tensor conv(KernelCall c) {
        Operands op = operands(c);
        int outC = (int) op.w.dim(0), cPerGroup = (int) op.w.dim(1), group = op.group;
        if (op.channels != cPerGroup * group)
            throw c.error("X has " + op.channels + " channels but W expects " + cPerGroup + " x group " + group);
        if (outC % group != 0) throw c.error("W's " + outC + " output channels are not divisible by group " + group);
        if (op.b != null && op.b.dim(0) != outC) throw c.error("B has " + op.b.dim(0) + " values, expected " + outC);
        ConvGeometry g = ConvGeometry.forward(op.in, op.kernel, c.attrInts("strides"), c.attrInts("dilations"),
                c.attrInts("pads"), autoPad(c), false, c::error);
        SlidingWindow win = SlidingWindow.of(op.in, g);
        long[] outShape = new long[op.x.rank()];
        outShape[0] = op.n;
        outShape[1] = outC;
        System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        double[] x = op.x.toDoubleArray(), w = op.w.toDoubleArray();
        double[] y = new double[Tensor.checkedNumel(outShape)];
        int mPerGroup = outC / group, ks = win.kernelSize, is = win.inSize, os = win.outSize;
        for (int n = 0; n < op.n; n++) {
            for (int m = 0; m < outC; m++) {
                int firstC = (m / mPerGroup) * cPerGroup;
                double bias = op.b == null ? 0 : op.b.getDouble(m);
                for (int o = 0; o < os; o++) {
                    double s = bias;
                    for (int ci = 0; ci < cPerGroup; ci++) {
                        int xBase = (n * op.channels + firstC + ci) * is, wBase = (m * cPerGroup + ci) * ks;
                        for (int k = 0; k < ks; k++) {
                            int off = win.offsets[o * ks + k];
                            if (off >= 0) s += x[xBase + off] * w[wBase + k];
                        }
                    }
                    y[(n * outC + m) * os + o] = s;
                }
            }
        }
        return NnKernels.fromDoubles(op.x.dtype(), outShape, y);
    }

    // Scatters each input element through the kernel: y[n, m, i*s + k*d - pad] += x[n, ci, i] * W[ci, m, k]
    private static Tensor convTranspose(KernelCall c) {
        Operands op = operands(c);
        int group = op.group, cPerGroup = op.channels / group, mPerGroup = (int) op.w.dim(1);
        if (op.w.dim(0) != op.channels)
            throw c.error("X has " + op.channels + " channels but W has " + op.w.dim(0));
        if (op.channels % group != 0)
            throw c.error("X's " + op.channels + " channels are not divisible by group " + group);
        int outC = mPerGroup * group;
        if (op.b != null && op.b.dim(0) != outC) throw c.error("B has " + op.b.dim(0) + " values, expected " + outC);
        ConvGeometry g = ConvGeometry.transposed(op.in, op.kernel, c.attrInts("strides"), c.attrInts("dilations"),
                c.attrInts("pads"), autoPad(c), c.attrInts("output_padding"), c.attrInts("output_shape"), c::error);
        int r = g.rank();
        long[] outShape = new long[r + 2];
        outShape[0] = op.n;
        outShape[1] = outC;
        System.arraycopy(g.out(), 0, outShape, 2, r);
        int inSize = Tensor.checkedNumel(op.in), ks = Tensor.checkedNumel(op.kernel);
        int os = Tensor.checkedNumel(g.out());
        int[] target = transposedTargets(op.in, g);
        double[] x = op.x.toDoubleArray(), w = op.w.toDoubleArray();
        double[] y = new double[Tensor.checkedNumel(outShape)];
        for (int n = 0; n < op.n; n++) {
            for (int m = 0; m < outC; m++) {
                int gi = m / mPerGroup, mi = m % mPerGroup, yBase = (n * outC + m) * os;
                double bias = op.b == null ? 0 : op.b.getDouble(m);
                for (int o = 0; o < os; o++) y[yBase + o] = bias;
                for (int ci = 0; ci < cPerGroup; ci++) {
                    int cIn = gi * cPerGroup + ci;
                    int xBase = (n * op.channels + cIn) * inSize, wBase = (cIn * mPerGroup + mi) * ks;
                    for (int i = 0; i < inSize; i++) {
                        double xv = x[xBase + i];
                        for (int k = 0; k < ks; k++) {
                            int t = target[i * ks + k];
                            if (t >= 0) y[yBase + t] += xv * w[wBase + k];
                        }
                    }
                }
            }
        }
        return NnKernels.fromDoubles(op.x.dtype(), outShape, y);
    }

    /**
     * For ConvTranspose: {@code target[i * ks + k]} is the flat output offset (within one spatial plane) that input
     * position {@code i} reaches through kernel position {@code k}, or -1 when it falls outside the output.
     */
    static int[] transposedTargets(long[] in, ConvGeometry g) {
        int r = g.rank(), inSize = Tensor.checkedNumel(in), ks = Tensor.checkedNumel(g.kernel());
        long[] outStrides = Tensor.strides(g.out());
        int[] target = new int[Math.multiplyExact(inSize, ks)];
        long[] ii = new long[r], kk = new long[r];
        for (int i = 0; i < inSize; i++) {
            Strided.unravel(i, in, ii);
            for (int k = 0; k < ks; k++) {
                Strided.unravel(k, g.kernel(), kk);
                long off = 0;
                for (int a = 0; a < r && off >= 0; a++) {
                    long p = ii[a] * g.strides()[a] + kk[a] * g.dilations()[a] - g.padsBegin()[a];
                    off = p >= 0 && p < g.out()[a] ? off + p * outStrides[a] : -1;
                }
                target[i * ks + k] = (int) off;
            }
        }
        return target;
    }
}
