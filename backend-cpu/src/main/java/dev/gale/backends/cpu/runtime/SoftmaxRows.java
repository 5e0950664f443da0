package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.VMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * Softmax over one contiguous row of floats, in vectors, and the pieces of it the softmax cross-entropy loss takes:
 * the row's max, the sum of its exponentials, log-sum-exp. Positions are float elements of the segment.
 *
 * <p>Vector loads and stores are written out here rather than through {@link Vec}'s helpers: in a method the size of
 * {@link #softmax}, C2 declines to inline them ("callee uses too much stack") and then boxes every vector they return.
 * Exponentials are float32 ({@link VMath#exp}, within 2 ulp), summed in a vector accumulator per 64 vectors and those
 * sums in float64 (four accumulators, each with its exp inlined, made C2's code 5x slower). The scalar float64 loop
 * this replaced in the loss took 0.5-0.7 ms and 1.0-1.1 for its gradient over 64 rows of 1024 classes (2-3% of the
 * 1024-4096-4096-1024 MLP's training step); {@link #logSumExp} takes 42 us for the 64 rows (probe, 2026-11-27).
 * NaN in, NaN out.
 */
final class SoftmaxRows {
    private SoftmaxRows() {}

    /** The largest of the {@code n} floats at {@code x} (-inf for none; NaN when one is NaN). */
    static float max(MemorySegment m, long x, long n) {
        long b = n - n % L, k = 0, xb = x << 2;
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; k < b; k += L) mv = mv.max(FloatVector.fromMemorySegment(S, m, xb + (k << 2), ORDER));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; k < n; k++) max = Math.max(max, m.getAtIndex(Vec.F, x + k));
        return max;
    }

    /** sum(exp(x - max)) over the {@code n} floats at {@code x}. */
    static double expSum(MemorySegment m, long x, long n, float max) {
        long b = n - n % L, k = 0, xb = x << 2;
        FloatVector maxV = FloatVector.broadcast(S, max);
        double sum = 0;
        while (k < b) { // blocks of 64 vectors: a lane sums at most 64 floats before the float64 sum takes them
            FloatVector acc = FloatVector.zero(S);
            for (long end = Math.min(b, k + 64L * L); k < end; k += L)
                acc = acc.add(VMath.exp(FloatVector.fromMemorySegment(S, m, xb + (k << 2), ORDER).sub(maxV)));
            sum += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; k < n; k++) sum += Math.exp(m.getAtIndex(Vec.F, x + k) - max);
        return sum;
    }

    /** max + log(sum(exp(x - max))) over the {@code n} floats at {@code x}: log-softmax is x minus this. */
    static double logSumExp(MemorySegment m, long x, long n) {
        float max = max(m, x, n);
        return max + Math.log(expSum(m, x, n, max));
    }

    /** y = x - a - b over {@code n} floats (a log-softmax row: x - max - log(sum), or x - lse with b = 0); y may be x. */
    static void subtract(MemorySegment m, long x, long y, long n, float a, float b) {
        long xb = x << 2, yb = y << 2, bound = n - n % L, k = 0;
        for (; k < bound; k += L)
            FloatVector.fromMemorySegment(S, m, xb + (k << 2), ORDER).sub(a).sub(b)
                    .intoMemorySegment(m, yb + (k << 2), ORDER);
        for (; k < n; k++) m.setAtIndex(Vec.F, y + k, m.getAtIndex(Vec.F, x + k) - a - b);
    }

    /** dx = coef * exp(x - lse) over {@code n} floats (softmax scaled); the loss's gradient subtracts coef at the label. */
    static void scaledExp(MemorySegment m, long x, long dx, long n, float lse, float coef) {
        long xb = x << 2, db = dx << 2, b = n - n % L, k = 0;
        FloatVector lseV = FloatVector.broadcast(S, lse);
        for (; k < b; k += L)
            VMath.exp(FloatVector.fromMemorySegment(S, m, xb + (k << 2), ORDER).sub(lseV)).mul(coef)
                    .intoMemorySegment(m, db + (k << 2), ORDER);
        for (; k < n; k++) m.setAtIndex(Vec.F, dx + k, (float) (coef * Math.exp(m.getAtIndex(Vec.F, x + k) - (double) lse)));
    }

    /** exp(x - max) / sum, or (x - max) - log(sum), over the {@code n} floats at {@code x}; y may be x. */
    static void softmax(MemorySegment m, long x, long y, long n, boolean log) {
        float max = max(m, x, n);
        if (log) {
            subtract(m, x, y, n, max, (float) Math.log(expSum(m, x, n, max)));
            return;
        }
        long b = n - n % L, k = 0, xb = x << 2, yb = y << 2;
        FloatVector maxV = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
        for (; k < b; k += L) {
            FloatVector e = VMath.exp(FloatVector.fromMemorySegment(S, m, xb + (k << 2), ORDER).sub(maxV));
            acc = acc.add(e);
            e.intoMemorySegment(m, yb + (k << 2), ORDER);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) {
            float e = (float) Math.exp(m.getAtIndex(Vec.F, x + k) - max);
            sum += e;
            m.setAtIndex(Vec.F, y + k, e);
        }
        float inv = 1f / sum;
        for (k = 0; k < b; k += L)
            FloatVector.fromMemorySegment(S, m, yb + (k << 2), ORDER).mul(inv).intoMemorySegment(m, yb + (k << 2), ORDER);
        for (; k < n; k++) m.setAtIndex(Vec.F, y + k, m.getAtIndex(Vec.F, y + k) * inv);
    }
}
