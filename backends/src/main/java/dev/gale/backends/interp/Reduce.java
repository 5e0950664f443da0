package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Arrays;

/**
 * Axis bookkeeping for the reduction kernels: which axes a reduction folds, the shape it leaves, which output slot
 * each input element folds into, and a tensor seen as {@code [outer, len, inner]} around one axis.
 */
final class Reduce {
    private Reduce() {}

    /** The axes to fold as a mask over {@code rank}; no axes means all of them. Negative axes count from the end. */
    static boolean[] mask(long[] axes, int rank, KernelCall c) {
        boolean[] mask = new boolean[rank];
        if (axes.length == 0) Arrays.fill(mask, true);
        for (long a : axes) {
            int k = axis(a, rank, c);
            if (mask[k]) throw c.error("axis " + a + " appears twice in axes " + Arrays.toString(axes));
            mask[k] = true;
        }
        return mask;
    }

    /** Normalizes an axis in {@code [-rank, rank)}. */
    static int axis(long axis, int rank, KernelCall c) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw c.error("axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    /** The shape left after folding the masked axes: size 1 with {@code keepdims}, else dropped. */
    static long[] shape(long[] shape, boolean[] mask, boolean keepdims) {
        long[] out = new long[shape.length];
        int r = 0;
        for (int k = 0; k < shape.length; k++) {
            if (!mask[k]) out[r++] = shape[k];
            else if (keepdims) out[r++] = 1;
        }
        return Arrays.copyOf(out, r);
    }

    /** For each element of a tensor of {@code shape} (row-major), the flat index of the output slot it folds into. */
    static int[] slots(long[] shape, boolean[] mask) {
        long[] kept = shape(shape, mask, true);
        // A broadcast read of the keepdims-shaped output from the input shape is exactly the fold's slot map.
        return Broadcast.indexMap(shape, kept);
    }

    /** The input elements of each output slot, in row-major order, as float64 values. */
    static double[][] groupsReal(Tensor x, boolean[] mask) {
        int[] slots = slots(x.shape(), mask);
        int[] count = counts(slots, Tensor.checkedNumel(shape(x.shape(), mask, true)));
        double[][] g = new double[count.length][];
        for (int s = 0; s < g.length; s++) g[s] = new double[count[s]];
        Arrays.fill(count, 0);
        for (int i = 0; i < slots.length; i++) g[slots[i]][count[slots[i]]++] = x.getDouble(i);
        return g;
    }

    /** The input elements of each output slot, in row-major order, as exact 64-bit integers. */
    static long[][] groupsExact(Tensor x, boolean[] mask) {
        int[] slots = slots(x.shape(), mask);
        int[] count = counts(slots, Tensor.checkedNumel(shape(x.shape(), mask, true)));
        long[][] g = new long[count.length][];
        for (int s = 0; s < g.length; s++) g[s] = new long[count[s]];
        Arrays.fill(count, 0);
        for (int i = 0; i < slots.length; i++) g[slots[i]][count[slots[i]]++] = x.getLong(i);
        return g;
    }

    private static int[] counts(int[] slots, int n) {
        int[] count = new int[n];
        for (int s : slots) count[s]++;
        return count;
    }

    /** A tensor seen as {@code [outer, len, inner]} around one axis; element {@code (o, k, i)} is at {@link #at}. */
    record Axis(int outer, int len, int inner) {
        static Axis of(long[] shape, int axis) {
            long outer = 1, inner = 1;
            for (int k = 0; k < axis; k++) outer *= shape[k];
            for (int k = axis + 1; k < shape.length; k++) inner *= shape[k];
            return new Axis((int) outer, (int) shape[axis], (int) inner);
        }

        int at(int o, int k, int i) { return (o * len + k) * inner + i; }
    }

    /**
     * Orders elements {@code i} and {@code j} of {@code x} by value: exact for integers (unsigned for u64), and for
     * floats NaN above everything (so an arg-max finds the first NaN, as numpy's does) and -0 equal to +0.
     */
    static int compare(Tensor x, int i, int j) {
        DType t = x.dtype();
        if (!t.isFloat()) {
            long a = x.getLong(i), b = x.getLong(j);
            return t == DType.UINT64 ? Long.compareUnsigned(a, b) : Long.compare(a, b);
        }
        double a = x.getDouble(i), b = x.getDouble(j);
        if (Double.isNaN(a) || Double.isNaN(b)) return Boolean.compare(Double.isNaN(a), Double.isNaN(b));
        return a < b ? -1 : a > b ? 1 : 0;
    }

    /** The smallest value of an integer element type, as its 64-bit bit pattern. */
    static long minValue(DType t) {
        return switch (t) {
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT64 -> Long.MIN_VALUE;
            default -> 0; // unsigned types and bool
        };
    }

    /** The largest value of an integer element type, as its 64-bit bit pattern (u64's is all ones). */
    static long maxValue(DType t) {
        return switch (t) {
            case INT8 -> Byte.MAX_VALUE;
            case UINT8 -> 0xffL;
            case INT16 -> Short.MAX_VALUE;
            case UINT16 -> 0xffffL;
            case INT32 -> Integer.MAX_VALUE;
            case UINT32 -> 0xffffffffL;
            case INT64 -> Long.MAX_VALUE;
            case UINT64 -> -1L;
            default -> 1; // bool
        };
    }
}
