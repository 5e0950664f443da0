package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.ShapeMath;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Unique: the distinct elements (or, with {@code axis}, the distinct slices along that axis) of the input, in
 * ascending order ({@code sorted=1}, slices compared lexicographically as numpy does; NaN sorts last and equals NaN)
 * or in order of first occurrence. Outputs: the unique values, the index of each one's first occurrence, for each
 * input element the index of its unique value, and each unique value's count.
 */
final class UniqueKernel {
    private UniqueKernel() {}

    static List<Object> unique(KernelCall c) {
        Tensor x = c.required(0);
        boolean hasAxis = c.hasAttr("axis");
        if (!hasAxis) x = x.reshape(x.numel());
        int axis = hasAxis ? ShapeMath.axis(c.attrInt("axis"), x.rank(), c::error) : 0;
        long[] s = x.shape();
        int n = (int) s[axis];
        long outer = Strided.product(s, 0, axis), inner = Strided.product(s, axis + 1, s.length);
        Tensor src = x;
        Comparator<Integer> bySlice = (a, b) -> compareSlices(src, a, b, n, outer, inner);
        // Slices in ascending order, ties broken by position so the first of equal slices comes first.
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, bySlice.thenComparing(Integer::compare));
        List<Integer> firsts = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        int[] group = new int[n];
        for (int k = 0; k < n; k++) {
            if (k == 0 || bySlice.compare(order[k - 1], order[k]) != 0) {
                firsts.add(order[k]);
                counts.add(0L);
            }
            group[order[k]] = firsts.size() - 1;
            counts.set(firsts.size() - 1, counts.getLast() + 1);
        }
        int u = firsts.size();
        int[] rank = new int[u];
        for (int g = 0; g < u; g++) rank[g] = g;
        if (c.attrInt("sorted") == 0) {
            // Reorder the groups by first occurrence.
            Integer[] byFirst = new Integer[u];
            for (int g = 0; g < u; g++) byFirst[g] = g;
            Arrays.sort(byFirst, Comparator.comparing(firsts::get));
            for (int k = 0; k < u; k++) rank[byFirst[k]] = k;
        }
        long[] shape = s.clone();
        shape[axis] = u;
        Tensor y = Tensor.zeros(x.dtype(), shape);
        Tensor indices = Tensor.zeros(DType.INT64, u), inverse = Tensor.zeros(DType.INT64, n);
        Tensor count = Tensor.zeros(DType.INT64, u);
        for (int g = 0; g < u; g++) {
            int k = rank[g];
            indices.setLong(k, firsts.get(g));
            count.setLong(k, counts.get(g));
            for (long o = 0; o < outer; o++)
                Strided.copy(x, (int) ((o * n + firsts.get(g)) * inner), y, (int) ((o * u + k) * inner), (int) inner);
        }
        for (int i = 0; i < n; i++) inverse.setLong(i, rank[group[i]]);
        return new ArrayList<>(List.<Object>of(y, indices, inverse, count).subList(0, c.numOutputs()));
    }

    private static int compareSlices(Tensor x, int a, int b, int n, long outer, long inner) {
        if (a == b) return 0;
        for (long o = 0; o < outer; o++) {
            for (long e = 0; e < inner; e++) {
                int c = compareElements(x, (int) ((o * n + a) * inner + e), (int) ((o * n + b) * inner + e));
                if (c != 0) return c;
            }
        }
        return 0;
    }

    private static int compareElements(Tensor x, int i, int j) {
        DType t = x.dtype();
        if (t == DType.STRING) return x.getString(i).compareTo(x.getString(j));
        if (t == DType.UINT64) return Long.compareUnsigned(x.getLong(i), x.getLong(j));
        if (!t.isFloat()) return Long.compare(x.getLong(i), x.getLong(j));
        double a = x.getDouble(i), b = x.getDouble(j);
        if (a < b) return -1;
        if (a > b) return 1;
        if (a == b) return 0;
        return Boolean.compare(Double.isNaN(a), Double.isNaN(b));
    }
}
