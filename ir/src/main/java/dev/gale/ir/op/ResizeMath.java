package dev.gale.ir.op;

/**
 * Output sizes of Resize and Upsample, shared by type inference and the interpreter so both round the same way:
 * a scale gives {@code floor(size * scale)}, computed in float32 as ONNX's shape inference and ONNX Runtime do (so
 * a scale of {@code 1.3f} turns 10 into 13, where float64 would give 12); a size under an aspect-ratio policy gives
 * {@code round_half_up(size * s)} where {@code s} is the smallest ({@code not_larger}) or largest
 * ({@code not_smaller}) of the requested ratios.
 */
public final class ResizeMath {
    private ResizeMath() {}

    public static long scaledSize(long size, double scale) { return (long) Math.floor((float) size * (float) scale); }

    /** The single scale that the policy applies to every resized axis. */
    public static double aspectScale(long[] dims, long[] sizes, String policy) {
        double s = policy.equals("not_larger") ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        for (int i = 0; i < dims.length; i++) {
            double r = (double) sizes[i] / dims[i];
            s = policy.equals("not_larger") ? Math.min(s, r) : Math.max(s, r);
        }
        return s;
    }

    public static long[] aspectSizes(long[] dims, long[] sizes, String policy) {
        double s = aspectScale(dims, sizes, policy);
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) out[i] = (long) (s * dims[i] + 0.5);
        return out;
    }
}
