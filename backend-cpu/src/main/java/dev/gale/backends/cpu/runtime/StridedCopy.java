package dev.gale.backends.cpu.runtime;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy between a dense tensor and a strided view of another: element {@code i} of the dense side (row-major over
 * {@code counts}) is element {@code base + sum(idx[d] * strides[d])} of the strided side. Transpose, Slice, Expand
 * (stride 0 on broadcast axes) and SliceGrad are such copies. Dimensions merge where the view is contiguous across
 * them; each remaining row is one {@link MemorySegment#copy} when its innermost stride is 1, an element loop
 * otherwise. Row offsets are computed once, when the plan is built.
 */
final class StridedCopy {
    private final long n, innerStride;
    private final long[] rowOffsets;

    private StridedCopy(long n, long innerStride, long[] rowOffsets) {
        this.n = n;
        this.innerStride = innerStride;
        this.rowOffsets = rowOffsets;
    }

    /** The copy plan, or null when the row table would be too large. */
    static StridedCopy of(long[] counts, long[] strides) {
        List<long[]> dims = new ArrayList<>(); // {count, stride}
        for (int d = 0; d < counts.length; d++) if (counts[d] != 1) dims.add(new long[] {counts[d], strides[d]});
        for (int i = dims.size() - 2; i >= 0; i--) {
            long[] a = dims.get(i), b = dims.get(i + 1);
            if (a[1] == b[1] * b[0]) {
                b[0] *= a[0];
                dims.remove(i);
            }
        }
        long total = 1;
        for (long c : counts) total *= c;
        if (dims.isEmpty()) return new StridedCopy(total, 1, new long[] {0});
        long[] inner = dims.getLast();
        long rows = total / Math.max(1, inner[0]);
        if (rows > ZipLayout.MAX_ROWS) return null;
        int outer = dims.size() - 1;
        long[] table = new long[(int) rows], counter = new long[outer];
        long pos = 0;
        for (int r = 0; r < rows; r++) {
            table[r] = pos;
            for (int d = outer - 1; d >= 0; d--) {
                counter[d]++;
                pos += dims.get(d)[1];
                if (counter[d] < dims.get(d)[0]) break;
                pos -= dims.get(d)[1] * dims.get(d)[0];
                counter[d] = 0;
            }
        }
        return new StridedCopy(inner[0], inner[1], table);
    }

    /** dense[dense..] = view at {@code base}. */
    void gather(MemorySegment m, long base, long dense) {
        for (int r = 0; r < rowOffsets.length; r++) {
            long src = base + rowOffsets[r], dst = dense + r * n;
            if (innerStride == 1) Vec.copy(m, src, m, dst, n);
            else for (long k = 0; k < n; k++) Vec.set(m, dst + k, Vec.get(m, src + k * innerStride));
        }
    }

    /** view at {@code base} = dense[dense..] (the view's other elements are left as they are). */
    void scatter(MemorySegment m, long dense, long base) {
        for (int r = 0; r < rowOffsets.length; r++) {
            long dst = base + rowOffsets[r], src = dense + r * n;
            if (innerStride == 1) Vec.copy(m, src, m, dst, n);
            else for (long k = 0; k < n; k++) Vec.set(m, dst + k * innerStride, Vec.get(m, src + k));
        }
    }

    /** Row-major strides of a shape. */
    static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long st = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = st;
            st *= shape[d];
        }
        return s;
    }
}
