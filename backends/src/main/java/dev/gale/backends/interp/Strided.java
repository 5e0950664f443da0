package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

/**
 * Data movement for the shape kernels. Most of them (Transpose, Slice, Split, Expand, DepthToSpace) are one strided
 * view of the input: output element {@code (i_0, ..., i_k)} reads input element
 * {@code offset + sum_j i_j * strides[j]}, where a stride may be 0 (broadcast) or negative (reversed slice).
 */
final class Strided {
    private Strided() {}

    /** A new tensor of {@code outShape} whose elements are read from {@code src} through the strided view. */
    static Tensor view(Tensor src, long[] outShape, long offset, long[] strides) {
        Tensor out = Tensor.zeros(src.dtype(), outShape);
        int n = out.numel(), rank = outShape.length;
        if (n == 0) return out;
        long[] idx = new long[rank];
        long flat = offset;
        for (int i = 0; i < n; i++) {
            out.copyElement(i, src, (int) flat);
            for (int k = rank - 1; k >= 0; k--) {
                idx[k]++;
                flat += strides[k];
                if (idx[k] < outShape[k]) break;
                flat -= strides[k] * idx[k];
                idx[k] = 0;
            }
        }
        return out;
    }

    /** Permutes the axes: output axis {@code k} is input axis {@code perm[k]}. */
    static Tensor transpose(Tensor src, int[] perm) {
        long[] in = src.shape(), st = Tensor.strides(in);
        long[] shape = new long[perm.length], strides = new long[perm.length];
        for (int k = 0; k < perm.length; k++) {
            shape[k] = in[perm[k]];
            strides[k] = st[perm[k]];
        }
        return view(src, shape, 0, strides);
    }

    /** Copies {@code len} consecutive elements (complex elements count once). */
    static void copy(Tensor src, int srcPos, Tensor dst, int dstPos, int len) {
        int w = src.dtype() == DType.COMPLEX64 || src.dtype() == DType.COMPLEX128 ? 2 : 1;
        System.arraycopy(src.data(), srcPos * w, dst.data(), dstPos * w, len * w);
    }

    /** Product of {@code shape[from..to)}. */
    static long product(long[] shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }

    /** Unravels a row-major flat index into {@code idx}. */
    static void unravel(long flat, long[] shape, long[] idx) {
        for (int k = shape.length - 1; k >= 0; k--) {
            if (shape[k] == 0) return;
            idx[k] = flat % shape[k];
            flat /= shape[k];
        }
    }

    /** Advances a row-major multi-index by one (an odometer); returns false after the last element. */
    static boolean next(long[] idx, long[] shape) {
        for (int k = shape.length - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) return true;
            idx[k] = 0;
        }
        return false;
    }

    /** Flat row-major offset of a multi-index given the strides. */
    static long offset(long[] idx, long[] strides) {
        long f = 0;
        for (int k = 0; k < idx.length; k++) f += idx[k] * strides[k];
        return f;
    }

    /** A scalar tensor's single value or a 1-element tensor's, as a long. */
    static long scalarLong(Tensor t, KernelCall c, String what) {
        if (t.numel() != 1) throw c.error(what + " must hold exactly one element, has shape "
                + java.util.Arrays.toString(t.shape()));
        return t.getLong(0);
    }
}
