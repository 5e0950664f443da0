package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.util.List;

/**
 * Cutting tensors along one axis and putting them back together: what Scan, Loop and the sequence ops need.
 * A row-major tensor seen around axis {@code a} is {@code [outer, shape[a], inner]}, so each operation is a copy of
 * contiguous {@code inner}-long runs.
 */
final class AxisSlices {
    private AxisSlices() {}

    private static int outer(long[] shape, int axis) {
        long n = 1;
        for (int i = 0; i < axis; i++) n *= shape[i];
        return (int) n;
    }

    private static int inner(long[] shape, int axis) {
        long n = 1;
        for (int i = axis + 1; i < shape.length; i++) n *= shape[i];
        return (int) n;
    }

    /** Positions {@code [start, start + len)} of {@code axis}; the axis stays, with length {@code len}. */
    static Tensor narrow(Tensor x, int axis, long start, long len) {
        long[] shape = x.shape();
        if (start < 0 || len < 0 || start + len > shape[axis])
            throw new GaleException("slice [" + start + ", " + (start + len) + ") is outside axis " + axis
                    + " of length " + shape[axis]);
        long[] outShape = shape.clone();
        outShape[axis] = len;
        Tensor out = Tensor.zeros(x.dtype(), outShape);
        int outer = outer(shape, axis), inner = inner(shape, axis);
        int dst = 0;
        for (int o = 0; o < outer; o++) {
            int src = (int) ((o * shape[axis] + start) * inner);
            for (int k = 0; k < len * inner; k++) out.copyElement(dst++, x, src + k);
        }
        return out;
    }

    /** Position {@code index} of {@code axis}, with the axis removed (rank drops by one). */
    static Tensor select(Tensor x, int axis, long index) {
        long[] shape = x.shape();
        long[] outShape = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) if (i != axis) outShape[j++] = shape[i];
        return narrow(x, axis, index, 1).reshape(outShape);
    }

    /** Joins tensors along an existing axis; all other dimensions must agree. */
    static Tensor concat(List<Tensor> parts, int axis, DType dtype) {
        if (parts.isEmpty()) throw new GaleException("nothing to concatenate");
        long[] shape = parts.get(0).shape();
        long total = 0;
        for (Tensor t : parts) {
            long[] s = t.shape();
            if (t.dtype() != dtype) throw new GaleException("cannot concatenate " + t.dtype() + " with " + dtype);
            boolean fits = s.length == shape.length;
            for (int i = 0; fits && i < s.length; i++) fits = i == axis || s[i] == shape[i];
            if (!fits)
                throw new GaleException("cannot concatenate shapes " + java.util.Arrays.toString(shape) + " and "
                        + java.util.Arrays.toString(s) + " along axis " + axis);
            total += s[axis];
        }
        long[] outShape = shape.clone();
        outShape[axis] = total;
        Tensor out = Tensor.zeros(dtype, outShape);
        int outer = outer(shape, axis), inner = inner(shape, axis);
        int dst = 0;
        for (int o = 0; o < outer; o++)
            for (Tensor t : parts) {
                int run = (int) (t.dim(axis) * inner);
                for (int k = 0; k < run; k++) out.copyElement(dst++, t, o * run + k);
            }
        return out;
    }

    /** Stacks equally shaped tensors along a new axis at position {@code axis} (0 to rank). */
    static Tensor stack(List<Tensor> parts, int axis, DType dtype) {
        if (parts.isEmpty()) throw new GaleException("nothing to stack");
        List<Tensor> expanded = parts.stream().map(t -> t.reshape(insert(t.shape(), axis, 1))).toList();
        long[] first = parts.get(0).shape();
        for (Tensor t : parts)
            if (!java.util.Arrays.equals(t.shape(), first))
                throw new GaleException("cannot stack shapes " + java.util.Arrays.toString(first) + " and "
                        + java.util.Arrays.toString(t.shape()));
        return concat(expanded, axis, dtype);
    }

    /** {@code shape} with {@code size} inserted at position {@code axis}. */
    static long[] insert(long[] shape, int axis, long size) {
        long[] r = new long[shape.length + 1];
        for (int i = 0, j = 0; i < r.length; i++) r[i] = i == axis ? size : shape[j++];
        return r;
    }
}
