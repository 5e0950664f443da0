package dev.gale.backends.interp;

import dev.gale.ir.Tensor;

import java.util.Arrays;

/**
 * The exact integer convolution behind ConvInteger and QLinearConv: {@code sum (x - x_zp) * (w - w_zp[m])} over each
 * window, accumulated in 64 bits, for N-D inputs (N, C, D1...) and weights (M, C/group, k1...). Padding reads the
 * input zero point, so padded positions contribute nothing. Pads, strides, dilations, groups and auto_pad follow the
 * ONNX Conv attributes.
 */
record IntegerConv(long[] outShape, long[] acc) {

    static IntegerConv of(KernelCall c, Tensor x, Tensor w, long xZero, double[] wZero, double[] bias) {
        if (x.rank() < 3) throw c.error("input must have rank >= 3 (N, C, spatial...), got " + Arrays.toString(x.shape()));
        if (w.rank() != x.rank())
            throw c.error("weights " + Arrays.toString(w.shape()) + " do not match the input rank " + x.rank());
        int spatial = x.rank() - 2;
        long group = c.attrInt("group");
        long n = x.dim(0), channels = x.dim(1), m = w.dim(0), cPerGroup = w.dim(1);
        if (group < 1 || channels != cPerGroup * group || m % group != 0)
            throw c.error("input has " + channels + " channels and weights " + Arrays.toString(w.shape())
                    + "; these do not fit group " + group);
        long[] kernel = Arrays.copyOfRange(w.shape(), 2, w.rank());
        long[] k = c.attrInts("kernel_shape");
        if (k != null && !Arrays.equals(k, kernel))
            throw c.error("kernel_shape " + Arrays.toString(k) + " does not match the weights " + Arrays.toString(kernel));
        long[] in = Arrays.copyOfRange(x.shape(), 2, x.rank());
        long[] strides = orFill(c, "strides", spatial, 1);
        long[] dilations = orFill(c, "dilations", spatial, 1);
        long[] pads = orFill(c, "pads", 2 * spatial, 0);
        String autoPad = c.attrString("auto_pad");
        long[] out = new long[spatial];
        long[] begin = new long[spatial];
        for (int i = 0; i < spatial; i++) {
            if (strides[i] < 1 || dilations[i] < 1) throw c.error("strides and dilations must be >= 1");
            long span = (kernel[i] - 1) * dilations[i] + 1;
            switch (autoPad) {
                case "NOTSET" -> begin[i] = pads[i];
                case "VALID" -> pads = zeroPads(pads, i, spatial);
                case "SAME_UPPER", "SAME_LOWER" -> {
                    long o = (in[i] + strides[i] - 1) / strides[i];
                    long total = Math.max(0, (o - 1) * strides[i] + span - in[i]);
                    begin[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    pads[i] = begin[i];
                    pads[i + spatial] = total - begin[i];
                }
                default -> throw c.error("unknown auto_pad '" + autoPad + "'");
            }
            long padded = in[i] + pads[i] + pads[i + spatial];
            if (padded < span) throw c.error("kernel extent " + span + " exceeds the padded input size " + padded);
            out[i] = (padded - span) / strides[i] + 1;
        }
        long[] outShape = new long[x.rank()];
        outShape[0] = n;
        outShape[1] = m;
        System.arraycopy(out, 0, outShape, 2, spatial);
        long[] acc = new long[Tensor.checkedNumel(outShape)];
        long[] xStrides = Tensor.strides(x.shape()), wStrides = Tensor.strides(w.shape());
        int outSpatial = Tensor.checkedNumel(out), kernelSize = Tensor.checkedNumel(kernel);
        long mPerGroup = m / group;
        long[] o = new long[spatial], kk = new long[spatial];
        int pos = 0;
        for (long b = 0; b < n; b++) {
            for (long oc = 0; oc < m; oc++) {
                long g = oc / mPerGroup;
                long wz = (long) wZero[(int) oc];
                for (int s = 0; s < outSpatial; s++) {
                    unflatten(s, out, o);
                    long sum = bias == null ? 0 : (long) bias[(int) oc];
                    for (long ic = 0; ic < cPerGroup; ic++) {
                        long xBase = b * xStrides[0] + (g * cPerGroup + ic) * xStrides[1];
                        long wBase = oc * wStrides[0] + ic * wStrides[1];
                        for (int q = 0; q < kernelSize; q++) {
                            unflatten(q, kernel, kk);
                            long xOff = xBase, wOff = wBase;
                            boolean inside = true;
                            for (int d = 0; d < spatial; d++) {
                                long p = o[d] * strides[d] + kk[d] * dilations[d] - begin[d];
                                if (p < 0 || p >= in[d]) {
                                    inside = false;
                                    break;
                                }
                                xOff += p * xStrides[2 + d];
                                wOff += kk[d] * wStrides[2 + d];
                            }
                            if (inside) sum += (x.getLong((int) xOff) - xZero) * (w.getLong((int) wOff) - wz);
                        }
                    }
                    acc[pos++] = sum;
                }
            }
        }
        return new IntegerConv(outShape, acc);
    }

    private static long[] zeroPads(long[] pads, int i, int spatial) {
        pads[i] = 0;
        pads[i + spatial] = 0;
        return pads;
    }

    private static void unflatten(int flat, long[] shape, long[] idx) {
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= (int) shape[d];
        }
    }

    private static long[] orFill(KernelCall c, String name, int n, long fill) {
        long[] v = c.attrInts(name);
        if (v == null) {
            v = new long[n];
            Arrays.fill(v, fill);
        } else if (v.length != n) {
            throw c.error("attribute '" + name + "' has " + v.length + " values, expected " + n);
        }
        return v.clone();
    }
}
