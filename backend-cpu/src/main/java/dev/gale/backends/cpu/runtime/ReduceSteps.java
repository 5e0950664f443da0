package dev.gale.backends.cpu.runtime;

import dev.gale.ir.op.GaleOps;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceSumSquare, ReduceL1, ReduceL2 over any set of axes, and
 * {@code gale::ReduceSumToShape}. The input's dimensions collapse into alternating runs of reduced and kept ones;
 * the input is then read once, in order, in rows of its innermost run: a reduced innermost run is summed in vector
 * lanes into one output element, a kept one is added lane by lane into a row of the output.
 */
final class ReduceSteps {
    static final int SUM = 0, MEAN = 1, MAX = 2, MIN = 3, SUM_SQUARE = 4, L1 = 5, L2 = 6;

    private ReduceSteps() {}

    static void registerAll() {
        reduction("ReduceSum", SUM);
        reduction("ReduceMean", MEAN);
        reduction("ReduceMax", MAX);
        reduction("ReduceMin", MIN);
        reduction("ReduceSumSquare", SUM_SQUARE);
        reduction("ReduceL1", L1);
        reduction("ReduceL2", L2);
        NativeOps.register(GaleOps.DOMAIN, "ReduceSumToShape", ReduceSteps::toShape);
        LossSteps.registerAll();
    }

    private static void reduction(String op, int kind) {
        NativeOps.register(op, c -> {
            if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
            long[] axes = new long[0];
            if (c.has(1)) {
                axes = c.constantLongs(1);
                if (axes == null) return null;
            }
            int r = c.in(0).rank();
            if (axes.length == 0 && c.attrInt("noop_with_empty_axes") != 0)
                return c.in(0).numel == c.out(0).numel ? LayoutSteps.copy(c) : null;
            boolean[] mask = new boolean[r];
            if (axes.length == 0) java.util.Arrays.fill(mask, true);
            for (long a : axes) {
                int ax = NormSteps.axis(a, r);
                if (ax < 0) return null;
                mask[ax] = true;
            }
            return reduce(c, mask, kind);
        });
    }

    private static Step toShape(EmitContext c) {
        long[] target = c.constantLongs(1);
        if (target == null || !c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        long[] x = c.in(0).shape;
        if (target.length > x.length) return null;
        boolean[] mask = new boolean[x.length];
        for (int d = 0; d < x.length; d++) {
            int t = d - (x.length - target.length);
            if (t < 0) mask[d] = true;
            else if (target[t] == 1 && x[d] != 1) mask[d] = true;
            else if (target[t] != x[d]) return null;
        }
        return reduce(c, mask, SUM);
    }

    /** Reduces input 0 over the masked axes into output 0 (whose element count must match). */
    static Step reduce(EmitContext c, boolean[] mask, int kind) {
        Slot x = c.in(0), y = c.out(0);
        long[] s = x.shape;
        long count = 1, kept = 1;
        for (int d = 0; d < s.length; d++) {
            if (mask[d]) count *= s[d];
            else kept *= s[d];
        }
        if (kept != y.numel || count == 0 || x.numel == 0) return null;
        // Collapse: drop size-1 dims, merge neighbours of the same kind.
        List<long[]> runs = new ArrayList<>(); // {size, reduced ? 1 : 0}
        for (int d = 0; d < s.length; d++) {
            if (s[d] == 1) continue;
            long red = mask[d] ? 1 : 0;
            if (!runs.isEmpty() && runs.getLast()[1] == red) runs.getLast()[0] *= s[d];
            else runs.add(new long[] {s[d], red});
        }
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset;
        float init = kind == MAX ? Float.NEGATIVE_INFINITY : kind == MIN ? Float.POSITIVE_INFINITY : 0f;
        float scale = kind == MEAN ? 1f / count : 1f;
        if (runs.isEmpty()) runs.add(new long[] {1, 1});
        int last = runs.size() - 1;
        long n = runs.get(last)[0];
        boolean innerReduced = runs.get(last)[1] == 1;
        long rows = x.numel / n;
        if (rows > ZipLayout.MAX_ROWS) return null;
        // Output offset of each row: kept runs advance the output, reduced runs do not.
        long[] rowOut = new long[(int) rows];
        long[] outStride = new long[last];
        long stride = innerReduced ? 1 : n;
        for (int i = last - 1; i >= 0; i--) {
            outStride[i] = runs.get(i)[1] == 1 ? 0 : stride;
            if (runs.get(i)[1] == 0) stride *= runs.get(i)[0];
        }
        long[] counter = new long[last];
        long pos = 0;
        for (int r = 0; r < rows; r++) {
            rowOut[r] = pos;
            for (int i = last - 1; i >= 0; i--) {
                counter[i]++;
                pos += outStride[i];
                if (counter[i] < runs.get(i)[0]) break;
                pos -= outStride[i] * runs.get(i)[0];
                counter[i] = 0;
            }
        }
        long outN = y.numel;
        return () -> {
            Vec.fill(m, yo, outN, init);
            for (int r = 0; r < rows; r++) {
                long xr = xo + r * n, yr = yo + rowOut[r];
                if (innerReduced) Vec.set(m, yr, combine(kind, Vec.get(m, yr), reduceRow(m, xr, n, kind)));
                else accumulateRow(m, xr, yr, n, kind);
            }
            if (kind == MEAN) for (long i = 0; i < outN; i++) Vec.set(m, yo + i, Vec.get(m, yo + i) * scale);
            if (kind == L2) for (long i = 0; i < outN; i++) Vec.set(m, yo + i, (float) Math.sqrt(Vec.get(m, yo + i)));
        };
    }

    private static float combine(int kind, float acc, float v) {
        return switch (kind) {
            case MAX -> Math.max(acc, v);
            case MIN -> Math.min(acc, v);
            default -> acc + v;
        };
    }

    private static float lift(int kind, float v) {
        return switch (kind) {
            case SUM_SQUARE, L2 -> v * v;
            case L1 -> Math.abs(v);
            default -> v;
        };
    }

    /** The reduction of n contiguous elements. */
    private static float reduceRow(MemorySegment m, long x, long n, int kind) {
        long k = 0, b = Vec.bound(n);
        if (kind == MAX || kind == MIN) {
            FloatVector acc = FloatVector.broadcast(S, kind == MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
            for (; k < b; k += L) {
                FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                acc = kind == MAX ? acc.max(v) : acc.min(v);
            }
            float r = acc.reduceLanes(kind == MAX ? VectorOperators.MAX : VectorOperators.MIN);
            for (; k < n; k++) r = combine(kind, r, Vec.get(m, x + k));
            return r;
        }
        FloatVector acc = FloatVector.zero(S);
        for (; k < b; k += L) {
            // lift(kind, v) written out: a helper taking a vector may stay a call, with v boxed on the heap
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            acc = acc.add(kind == L1 ? v.abs() : kind == SUM_SQUARE || kind == L2 ? v.mul(v) : v);
        }
        float r = acc.reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) r += lift(kind, Vec.get(m, x + k));
        return r;
    }

    /** y[k] = combine(y[k], x[k]) for n contiguous elements. */
    private static void accumulateRow(MemorySegment m, long x, long y, long n, int kind) {
        long k = 0, b = Vec.bound(n);
        for (; k < b; k += L) {
            FloatVector a = FloatVector.fromMemorySegment(S, m, (y + k) << 2, ORDER);
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            v = kind == L1 ? v.abs() : kind == SUM_SQUARE || kind == L2 ? v.mul(v) : v;
            (kind == MAX ? a.max(v) : kind == MIN ? a.min(v) : a.add(v)).intoMemorySegment(m, (y + k) << 2, ORDER);
        }
        for (; k < n; k++) Vec.set(m, y + k, combine(kind, Vec.get(m, y + k), lift(kind, Vec.get(m, x + k))));
    }
}
