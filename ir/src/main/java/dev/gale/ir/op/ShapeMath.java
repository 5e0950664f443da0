package dev.gale.ir.op;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Concrete shape arithmetic shared by type inference (on constant inputs) and the interpreter's kernels, so that both
 * compute Reshape targets, Slice bounds and Split sizes the same way. Errors go through {@code err}, which names the
 * node ({@code InferContext::error} or {@code KernelCall::error}).
 */
public final class ShapeMath {
    private ShapeMath() {}

    /** One sliced axis after ONNX's clamping: the first index read, the step, and how many elements are read. */
    public record SliceAxis(long start, long step, long count) {}

    /**
     * ONNX Slice bounds for an axis of size {@code dim}: negative {@code start}/{@code end} count from the end, then
     * both are clamped to {@code [0, dim]} for a positive step and to {@code [0, dim-1]}/{@code [-1, dim-1]} for a
     * negative one.
     */
    public static SliceAxis slice(long dim, long start, long end, long step, Function<String, RuntimeException> err) {
        if (step == 0) throw err.apply("slice step must not be 0");
        if (dim == 0) return new SliceAxis(0, step, 0);
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        long count;
        if (step > 0) {
            start = clamp(start, 0, dim);
            end = clamp(end, 0, dim);
            count = end <= start ? 0 : (end - start - 1) / step + 1;
        } else {
            start = clamp(start, 0, dim - 1);
            end = clamp(end, -1, dim - 1);
            count = start <= end ? 0 : step == Long.MIN_VALUE ? 1 : (start - end - 1) / -step + 1;
        }
        return new SliceAxis(start, step, count);
    }

    private static long clamp(long v, long lo, long hi) { return Math.max(lo, Math.min(hi, v)); }

    /**
     * The output shape of Reshape: {@code 0} copies the input dimension (unless {@code allowZero}), one {@code -1} is
     * inferred from the element count.
     */
    public static long[] reshape(long[] in, long[] spec, boolean allowZero, Function<String, RuntimeException> err) {
        long[] out = new long[spec.length];
        int infer = -1;
        long known = 1;
        boolean hasZero = false;
        for (int i = 0; i < spec.length; i++) {
            long v = spec[i];
            if (v == -1) {
                if (infer >= 0) throw err.apply("shape " + Arrays.toString(spec) + " has more than one -1");
                infer = i;
                continue;
            }
            if (v < -1) throw err.apply("shape " + Arrays.toString(spec) + " has invalid dimension " + v);
            if (v == 0 && !allowZero) {
                if (i >= in.length)
                    throw err.apply("shape " + Arrays.toString(spec) + " copies dimension " + i + " (0) but the input "
                            + Arrays.toString(in) + " has rank " + in.length);
                v = in[i];
            }
            hasZero |= v == 0;
            out[i] = v;
            known *= v;
        }
        long numel = 1;
        for (long d : in) numel *= d;
        if (infer >= 0) {
            if (allowZero && hasZero)
                throw err.apply("shape " + Arrays.toString(spec) + " has both 0 and -1 with allowzero=1");
            if (known == 0 || numel % known != 0)
                throw err.apply("cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(spec));
            out[infer] = numel / known;
        } else if (known != numel) {
            throw err.apply("cannot reshape " + Arrays.toString(in) + " (" + numel + " elements) to "
                    + Arrays.toString(out) + " (" + known + " elements)");
        }
        return out;
    }

    /**
     * Sizes of an equal Split of {@code dim} into {@code n} parts: {@code ceil(dim / n)} each, the last part smaller
     * when {@code dim} is not divisible (opset 18).
     */
    public static long[] equalSplit(long dim, int n, Function<String, RuntimeException> err) {
        if (n <= 0) throw err.apply("Split needs at least one output");
        long chunk = (dim + n - 1) / n;
        long[] sizes = new long[n];
        Arrays.fill(sizes, chunk);
        sizes[n - 1] = dim - chunk * (n - 1);
        if (sizes[n - 1] < 0)
            throw err.apply("cannot split a dimension of " + dim + " into " + n + " parts of " + chunk);
        return sizes;
    }

    /** Normalizes a possibly negative axis against {@code rank}. */
    public static int axis(long axis, int rank, Function<String, RuntimeException> err) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw err.apply("axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    /** Normalizes a list of axes against {@code rank}, rejecting duplicates. */
    public static int[] axes(long[] axes, int rank, Function<String, RuntimeException> err) {
        int[] out = new int[axes.length];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < axes.length; i++) {
            out[i] = axis(axes[i], rank, err);
            if (seen[out[i]]) throw err.apply("axis " + axes[i] + " appears twice in " + Arrays.toString(axes));
            seen[out[i]] = true;
        }
        return out;
    }

    /** Number of elements of {@code Range(start, limit, delta)}: {@code max(ceil((limit - start) / delta), 0)}. */
    public static long rangeCount(double start, double limit, double delta, Function<String, RuntimeException> err) {
        if (delta == 0) throw err.apply("Range delta must not be 0");
        double n = Math.ceil((limit - start) / delta);
        if (!(n >= 0)) return 0;
        if (n > Integer.MAX_VALUE) throw err.apply("Range of " + n + " elements is too large");
        return (long) n;
    }

    /** Number of elements of an integer Range, computed exactly. */
    public static long rangeCount(long start, long limit, long delta, Function<String, RuntimeException> err) {
        if (delta == 0) throw err.apply("Range delta must not be 0");
        if (delta > 0 ? limit <= start : limit >= start) return 0;
        long diff = Math.subtractExact(limit, start);
        long n = delta > 0 ? (diff - 1) / delta + 1 : (diff + 1) / delta + 1;
        if (n > Integer.MAX_VALUE) throw err.apply("Range of " + n + " elements is too large");
        return n;
    }
}
