package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Arrays;
import java.util.List;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: linear quantization and integer Conv/MatMul. Quantization follows ONNX exactly:
 * {@code y = saturate(rint(x / scale) + zero_point)} with the division in float32 (the precision ONNX Runtime uses,
 * so ties round the same way) and rounding half to even; dequantization is {@code (x - zero_point) * scale}.
 * Integer products accumulate exactly in 64 bits.
 */
final class QuantizationKernels {
    private QuantizationKernels() {}

    static void registerAll() {
        register("QuantizeLinear", Kernel.single(QuantizationKernels::quantizeLinear));
        register("DequantizeLinear", Kernel.single(QuantizationKernels::dequantizeLinear));
        register("DynamicQuantizeLinear", QuantizationKernels::dynamicQuantizeLinear);
        register("MatMulInteger", Kernel.single(c -> {
            Tensor a = c.required(0), b = c.required(1);
            checkQuantized(c, a, "A");
            checkQuantized(c, b, "B");
            return IntegerMatMul.of(c, zeroPointShifted(c, a, c.in(2), true), zeroPointShifted(c, b, c.in(3), false))
                    .toTensor(DType.INT32);
        }));
        register("QLinearMatMul", Kernel.single(QuantizationKernels::qLinearMatMul));
        register("ConvInteger", Kernel.single(c -> {
            Tensor x = c.required(0), w = c.required(1);
            checkQuantized(c, x, "x");
            checkQuantized(c, w, "w");
            IntegerConv conv = IntegerConv.of(c, x, w, zeroPoint(c, c.in(2), "x_zero_point"),
                    perChannel(c, c.in(3), w.dim(0), "w_zero_point"), null);
            Tensor y = Tensor.zeros(DType.INT32, conv.outShape());
            for (int i = 0; i < y.numel(); i++) y.setLong(i, conv.acc()[i]);
            return y;
        }));
        register("QLinearConv", Kernel.single(QuantizationKernels::qLinearConv));
    }

    static long minOf(KernelCall c, DType t) {
        return switch (t) {
            case UINT8 -> 0;
            case INT8 -> -128;
            default -> throw c.error("quantized type must be uint8 or int8, got " + t);
        };
    }

    static long maxOf(KernelCall c, DType t) {
        return switch (t) {
            case UINT8 -> 255;
            case INT8 -> 127;
            default -> throw c.error("quantized type must be uint8 or int8, got " + t);
        };
    }

    private static void checkQuantized(KernelCall c, Tensor t, String name) {
        if (t.dtype() != DType.UINT8 && t.dtype() != DType.INT8)
            throw c.error(name + " must be uint8 or int8, got " + t.dtype());
    }

    /**
     * {@code rint(v) + zeroPoint} clamped to the range of {@code t}. The rounding (half to even) comes before the
     * zero point is added: {@code rint(0.5) + 1 = 1}, where {@code rint(0.5 + 1) = 2}.
     */
    static long saturate(KernelCall c, double v, long zeroPoint, DType t) {
        double r = Math.rint(v) + zeroPoint;
        if (Double.isNaN(r)) return 0;
        return (long) Math.max(minOf(c, t), Math.min(maxOf(c, t), r));
    }

    /**
     * For every element of {@code x}, the index into a quantization parameter: 0 for a scalar (per tensor), else
     * the coordinate along {@code axis} (per axis; the parameter is 1-D with one entry per slice).
     */
    private static int[] paramIndex(KernelCall c, Tensor x, Tensor param, long axisAttr) {
        int[] idx = new int[x.numel()];
        if (param.rank() == 0 || param.numel() == 1 && param.rank() == 1) return idx;
        if (param.rank() != 1) throw c.error("scale and zero point must be scalars or 1-D, got rank " + param.rank());
        int axis = Broadcast.axis(axisAttr, x.rank());
        if (x.rank() == 0 || param.dim(0) != x.dim(axis))
            throw c.error("per-axis scale has " + param.dim(0) + " elements but axis " + axis + " of input "
                    + Arrays.toString(x.shape()) + " does not match");
        long stride = Tensor.strides(x.shape())[axis];
        for (int i = 0; i < idx.length; i++) idx[i] = (int) ((i / stride) % x.dim(axis));
        return idx;
    }

    private static void checkSameShape(KernelCall c, Tensor scale, Tensor zp) {
        if (zp != null && zp.numel() != scale.numel())
            throw c.error("scale and zero point must have the same shape, got " + Arrays.toString(scale.shape())
                    + " and " + Arrays.toString(zp.shape()));
    }

    private static Tensor quantizeLinear(KernelCall c) {
        Tensor x = c.required(0), scale = c.required(1), zp = c.in(2);
        checkSameShape(c, scale, zp);
        DType out = zp == null ? DType.UINT8 : zp.dtype();
        minOf(c, out);
        int[] p = paramIndex(c, x, scale, c.attrInt("axis"));
        Tensor y = Tensor.zeros(out, x.shape());
        for (int i = 0; i < y.numel(); i++) {
            float q = (float) x.getDouble(i) / (float) scale.getDouble(p[i]);
            y.setLong(i, saturate(c, q, zp == null ? 0 : zp.getLong(p[i]), out));
        }
        return y;
    }

    private static Tensor dequantizeLinear(KernelCall c) {
        Tensor x = c.required(0), scale = c.required(1), zp = c.in(2);
        checkSameShape(c, scale, zp);
        if (zp != null && zp.dtype() != x.dtype())
            throw c.error("x and x_zero_point must have the same type, got " + x.dtype() + " and " + zp.dtype());
        int[] p = paramIndex(c, x, scale, c.attrInt("axis"));
        Tensor y = Tensor.zeros(scale.dtype(), x.shape());
        for (int i = 0; i < y.numel(); i++) {
            long shifted = x.getLong(i) - (zp == null ? 0 : zp.getLong(p[i]));
            y.setDouble(i, (float) shifted * (float) scale.getDouble(p[i]));
        }
        return y;
    }

    /** Scale and zero point cover [min(x, 0), max(x, 0)] in uint8, so 0 is exactly representable. */
    private static List<Object> dynamicQuantizeLinear(KernelCall c) {
        Tensor x = c.required(0);
        if (!x.dtype().isFloat()) throw c.error("x must be floating point, got " + x.dtype());
        float lo = 0, hi = 0;
        for (int i = 0; i < x.numel(); i++) {
            float v = (float) x.getDouble(i);
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        float scale = (hi - lo) / 255f;
        long zp = scale == 0 ? 0 : saturate(c, (0f - lo) / scale, 0, DType.UINT8);
        Tensor y = Tensor.zeros(DType.UINT8, x.shape());
        if (scale != 0)
            for (int i = 0; i < y.numel(); i++) y.setLong(i, saturate(c, (float) x.getDouble(i) / scale, zp,
                    DType.UINT8));
        return List.of(y, Tensor.scalar(DType.FLOAT32, scale), Tensor.scalarLong(DType.UINT8, zp));
    }

    /** A scalar (or one-element) zero point, 0 when omitted. */
    private static long zeroPoint(KernelCall c, Tensor zp, String name) {
        if (zp == null) return 0;
        if (zp.numel() != 1) throw c.error(name + " must be a scalar, got shape " + Arrays.toString(zp.shape()));
        return zp.getLong(0);
    }

    /** A per-tensor or per-output-channel parameter expanded to one value per channel. */
    private static double[] perChannel(KernelCall c, Tensor p, long channels, String name) {
        double[] v = new double[(int) channels];
        if (p == null) return v;
        if (p.numel() == 1) {
            Arrays.fill(v, p.getDouble(0));
        } else if (p.rank() == 1 && p.dim(0) == channels) {
            for (int i = 0; i < v.length; i++) v[i] = p.getDouble(i);
        } else {
            throw c.error(name + " must be a scalar or have one value per output channel (" + channels + "), got "
                    + "shape " + Arrays.toString(p.shape()));
        }
        return v;
    }

    /**
     * {@code x - zp} as exact integers in x's shape. A zero point is a scalar, or per row of a matrix operand
     * ({@code [M]} or {@code [..., M, 1]}), or per column ({@code [N]} or {@code [..., 1, N]}).
     */
    static Tensor zeroPointShifted(KernelCall c, Tensor x, Tensor zp, boolean perRow) {
        Tensor r = Tensor.zeros(DType.INT64, x.shape());
        if (zp != null && zp.dtype() != x.dtype())
            throw c.error("zero point type " + zp.dtype() + " does not match its operand type " + x.dtype());
        Tensor z = zp == null ? null : rowOrColumn(c, zp, x, perRow);
        int[] map = z == null ? null : Broadcast.indexMap(x.shape(), z.shape());
        for (int i = 0; i < r.numel(); i++) r.setLong(i, x.getLong(i) - (z == null ? 0 : z.getLong(map[i])));
        return r;
    }

    /** A per-row 1-D parameter reshaped to {@code [M, 1]}; the result must broadcast to {@code x}'s shape. */
    private static Tensor rowOrColumn(KernelCall c, Tensor p, Tensor x, boolean perRow) {
        Tensor q = p;
        if (p.rank() == 1 && p.numel() > 1 && perRow && x.rank() >= 2) q = p.reshape(p.dim(0), 1);
        long[] b;
        try {
            b = Broadcast.shape(x.shape(), q.shape());
        } catch (RuntimeException e) {
            b = null;
        }
        if (b == null || !Arrays.equals(b, x.shape()))
            throw c.error("quantization parameter of shape " + Arrays.toString(p.shape()) + " does not fit operand "
                    + Arrays.toString(x.shape()) + " (expected a scalar or one value per " + (perRow ? "row" : "column")
                    + ")");
        return q;
    }

    private static Tensor qLinearMatMul(KernelCall c) {
        Tensor a = c.required(0), as = c.required(1), b = c.required(3), bs = c.required(4);
        Tensor ys = c.required(6), yzp = c.required(7);
        checkQuantized(c, a, "a");
        checkQuantized(c, b, "b");
        IntegerMatMul mm = IntegerMatMul.of(c, zeroPointShifted(c, a, c.required(2), true),
                zeroPointShifted(c, b, c.required(5), false));
        if (ys.numel() != 1 || yzp.numel() != 1) throw c.error("y_scale and y_zero_point must be scalars");
        // Scales are laid out like the zero points; map each to the [batch..., M, N] result.
        Tensor rowScale = rowOrColumn(c, as, a, true), colScale = rowOrColumn(c, bs, b, false);
        long[] out2 = mm.shape2d();
        int[] ra = Broadcast.indexMap(out2, matrixShape(rowScale.shape(), a.rank() == 1, true));
        int[] cb = Broadcast.indexMap(out2, matrixShape(colScale.shape(), b.rank() == 1, false));
        float y = (float) ys.getDouble(0);
        long z = yzp.getLong(0);
        Tensor out = Tensor.zeros(yzp.dtype(), mm.shape());
        for (int i = 0; i < out.numel(); i++) {
            float multiplier = (float) rowScale.getDouble(ra[i]) * (float) colScale.getDouble(cb[i]) / y;
            out.setLong(i, saturate(c, (float) mm.acc()[i] * multiplier, z, yzp.dtype()));
        }
        return out;
    }

    /** A parameter shape as seen by the 2-D view of its operand (a 1-D operand's parameter must be a scalar). */
    private static long[] matrixShape(long[] s, boolean vector, boolean row) {
        if (!vector) return s;
        return s.length == 0 ? s : row ? new long[] {1, s[0]} : new long[] {s[0], 1};
    }

    private static Tensor qLinearConv(KernelCall c) {
        Tensor x = c.required(0), w = c.required(3), yzp = c.required(7);
        checkQuantized(c, x, "x");
        checkQuantized(c, w, "w");
        float xs = (float) scalar(c, c.required(1), "x_scale"), ys = (float) scalar(c, c.required(6), "y_scale");
        long m = w.rank() > 0 ? w.dim(0) : 0;
        double[] ws = perChannel(c, c.required(4), m, "w_scale");
        double[] bias = perChannel(c, c.in(8), m, "B");
        IntegerConv conv = IntegerConv.of(c, x, w, zeroPoint(c, c.required(2), "x_zero_point"),
                perChannel(c, c.required(5), m, "w_zero_point"), bias);
        long z = zeroPoint(c, yzp, "y_zero_point");
        Tensor y = Tensor.zeros(yzp.dtype(), conv.outShape());
        long perChannel = y.numel() / Math.max(1, y.dim(0) * m);
        for (int i = 0; i < y.numel(); i++) {
            int ch = (int) ((i / perChannel) % m);
            float multiplier = xs * (float) ws[ch] / ys;
            y.setLong(i, saturate(c, (float) conv.acc()[i] * multiplier, z, yzp.dtype()));
        }
        return y;
    }

    private static double scalar(KernelCall c, Tensor t, String name) {
        if (t.numel() != 1) throw c.error(name + " must be a scalar, got shape " + Arrays.toString(t.shape()));
        return t.getDouble(0);
    }
}
