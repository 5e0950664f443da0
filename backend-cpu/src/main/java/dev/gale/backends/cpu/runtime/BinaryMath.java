package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * The binary float32 ops (Add, Sub, Mul, Div, Pow, Max, Min, PRelu) over broadcast operands laid out by
 * {@link ZipLayout}: rows where each operand advances or repeats one value. Element i of a same-shaped operand is
 * read before element i of the output is written, so a step may run in place.
 */
final class BinaryMath {
    static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3, POW = 4, MAX = 5, MIN = 6, PRELU = 7;

    private BinaryMath() {}

    static Step zipStep(EmitContext c, int opc) {
        if (!c.arenaIn(0) || !c.arenaIn(1) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot a = c.in(0), b = c.in(1), o = c.out(0);
        if (opc == PRELU && !Arrays.equals(o.shape, a.shape)) return null;
        ZipLayout lay = ZipLayout.of(o.shape, a.shape, b.shape);
        if (lay == null) return null;
        return zipStep(c.pool, c.mem, opc, lay, a.offset, b.offset, o.offset);
    }

    static Step zipStep(KernelPool pool, MemorySegment m, int opc, ZipLayout lay, long a, long b, long o) {
        boolean ca = lay.contiguous[0], cb = lay.contiguous[1];
        long n = lay.n;
        return ElementwiseSteps.split(pool, lay.rows, n,
                (from, to) -> zip(m, opc, ca ? a + from : a, ca, cb ? b + from : b, cb, o + from, to - from),
                (r0, r1) -> {
                    for (long r = r0; r < r1; r++)
                        zip(m, opc, a + lay.rowOffset(0, r), ca, b + lay.rowOffset(1, r), cb, o + r * n, n);
                });
    }

    static void zip(MemorySegment m, int opc, long a, boolean ca, long b, boolean cb, long o, long n) {
        if (!ca && !cb) {
            Vec.fill(m, o, n, apply(opc, Vec.get(m, a), Vec.get(m, b)));
            return;
        }
        // One loop method per operation (named *Loop, so that the launcher compiles each on its own with its vectors
        // in registers), no vector crossing a call. A single loop with the operations spelled out in a switch was
        // at the mercy of C2's profile and inlining: where its vectors were boxed (every vector through a call and a
        // heap box), the transformer encoder's MSE loss and its gradient (Sub, Mul, Add over 64K floats) took
        // 0.8-1.0 ms each a step instead of 0.015-0.02 (`gale train` profile), the plan's step 12.6-14.1 ms instead of
        // 5.2-5.7 and `gale bench`'s training step 19-24 ms instead of 5.0, in every fresh JVM of the builds that
        // changed unrelated code (a renderer, the convolutions) and in about half of them before.
        long k = switch (opc) {
            case ADD -> addLoop(m, a, ca, b, cb, o, n);
            case SUB -> subLoop(m, a, ca, b, cb, o, n);
            case MUL -> mulLoop(m, a, ca, b, cb, o, n);
            case DIV -> divLoop(m, a, ca, b, cb, o, n);
            case POW -> powLoop(m, a, ca, b, cb, o, n);
            case MAX -> maxLoop(m, a, ca, b, cb, o, n);
            case MIN -> minLoop(m, a, ca, b, cb, o, n);
            case PRELU -> preluLoop(m, a, ca, b, cb, o, n);
            default -> throw new IllegalStateException("binary opcode " + opc);
        };
        for (; k < n; k++) Vec.set(m, o + k, apply(opc, Vec.get(m, ca ? a + k : a), Vec.get(m, cb ? b + k : b)));
    }

    // Each loop: whole vectors of o = a op b from element 0, a (b) read at a + k or broadcast from element a when
    // not contiguous (broadcast in the loop, not a vector carried across iterations, which C2 may keep boxed);
    // returns where the scalar tail starts.

    private static long addLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.add(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long subLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.sub(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long mulLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.mul(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long divLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.div(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long powLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.pow(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long maxLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.max(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long minLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.min(y).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    private static long preluLoop(MemorySegment m, long a, boolean ca, long b, boolean cb, long o, long n) {
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER) : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER) : FloatVector.broadcast(S, bs);
            x.mul(y).blend(x, x.compare(VectorOperators.GE, 0f)).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        return k;
    }

    static float apply(int opc, float a, float b) {
        return switch (opc) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> (float) Math.pow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case PRELU -> a < 0 ? b * a : a;
            default -> throw new IllegalStateException("binary opcode " + opc);
        };
    }
}
