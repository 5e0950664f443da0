package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.Epilogue;
import dev.gale.ir.op.GaleOps;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * {@code gale::Attention(Q, K, V[, mask])}: {@code softmax(scale Q K^T + mask) V} over broadcast batch dimensions,
 * as two batched GEMMs around a softmax over rows of a scores buffer the plan owns (batch x Lq x Lk floats).
 */
final class AttentionSteps {
    private AttentionSteps() {}

    static void registerAll() {
        NativeOps.register(GaleOps.DOMAIN, "Attention", AttentionSteps::attention);
    }

    private static Step attention(EmitContext c) {
        if (!c.allArena()) return null;
        Slot q = c.in(0), k = c.in(1), v = c.in(2), mask = c.in(3), o = c.out(0);
        if (q.rank() < 2 || k.rank() < 2 || v.rank() < 2) return null;
        boolean kt = c.attrInt("key_transposed") != 0;
        float scale = c.attrFloat("scale");
        long lq = q.dim(q.rank() - 2), d = q.dim(q.rank() - 1);
        long lk = k.dim(k.rank() - (kt ? 1 : 2)), dk = k.dim(k.rank() - (kt ? 2 : 1));
        long lv = v.dim(v.rank() - 2), dv = v.dim(v.rank() - 1);
        if (d != dk || lv != lk || Math.max(Math.max(lq, lk), Math.max(d, dv)) > Integer.MAX_VALUE) return null;
        long[] qb = batch(q.shape), kb = batch(k.shape), vb = batch(v.shape);
        long[] sb = broadcast(qb, kb);
        if (sb == null || !Arrays.equals(broadcast(sb, vb), sb)) return null;
        long entries = 1;
        for (long x : sb) entries *= x;
        if (o.numel != entries * lq * dv) return null;
        long[] scoresShape = Arrays.copyOf(sb, sb.length + 2);
        scoresShape[sb.length] = lq;
        scoresShape[sb.length + 1] = lk;
        ZipLayout maskLayout = null;
        if (mask != null) {
            if (!Arrays.equals(broadcast(scoresShape, mask.shape), scoresShape)) return null;
            maskLayout = ZipLayout.of(scoresShape, scoresShape, mask.shape);
            if (maskLayout == null) return null;
        }
        long scoresSize = entries * lq * lk;
        MemorySegment s = c.scratch(scoresSize), m = c.mem;
        Step first = LinearSteps.product(c.pool, sb, qb, kb, (int) lq, (int) lk, (int) d, !kt, scale, m, q.offset, m,
                k.offset, s, 0, Epilogue.NONE, false);
        Step second = LinearSteps.product(c.pool, sb, sb, vb, (int) lq, (int) dv, (int) lk, false, 1f, s, 0, m,
                v.offset, m, o.offset, Epilogue.NONE, false);
        if (first == null || second == null) return null;
        ZipLayout ml = maskLayout;
        long maskOff = mask == null ? -1 : mask.offset, rows = entries * lq;
        dev.gale.backends.cpu.KernelPool pool = c.pool;
        int tasks = (int) Math.max(1, Math.min(rows, Math.min(4L * pool.threads(), rows * lk / 4096)));
        // The mask and the softmax, row by row, shared out over the pool between the two products.
        boolean rowMask = ml != null && ml.n == lk && ml.rows == rows;
        return () -> {
            first.run();
            if (ml != null && !rowMask) addMask(s, m, ml, maskOff, 0, ml.rows);
            pool.parallelFor(tasks, (t, scratch) -> {
                long r0 = t * rows / tasks, r1 = (t + 1) * rows / tasks;
                if (rowMask) addMask(s, m, ml, maskOff, r0, r1);
                for (long r = r0; r < r1; r++) SoftmaxRows.softmax(s, r * lk, r * lk, lk, false);
            });
            second.run();
        };
    }

    /** Rows {@code [r0, r1)} of the scores += the mask broadcast, the scores in their own segment. */
    private static void addMask(MemorySegment s, MemorySegment m, ZipLayout lay, long mask, long r0, long r1) {
        boolean contiguous = lay.contiguous[1];
        long n = lay.n;
        for (long r = r0; r < r1; r++) {
            long so = lay.rowOffset(0, r), mo = mask + lay.rowOffset(1, r);
            long k = 0;
            if (contiguous) {
                for (long b = Vec.bound(n); k < b; k += Vec.L)
                    FloatVector.fromMemorySegment(S, s, (so + k) << 2, ORDER).add(FloatVector.fromMemorySegment(S, m,
                            (mo + k) << 2, ORDER))
                            .intoMemorySegment(s, (so + k) << 2, ORDER);
                for (; k < n; k++) Vec.set(s, so + k, Vec.get(s, so + k) + Vec.get(m, mo + k));
            } else {
                float v = Vec.get(m, mo);
                for (; k < n; k++) Vec.set(s, so + k, Vec.get(s, so + k) + v);
            }
        }
    }

    private static long[] batch(long[] s) { return Arrays.copyOf(s, s.length - 2); }

    /** numpy broadcasting of two shapes, or null when they do not broadcast. */
    static long[] broadcast(long[] a, long[] b) {
        int r = Math.max(a.length, b.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            int ia = i - (r - a.length), ib = i - (r - b.length);
            long x = ia >= 0 ? a[ia] : 1, y = ib >= 0 ? b[ib] : 1;
            if (x != y && x != 1 && y != 1) return null;
            out[i] = x == 1 ? y : x;
        }
        return out;
    }
}
