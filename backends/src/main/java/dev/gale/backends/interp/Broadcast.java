package dev.gale.backends.interp;

import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.util.Arrays;

/** Numpy broadcasting for the interpreter: the result shape, and for each output element the input element it reads. */
public final class Broadcast {
    private Broadcast() {}

    public static long[] shape(long[]... shapes) {
        int rank = 0;
        for (long[] s : shapes) rank = Math.max(rank, s.length);
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        for (long[] s : shapes) {
            for (int k = 0; k < s.length; k++) {
                int o = k + rank - s.length;
                if (s[k] == out[o] || s[k] == 1) continue;
                if (out[o] == 1) out[o] = s[k];
                else throw new GaleException("shapes " + describe(shapes) + " do not broadcast");
            }
        }
        return out;
    }

    private static String describe(long[][] shapes) {
        StringBuilder sb = new StringBuilder();
        for (long[] s : shapes) sb.append(sb.isEmpty() ? "" : " and ").append(Arrays.toString(s));
        return sb.toString();
    }

    /** For every element of {@code outShape} (row-major), the flat index into a tensor of {@code inShape}. */
    public static int[] indexMap(long[] outShape, long[] inShape) {
        int n = Tensor.checkedNumel(outShape);
        int rank = outShape.length;
        long[] inStrides = new long[rank];
        long[] st = Tensor.strides(inShape);
        for (int k = 0; k < inShape.length; k++) {
            int o = k + rank - inShape.length;
            inStrides[o] = inShape[k] == 1 ? 0 : st[k];
        }
        int[] map = new int[n];
        long[] idx = new long[rank];
        long flat = 0;
        for (int i = 0; i < n; i++) {
            map[i] = (int) flat;
            for (int k = rank - 1; k >= 0; k--) {
                idx[k]++;
                flat += inStrides[k];
                if (idx[k] < outShape[k]) break;
                flat -= inStrides[k] * idx[k];
                idx[k] = 0;
            }
        }
        return map;
    }

    /** Normalizes a possibly negative axis; an error names the axis and the rank. */
    public static int axis(long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.max(rank, 1) && !(rank == 0 && a == 0))
            throw new GaleException("axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }
}
