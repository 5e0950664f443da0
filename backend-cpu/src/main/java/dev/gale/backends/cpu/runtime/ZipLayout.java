package dev.gale.backends.cpu.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * How an elementwise op walks its broadcast operands, decided once per plan. The output's dimensions are merged
 * wherever every operand continues contiguously (or stays broadcast) across them, leaving rows of {@link #n}
 * elements; in a row each operand either advances one element at a time ({@link #contiguous}) or repeats one value.
 * {@link #rowOffset} gives each operand's offset at the start of each row.
 *
 * <pre>
 * out [64, 128] = x [64, 128] + b [128]        -> 64 rows of 128; x contiguous, b contiguous, b's rows all at 0
 * out [8, 16, 14, 14] = y + bias [16, 1, 1]    -> 128 rows of 196; bias repeats bias[row % 16] along each row
 * out [1000] = x [1000] * s []                 -> 1 row of 1000; s repeats
 * </pre>
 */
final class ZipLayout {
    /** Most rows whose offsets a plan keeps in tables. */
    static final long MAX_ROWS = 1 << 22;

    final long rows, n;
    final boolean[] contiguous;
    /** Per operand, the offset of each row (null when there is one row: offset 0). */
    private final long[][] rowOffsets;

    private ZipLayout(long rows, long n, boolean[] contiguous, long[][] rowOffsets) {
        this.rows = rows;
        this.n = n;
        this.contiguous = contiguous;
        this.rowOffsets = rowOffsets;
    }

    long rowOffset(int operand, long row) { return rowOffsets == null ? 0 : rowOffsets[operand][(int) row]; }

    /** True when every operand is contiguous over the whole output (no broadcasting at all). */
    boolean dense() {
        if (rows != 1) return false;
        for (boolean c : contiguous) if (!c) return false;
        return true;
    }

    /** The layout of operands of shapes {@code ins} broadcast to {@code out}, or null when the tables would be too large. */
    static ZipLayout of(long[] out, long[]... ins) {
        int r = out.length, k = ins.length;
        List<Long> sizes = new ArrayList<>();
        List<long[]> strides = new ArrayList<>();
        long[][] st = new long[k][r];
        for (int op = 0; op < k; op++) {
            long[] s = ins[op];
            long stride = 1;
            for (int d = r - 1; d >= 0; d--) {
                int sd = d - (r - s.length);
                long size = sd >= 0 ? s[sd] : 1;
                st[op][d] = size == 1 ? 0 : stride;
                stride *= size;
            }
        }
        for (int d = 0; d < r; d++) {
            if (out[d] == 1) continue;
            long[] col = new long[k];
            for (int op = 0; op < k; op++) col[op] = st[op][d];
            sizes.add(out[d]);
            strides.add(col);
        }
        // Merge from the right: dim i joins dim i + 1 when every operand continues across them.
        for (int i = sizes.size() - 2; i >= 0; i--) {
            boolean merge = true;
            for (int op = 0; op < k && merge; op++) merge = strides.get(i)[op] == strides.get(i + 1)[op] * sizes.get(i + 1);
            if (!merge) continue;
            sizes.set(i, sizes.get(i) * sizes.get(i + 1));
            strides.set(i, strides.get(i + 1));
            sizes.remove(i + 1);
            strides.remove(i + 1);
        }
        long total = 1;
        for (long d : out) total *= d;
        if (sizes.isEmpty()) return new ZipLayout(1, 1, contiguousOf(null, k, 1), null);
        int last = sizes.size() - 1;
        long n = sizes.get(last), rows = total / Math.max(n, 1);
        boolean[] contiguous = contiguousOf(strides.get(last), k, n);
        if (rows <= 1) return new ZipLayout(total == 0 ? 0 : 1, n, contiguous, null);
        if (rows > MAX_ROWS) return null;
        long[][] offs = new long[k][(int) rows];
        int[] counter = new int[last];
        long[] pos = new long[k];
        for (int row = 0; row < rows; row++) {
            for (int op = 0; op < k; op++) offs[op][row] = pos[op];
            for (int d = last - 1; d >= 0; d--) {
                counter[d]++;
                for (int op = 0; op < k; op++) pos[op] += strides.get(d)[op];
                if (counter[d] < sizes.get(d)) break;
                for (int op = 0; op < k; op++) pos[op] -= strides.get(d)[op] * sizes.get(d);
                counter[d] = 0;
            }
        }
        return new ZipLayout(rows, n, contiguous, offs);
    }

    private static boolean[] contiguousOf(long[] innerStrides, int k, long n) {
        boolean[] c = new boolean[k];
        for (int op = 0; op < k; op++) c[op] = innerStrides == null ? n <= 1 : innerStrides[op] != 0 || n == 1;
        return c;
    }
}
