package dev.gale.ir.op;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Sliding-window geometry of Conv, ConvTranspose and the pooling ops, shared by type inference and the interpreter so
 * both agree on every output size and pad.
 *
 * <p>Per spatial axis with input size {@code in}, kernel {@code k}, stride {@code s}, dilation {@code d} and effective
 * kernel {@code e = (k - 1) * d + 1}:
 * <ul>
 *   <li>NOTSET (explicit pads {@code b}, {@code a}): {@code out = floor((in + b + a - e) / s) + 1}; with
 *       {@code ceil_mode} the division rounds up, but a last window that would start in the end padding is dropped
 *       (PyTorch's rule, which newer ONNX references follow).</li>
 *   <li>VALID: the same with zero pads.</li>
 *   <li>SAME_UPPER / SAME_LOWER: {@code out = ceil(in / s)}; the total pad {@code (out - 1) * s + e - in} (at least 0)
 *       is split evenly, the odd element at the end (UPPER) or at the beginning (LOWER).</li>
 * </ul>
 * ConvTranspose runs the window the other way: {@code out = s * (in - 1) + output_padding + e - b - a}, or the
 * requested {@code output_shape} with pads derived from it; SAME gives {@code out = in * s}.
 *
 * <p>Sizes that are not known at compile time are {@link #UNKNOWN}; every size derived from one is unknown too.
 */
public record ConvGeometry(long[] kernel, long[] strides, long[] dilations, long[] padsBegin, long[] padsEnd,
                           long[] out) {
    public static final long UNKNOWN = -1;

    public enum AutoPad { NOTSET, SAME_UPPER, SAME_LOWER, VALID }

    /** The spatial rank. */
    public int rank() { return kernel.length; }

    /** Parses the {@code auto_pad} attribute (ONNX also accepts the empty string for NOTSET). */
    public static AutoPad autoPad(String s, Function<String, ? extends RuntimeException> error) {
        return switch (s) {
            case "", "NOTSET" -> AutoPad.NOTSET;
            case "SAME_UPPER" -> AutoPad.SAME_UPPER;
            case "SAME_LOWER" -> AutoPad.SAME_LOWER;
            case "VALID" -> AutoPad.VALID;
            default -> throw error.apply("auto_pad '" + s + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        };
    }

    /**
     * Geometry of a forward window (Conv and pooling).
     *
     * @param in        input spatial sizes, {@link #UNKNOWN} where not known
     * @param kernel    kernel sizes, {@link #UNKNOWN} where not known
     * @param strides   the {@code strides} attribute or null (all 1)
     * @param dilations the {@code dilations} attribute or null (all 1)
     * @param pads      the {@code pads} attribute (begins then ends) or null (all 0)
     */
    public static ConvGeometry forward(long[] in, long[] kernel, long[] strides, long[] dilations, long[] pads,
                                       AutoPad autoPad, boolean ceilMode,
                                       Function<String, ? extends RuntimeException> error) {
        int r = in.length;
        long[] s = perAxis("strides", strides, r, 1, error), d = perAxis("dilations", dilations, r, 1, error);
        long[] p = pads(pads, r, error);
        checkKernel(kernel, r, error);
        long[] pb = Arrays.copyOfRange(p, 0, r), pe = Arrays.copyOfRange(p, r, 2 * r), out = new long[r];
        for (int i = 0; i < r; i++) {
            long e = kernel[i] == UNKNOWN ? UNKNOWN : (kernel[i] - 1) * d[i] + 1;
            switch (autoPad) {
                case SAME_UPPER, SAME_LOWER -> {
                    out[i] = in[i] == UNKNOWN ? UNKNOWN : ceilDiv(in[i], s[i]);
                    if (in[i] == UNKNOWN || e == UNKNOWN) {
                        pb[i] = pe[i] = UNKNOWN;
                    } else {
                        long total = Math.max(0, (out[i] - 1) * s[i] + e - in[i]);
                        long small = total / 2;
                        pb[i] = autoPad == AutoPad.SAME_UPPER ? small : total - small;
                        pe[i] = total - pb[i];
                    }
                }
                case VALID, NOTSET -> {
                    if (autoPad == AutoPad.VALID) pb[i] = pe[i] = 0;
                    if (in[i] == UNKNOWN || e == UNKNOWN) {
                        out[i] = UNKNOWN;
                        continue;
                    }
                    long span = in[i] + pb[i] + pe[i] - e;
                    if (span < 0)
                        throw error.apply("the window (kernel " + kernel[i] + ", dilation " + d[i]
                                + ") is larger than the padded input (" + (in[i] + pb[i] + pe[i]) + ") on spatial axis "
                                + i);
                    out[i] = (ceilMode ? ceilDiv(span, s[i]) : span / s[i]) + 1;
                    // A window must start inside the input or the begin padding, never in the end padding.
                    if (ceilMode && (out[i] - 1) * s[i] >= in[i] + pb[i]) out[i]--;
                }
            }
        }
        return new ConvGeometry(kernel.clone(), s, d, pb, pe, out);
    }

    /**
     * Geometry of ConvTranspose: {@code out[i]} is the output size, and {@code padsBegin/padsEnd} say how much of
     * the full (unpadded) result is cut at each end; a negative end pad extends the output with zeros there.
     *
     * @param outputPadding the {@code output_padding} attribute or null
     * @param outputShape   the {@code output_shape} attribute (spatial sizes, optionally preceded by N and C) or null
     */
    public static ConvGeometry transposed(long[] in, long[] kernel, long[] strides, long[] dilations, long[] pads,
                                          AutoPad autoPad, long[] outputPadding, long[] outputShape,
                                          Function<String, ? extends RuntimeException> error) {
        int r = in.length;
        long[] s = perAxis("strides", strides, r, 1, error), d = perAxis("dilations", dilations, r, 1, error);
        long[] op = outputPadding == null ? new long[r] : outputPadding.clone();
        if (op.length != r)
            throw error.apply("output_padding has " + op.length + " values, expected " + r + " (one per spatial axis)");
        long[] p = pads(pads, r, error);
        checkKernel(kernel, r, error);
        long[] want = null;
        if (outputShape != null) {
            if (outputShape.length < r)
                throw error.apply("output_shape " + Arrays.toString(outputShape) + " has fewer than " + r + " values");
            want = Arrays.copyOfRange(outputShape, outputShape.length - r, outputShape.length);
        }
        long[] pb = Arrays.copyOfRange(p, 0, r), pe = Arrays.copyOfRange(p, r, 2 * r), out = new long[r];
        for (int i = 0; i < r; i++) {
            if (op[i] < 0 || op[i] >= Math.max(s[i], d[i]))
                throw error.apply("output_padding " + op[i] + " on spatial axis " + i
                        + " must be non-negative and less than the stride or the dilation");
            long full = in[i] == UNKNOWN || kernel[i] == UNKNOWN ? UNKNOWN
                    : s[i] * (in[i] - 1) + op[i] + (kernel[i] - 1) * d[i] + 1;
            if (want != null || autoPad == AutoPad.SAME_UPPER || autoPad == AutoPad.SAME_LOWER) {
                if (want != null) out[i] = want[i];
                else out[i] = in[i] == UNKNOWN ? UNKNOWN : in[i] * s[i];
                if (full == UNKNOWN || out[i] == UNKNOWN) {
                    pb[i] = pe[i] = UNKNOWN;
                } else {
                    long total = full - out[i];
                    if (total < 0) {
                        // A requested output larger than the full result is padded with zeros at the end.
                        pb[i] = 0;
                        pe[i] = total;
                    } else {
                        pb[i] = autoPad == AutoPad.SAME_UPPER ? total / 2 : total - total / 2;
                        pe[i] = total - pb[i];
                    }
                }
            } else {
                if (autoPad == AutoPad.VALID) pb[i] = pe[i] = 0;
                out[i] = full == UNKNOWN ? UNKNOWN : full - pb[i] - pe[i];
                if (out[i] != UNKNOWN && out[i] <= 0)
                    throw error.apply("the pads leave no output on spatial axis " + i);
            }
            if (out[i] != UNKNOWN && out[i] < 0) throw error.apply("output_shape has a negative size");
        }
        return new ConvGeometry(kernel.clone(), s, d, pb, pe, out);
    }

    private static long[] perAxis(String name, long[] v, int r, long def,
                                  Function<String, ? extends RuntimeException> error) {
        if (v == null) {
            long[] a = new long[r];
            Arrays.fill(a, def);
            return a;
        }
        if (v.length != r)
            throw error.apply(name + " has " + v.length + " values, expected " + r + " (one per spatial axis)");
        for (long x : v) if (x < 1) throw error.apply(name + " " + Arrays.toString(v) + " must be positive");
        return v.clone();
    }

    private static long[] pads(long[] pads, int r, Function<String, ? extends RuntimeException> error) {
        if (pads == null) return new long[2 * r];
        if (pads.length != 2 * r)
            throw error.apply("pads has " + pads.length + " values, expected " + 2 * r
                    + " (begin and end of each spatial axis)");
        for (long x : pads) if (x < 0) throw error.apply("pads " + Arrays.toString(pads) + " must not be negative");
        return pads.clone();
    }

    private static void checkKernel(long[] kernel, int r, Function<String, ? extends RuntimeException> error) {
        if (kernel.length != r)
            throw error.apply("kernel_shape has " + kernel.length + " values, expected " + r
                    + " (one per spatial axis)");
        for (long k : kernel)
            if (k != UNKNOWN && k < 1) throw error.apply("kernel_shape " + Arrays.toString(kernel) + " must be positive");
    }

    static long ceilDiv(long a, long b) { return -Math.floorDiv(-a, b); }
}
