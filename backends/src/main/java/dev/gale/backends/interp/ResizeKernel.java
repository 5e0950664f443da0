package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.ResizeMath;
import dev.gale.ir.op.ShapeMath;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Resize (opset 18) and the deprecated Upsample.
 *
 * <p>Interpolation is separable: for each resized axis and each output coordinate {@code x}, the coordinate is mapped
 * back to a real input coordinate {@code x_ori} by the {@code coordinate_transformation_mode}; the 1-D filter
 * (nearest, linear or cubic, widened by {@code 1/scale} when antialiasing a downscale) gives weights for the input
 * indices around it. Indices past the edges read the edge element, or are dropped and the weights renormalized under
 * {@code exclude_outside}. An output element is the weighted sum over the product of the per-axis neighbourhoods,
 * in float64. With {@code tf_crop_and_resize}, a coordinate outside the input gives {@code extrapolation_value}.
 */
public final class ResizeKernel {
    private ResizeKernel() {}

    /** For one axis: per output coordinate the input indices read and their weights (null entry: extrapolate). */
    private record AxisFilter(int[][] index, double[][] weight) {}

    /** Resize's interpolation attributes. */
    public record Settings(String mode, String coordMode, String nearestMode, double cubicA, boolean antialias,
                           boolean excludeOutside, double extrapolation) {}

    static Tensor resize(KernelCall c) {
        Tensor x = c.required(0);
        Plan plan = plan(new Request(x.shape(), c.hasAttr("axes") ? c.attrInts("axes") : null, c.in(1), c.in(2), c.in(3),
                c.attrString("keep_aspect_ratio_policy"), c.attrString("mode"),
                c.attrString("coordinate_transformation_mode"), c.attrString("nearest_mode"), c.attrFloat("cubic_coeff_a"),
                c.attrInt("antialias") != 0, c.attrInt("exclude_outside") != 0, c.attrFloat("extrapolation_value")),
                c::error);
        return apply(x, plan);
    }

    /**
     * ResizeGrad(dY, x_shape[, roi[, scales[, sizes]]]) with Resize's attributes: the transpose of {@link #resize},
     * each output's gradient added to the inputs it read, times the weights it read them with (float64 sums).
     */
    static Tensor resizeGrad(KernelCall c) {
        Tensor dy = c.required(0);
        if (!dy.dtype().isFloat()) throw c.error("the incoming gradient must be floating-point, is " + dy.dtype());
        long[] in = c.required(1).toLongArray();
        Plan plan = plan(new Request(in, c.hasAttr("axes") ? c.attrInts("axes") : null, c.in(2), c.in(3), c.in(4),
                c.attrString("keep_aspect_ratio_policy"), c.attrString("mode"),
                c.attrString("coordinate_transformation_mode"), c.attrString("nearest_mode"), c.attrFloat("cubic_coeff_a"),
                c.attrInt("antialias") != 0, c.attrInt("exclude_outside") != 0, c.attrFloat("extrapolation_value")),
                c::error);
        if (!Arrays.equals(dy.shape(), plan.out))
            throw c.error("the incoming gradient has shape " + Arrays.toString(dy.shape()) + ", expected "
                    + Arrays.toString(plan.out));
        int r = in.length;
        long[] st = Tensor.strides(in), idx = new long[r];
        double[] dx = new double[Tensor.checkedNumel(in)];
        for (int i = 0; i < dy.numel(); i++) {
            boolean extrapolated = false;
            for (int k = 0; k < r; k++) extrapolated |= plan.index[k][(int) idx[k]] == null;
            if (!extrapolated) {
                double g = dy.getDouble(i);
                if (plan.isNearest()) {
                    long src = 0;
                    for (int k = 0; k < r; k++) src += plan.nearest(k, (int) idx[k]) * st[k];
                    dx[(int) src] += g;
                } else {
                    spread(plan, idx, st, 0, 0, g, dx);
                }
            }
            Strided.next(idx, plan.out);
        }
        return NnKernels.fromDoubles(dy.dtype(), in, dx);
    }

    /** Adds {@code g} times the product of the taps' weights to every input the output at {@code idx} read. */
    private static void spread(Plan plan, long[] idx, long[] st, int axis, long base, double g, double[] dx) {
        if (axis == idx.length) {
            dx[(int) base] += g;
            return;
        }
        int p = (int) idx[axis];
        int[] ix = plan.index[axis][p];
        double[] w = plan.weight[axis][p];
        for (int j = 0; j < ix.length; j++)
            if (w[j] != 0) spread(plan, idx, st, axis + 1, base + ix[j] * st[axis], g * w[j], dx);
    }

    /**
     * A Resize node's operands and attributes: the input shape, the {@code axes} attribute (or null), the roi, scales
     * and sizes inputs (null or empty when absent) and the rest of the attributes.
     */
    public record Request(long[] in, long[] axes, Tensor roi, Tensor scales, Tensor sizes, String keepAspectRatioPolicy,
                          String mode, String coordinateTransformationMode, String nearestMode, double cubicA,
                          boolean antialias, boolean excludeOutside, double extrapolation) {}

    /**
     * What a Resize computes, for backends that run it themselves: the output shape and, per axis and output
     * coordinate, the input indices read and their weights ({@code index[axis][x]} null: {@code extrapolation} there).
     * With mode nearest an output coordinate reads {@link #nearest} of its two candidates.
     */
    public record Plan(long[] out, int[][][] index, double[][][] weight, Settings settings) {
        public boolean isNearest() { return settings.mode.equals("nearest"); }

        public double extrapolation() { return settings.extrapolation; }

        /** For mode nearest: the input index output coordinate {@code x} of {@code axis} reads. */
        public int nearest(int axis, int x) {
            double[] w = weight[axis][x];
            return index[axis][x][w.length > 1 && w[1] != 0 ? 1 : 0];
        }
    }

    /** Resize's shape logic and per-axis filters (see the class comment); errors through {@code error}. */
    public static Plan plan(Request q, Function<String, ? extends RuntimeException> error) {
        int r = q.in.length;
        long[] in = q.in;
        int[] axes = q.axes != null ? ShapeMath.axes(q.axes, r, error::apply) : ShapeKernels.range(r);
        Tensor roiT = nonEmpty(q.roi), scalesT = nonEmpty(q.scales), sizesT = nonEmpty(q.sizes);
        if ((scalesT == null) == (sizesT == null)) throw error.apply("exactly one of scales and sizes must be given");
        long[] out = in.clone();
        double[] scale = new double[r];
        Arrays.fill(scale, 1);
        if (sizesT != null) {
            long[] sizes = sizesT.toLongArray();
            if (sizes.length != axes.length)
                throw error.apply("sizes has " + sizes.length + " entries for " + axes.length + " axes");
            String policy = q.keepAspectRatioPolicy;
            if (policy.equals("stretch")) {
                for (int i = 0; i < axes.length; i++) {
                    out[axes[i]] = sizes[i];
                    scale[axes[i]] = (double) sizes[i] / in[axes[i]];
                }
            } else if (policy.equals("not_larger") || policy.equals("not_smaller")) {
                long[] dims = new long[axes.length];
                for (int i = 0; i < axes.length; i++) dims[i] = in[axes[i]];
                double s = ResizeMath.aspectScale(dims, sizes, policy);
                long[] o = ResizeMath.aspectSizes(dims, sizes, policy);
                for (int i = 0; i < axes.length; i++) {
                    out[axes[i]] = o[i];
                    scale[axes[i]] = s;
                }
            } else {
                throw error.apply("unknown keep_aspect_ratio_policy '" + policy + "'");
            }
            for (long s : out) if (s < 0) throw error.apply("sizes must not be negative");
        } else {
            if (scalesT.numel() != axes.length)
                throw error.apply("scales has " + scalesT.numel() + " entries for " + axes.length + " axes");
            for (int i = 0; i < axes.length; i++) {
                double s = scalesT.getDouble(i);
                if (!(s > 0)) throw error.apply("scales must be positive, got " + s);
                scale[axes[i]] = s;
                out[axes[i]] = ResizeMath.scaledSize(in[axes[i]], s);
            }
        }
        double[] roi = null;
        if (roiT != null) {
            if (roiT.numel() != 2 * axes.length)
                throw error.apply("roi has " + roiT.numel() + " entries, expected " + 2 * axes.length);
            roi = new double[2 * r];
            for (int k = 0; k < r; k++) roi[r + k] = 1;
            for (int i = 0; i < axes.length; i++) {
                roi[axes[i]] = roiT.getDouble(i);
                roi[r + axes[i]] = roiT.getDouble(i + axes.length);
            }
        }
        Settings s = new Settings(q.mode, q.coordinateTransformationMode, q.nearestMode, q.cubicA, q.antialias,
                q.excludeOutside, q.extrapolation);
        if (s.antialias && s.mode.equals("nearest")) throw error.apply("antialias is not defined for mode 'nearest'");
        if (s.coordMode.equals("tf_crop_and_resize") && roi == null)
            throw error.apply("coordinate_transformation_mode tf_crop_and_resize needs the roi input");
        boolean[] resized = new boolean[r];
        for (int a : axes) resized[a] = true;
        int[][][] index = new int[r][][];
        double[][][] weight = new double[r][][];
        for (int k = 0; k < r; k++) {
            AxisFilter f = resized[k] ? filter(in[k], out[k], scale[k], roi == null ? 0 : roi[k],
                    roi == null ? 1 : roi[r + k], s, error) : identity(in[k]);
            index[k] = f.index();
            weight[k] = f.weight();
        }
        return new Plan(out, index, weight, s);
    }

    static Tensor upsample(KernelCall c) {
        Tensor x = c.required(0);
        Tensor scales = c.required(1);
        int r = x.rank();
        if (scales.numel() != r) throw c.error("scales has " + scales.numel() + " entries for rank " + r);
        String mode = c.attrString("mode");
        if (!mode.equals("nearest") && !mode.equals("linear"))
            throw c.error("unknown mode '" + mode + "' (expected nearest or linear)");
        Settings s = new Settings(mode, "asymmetric", "floor", -0.75, false, false, 0);
        long[] out = new long[r];
        int[][][] index = new int[r][][];
        double[][][] weight = new double[r][][];
        for (int k = 0; k < r; k++) {
            double sc = scales.getDouble(k);
            if (!(sc >= 1)) throw c.error("Upsample scales must be >= 1, got " + sc);
            out[k] = ResizeMath.scaledSize(x.dim(k), sc);
            AxisFilter f = filter(x.dim(k), out[k], sc, 0, 1, s, c::error);
            index[k] = f.index();
            weight[k] = f.weight();
        }
        return apply(x, new Plan(out, index, weight, s));
    }

    private static Tensor nonEmpty(Tensor t) { return t == null || t.numel() == 0 ? null : t; }

    private static AxisFilter identity(long n) {
        int[][] idx = new int[(int) n][];
        double[][] w = new double[(int) n][];
        for (int i = 0; i < n; i++) {
            idx[i] = new int[] {i};
            w[i] = new double[] {1};
        }
        return new AxisFilter(idx, w);
    }

    private static AxisFilter filter(long in, long out, double scale, double roiStart, double roiEnd, Settings s,
                                     Function<String, ? extends RuntimeException> error) {
        if (in == 0 && out > 0) throw error.apply("cannot resize an empty axis to " + out);
        int[][] idx = new int[(int) out][];
        double[][] w = new double[(int) out][];
        double outWidth = scale * in;
        for (int x = 0; x < out; x++) {
            double xo = switch (s.coordMode) {
                case "half_pixel" -> (x + 0.5) / scale - 0.5;
                case "half_pixel_symmetric" -> in / 2.0 * (1 - out / outWidth) + (x + 0.5) / scale - 0.5;
                case "pytorch_half_pixel" -> outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
                case "align_corners" -> outWidth == 1 ? 0 : x * (in - 1) / (outWidth - 1);
                case "asymmetric" -> x / scale;
                case "tf_crop_and_resize" -> (outWidth == 1 ? (roiEnd - roiStart) * (in - 1) / 2
                        : x * (roiEnd - roiStart) * (in - 1) / (outWidth - 1)) + roiStart * (in - 1);
                default -> throw error.apply("unknown coordinate_transformation_mode '" + s.coordMode + "'");
            };
            if (s.coordMode.equals("tf_crop_and_resize") && (xo < 0 || xo > in - 1)) continue;
            double fl = Math.floor(xo);
            // ratio is in (0, 1]: an exact input coordinate is taken as the right neighbour of the one before it.
            double ratio = xo == fl ? 1 : xo - fl;
            long base = (long) fl - (xo == fl ? 1 : 0);
            double[] coeffs = coefficients(ratio, scale, s, error);
            int n = coeffs.length;
            long first = base - (n / 2 - 1);
            int[] ix = new int[n];
            double sum = 0;
            for (int j = 0; j < n; j++) {
                long p = first + j;
                if (s.excludeOutside && (p < 0 || p >= in)) coeffs[j] = 0;
                ix[j] = (int) Math.clamp(p, 0, in - 1);
                sum += coeffs[j];
            }
            if (s.excludeOutside && sum != 0) for (int j = 0; j < n; j++) coeffs[j] /= sum;
            idx[x] = ix;
            w[x] = coeffs;
        }
        return new AxisFilter(idx, w);
    }

    private static double[] coefficients(double ratio, double scale, Settings s,
                                         Function<String, ? extends RuntimeException> error) {
        switch (s.mode) {
            case "nearest" -> {
                if (ratio == 1) return new double[] {0, 1};
                boolean up = switch (s.nearestMode) {
                    case "round_prefer_floor" -> ratio > 0.5;
                    case "round_prefer_ceil" -> ratio >= 0.5;
                    case "floor" -> false;
                    case "ceil" -> true;
                    default -> throw error.apply("unknown nearest_mode '" + s.nearestMode + "'");
                };
                return up ? new double[] {0, 1} : new double[] {1, 0};
            }
            case "linear" -> {
                if (!s.antialias) return new double[] {1 - ratio, ratio};
                double sc = Math.min(scale, 1);
                int start = (int) Math.floor(-1 / sc) + 1, n = 2 - 2 * start;
                double[] w = new double[n];
                for (int j = 0; j < n; j++) w[j] = Math.max(0, 1 - Math.abs((start + j - ratio) * sc));
                return normalized(w);
            }
            case "cubic" -> {
                double a = s.cubicA;
                if (!s.antialias)
                    return new double[] {cubic(ratio + 1, a), cubic(ratio, a), cubic(1 - ratio, a), cubic(2 - ratio, a)};
                double sc = Math.min(scale, 1);
                int start = (int) Math.floor(-2 / sc) + 1, n = 2 - 2 * start;
                double[] w = new double[n];
                for (int j = 0; j < n; j++) w[j] = cubic(sc * (start + j - ratio), a);
                return normalized(w);
            }
            default -> throw error.apply("unknown mode '" + s.mode + "' (expected nearest, linear or cubic)");
        }
    }

    /** Keys' cubic convolution kernel with parameter {@code a}. */
    private static double cubic(double x, double a) {
        x = Math.abs(x);
        if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }

    private static double[] normalized(double[] w) {
        double sum = 0;
        for (double v : w) sum += v;
        for (int j = 0; j < w.length; j++) w[j] /= sum;
        return w;
    }

    private static Tensor apply(Tensor x, Plan plan) {
        Tensor out = Tensor.zeros(x.dtype(), plan.out);
        int r = plan.out.length;
        long[] st = Tensor.strides(x.shape()), idx = new long[r];
        for (int i = 0; i < out.numel(); i++) {
            boolean extrapolate = false;
            for (int k = 0; k < r; k++) extrapolate |= plan.index[k][(int) idx[k]] == null;
            if (extrapolate) {
                out.setDouble(i, plan.extrapolation());
            } else if (plan.isNearest()) {
                long src = 0;
                for (int k = 0; k < r; k++) src += plan.nearest(k, (int) idx[k]) * st[k];
                out.copyElement(i, x, (int) src);
            } else {
                out.setDouble(i, sum(x, plan, idx, st, 0, 0));
            }
            Strided.next(idx, plan.out);
        }
        return out;
    }

    private static double sum(Tensor x, Plan plan, long[] idx, long[] st, int axis, long base) {
        if (axis == idx.length) return x.getDouble((int) base);
        int p = (int) idx[axis];
        int[] ix = plan.index[axis][p];
        double[] w = plan.weight[axis][p];
        double acc = 0;
        for (int j = 0; j < ix.length; j++)
            if (w[j] != 0) acc += w[j] * sum(x, plan, idx, st, axis + 1, base + ix[j] * st[axis]);
        return acc;
    }
}
