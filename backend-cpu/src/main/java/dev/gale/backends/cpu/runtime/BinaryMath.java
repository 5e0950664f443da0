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
        // The operations are spelled out in the loop, not called through a vector apply: C2 compiled such an apply
        // on its own once it was hot, and then would not inline that "big method" here, so every vector went through
        // a call and a box (the encoder's dropout-gradient Mul took 0.5 ms instead of 0.075 in about half of fresh
        // JVMs).
        long k = 0, bound = Vec.bound(n);
        float as = Vec.get(m, a), bs = Vec.get(m, b);
        for (; k < bound; k += L) {
            // broadcast in the loop, not a vector carried across iterations, which C2 may keep boxed
            FloatVector x = ca ? FloatVector.fromMemorySegment(S, m, (a + k) << 2, ORDER)
                    : FloatVector.broadcast(S, as);
            FloatVector y = cb ? FloatVector.fromMemorySegment(S, m, (b + k) << 2, ORDER)
                    : FloatVector.broadcast(S, bs);
            (switch (opc) {
                case ADD -> x.add(y);
                case SUB -> x.sub(y);
                case MUL -> x.mul(y);
                case DIV -> x.div(y);
                case POW -> x.pow(y);
                case MAX -> x.max(y);
                case MIN -> x.min(y);
                case PRELU -> x.mul(y).blend(x, x.compare(VectorOperators.GE, 0f));
                default -> throw new IllegalStateException("binary opcode " + opc);
            }).intoMemorySegment(m, (o + k) << 2, ORDER);
        }
        for (; k < n; k++) Vec.set(m, o + k, apply(opc, Vec.get(m, ca ? a + k : a), Vec.get(m, cb ? b + k : b)));
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
