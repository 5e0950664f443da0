package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.VMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * The unary float32 ops as Vector API loops: math functions and activations, each an opcode with a vector and a
 * scalar form (the scalar one for the tail). {@link #map} has one loop per opcode, so that each loop's vector
 * operations are constants the JIT compiles to instructions (a shared loop calling a switch keeps the vectors as
 * objects). Each loop reads element i before writing element i, so a step may run in place.
 */
final class UnaryMath {
    static final int NEG = 0, ABS = 1, RELU = 2, EXP = 3, LOG = 4, SQRT = 5, RECIPROCAL = 6, SIGMOID = 7, TANH = 8,
            ERF = 9, GELU = 10, GELU_TANH = 11, SOFTPLUS = 12, SOFTSIGN = 13, LEAKY_RELU = 14, ELU = 15, SELU = 16,
            HARD_SIGMOID = 17, HARD_SWISH = 18, THRESHOLDED_RELU = 19, CELU = 20, CLIP = 21, IDENTITY = 22, SIN = 23,
            COS = 24, TAN = 25, SINH = 26, COSH = 27, ROUND = 28;

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);

    private UnaryMath() {}

    static Step unaryStep(EmitContext c, int opc, float p1, float p2) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.allArena() || c.in(0).numel != c.out(0).numel) return null;
        return mapStep(c.pool, c.mem, opc, p1, p2, c.in(0).offset, c.out(0).offset, c.out(0).numel);
    }

    /** out[i] = f(x[i]) for n elements. */
    static Step mapStep(KernelPool pool, MemorySegment m, int opc, float p1, float p2, long x, long out, long n) {
        int tasks = ElementwiseSteps.tasks(pool, n);
        if (tasks == 1) return () -> map(m, opc, p1, p2, x, out, n);
        long chunk = ElementwiseSteps.chunk(n, tasks);
        KernelPool.Task t = (i, s) -> {
            long from = i * chunk, to = Math.min(n, from + chunk);
            if (from < to) map(m, opc, p1, p2, x + from, out + from, to - from);
        };
        return () -> pool.parallelFor(tasks, t);
    }

    /** out[i] = f(x[i]) for n elements, one loop per op. */
    static void map(MemorySegment m, int opc, float p1, float p2, long x, long out, long n) {
        long k = 0, b = Vec.bound(n);
        switch (opc) {
            case NEG -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.neg().intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case ABS -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.abs().intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case RELU -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    FloatVector.zero(S).blend(v, v.compare(VectorOperators.GT, 0f))
                            .intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case EXP -> k = expLoop(m, x, out, b);
            case LOG -> k = logLoop(m, x, out, b);
            case SQRT -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.sqrt().intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case RECIPROCAL -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    FloatVector.broadcast(S, 1f).div(v).intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case SIGMOID -> k = sigmoidLoop(m, x, out, b);
            case TANH -> k = tanhLoop(m, x, out, b);
            case ERF -> k = erfLoop(m, x, out, b);
            case GELU -> k = geluLoop(m, x, out, b);
            case GELU_TANH -> k = geluTanhLoop(m, x, out, b);
            case SOFTPLUS -> k = softplus(m, x, out, b);
            case SOFTSIGN -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.div(v.abs().add(1f)).intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case LEAKY_RELU -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.mul(p1).blend(v, v.compare(VectorOperators.GE, 0f)).intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case ELU -> k = eluLoop(m, x, out, b, p1);
            case SELU -> k = seluLoop(m, x, out, b, p1, p2);
            case HARD_SIGMOID -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.mul(p1).add(p2).max(0f).min(1f).intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case HARD_SWISH -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.mul(v.div(6f).add(0.5f).max(0f).min(1f)).intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case THRESHOLDED_RELU -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    FloatVector.zero(S).blend(v, v.compare(VectorOperators.GT, p1))
                            .intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case CELU -> k = celuLoop(m, x, out, b, p1);
            case CLIP -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.max(p1).min(p2).intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case IDENTITY -> {
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
                    v.intoMemorySegment(m, (out + k) << 2, ORDER);
                }
            }
            case SIN, COS, TAN, SINH, COSH, ROUND -> {
                // lane by lane with Math: the vector SIN/COS give other last bits compiled than interpreted
            }
            default -> throw new IllegalStateException("unary opcode " + opc);
        }
        for (; k < n; k++) Vec.set(m, out + k, apply(opc, Vec.get(m, x + k), p1, p2));
    }

    // ---- the loops of the ops with a transcendental, each a method named *Loop: the launcher's
    // -XX:CompileCommand=dontinline,dev.gale.backends.cpu.*::*Loop compiles each on its own, with its vector function
    // inlined. Inlined together into map, C2 ran out of its budgets and boxed their vectors: Exp over 8192 floats
    // allocated 3.2 MB and took 371 us a call (45 ns a float), and with eight ops in use each allocated 98-393 KB a
    // call. They store through the Vector API directly: past C2's node-count cutoff a Vec.store helper is refused
    // (its argument boxed), a force-inlined JDK method is not.

    private static long expLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.exp(v).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long logLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.log(v).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long sigmoidLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.sigmoid(v).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long tanhLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.tanh(v).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long erfLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.erf(v).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long geluLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            v.mul(VMath.normalCdf(v)).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long geluTanhLoop(MemorySegment m, long x, long out, long b) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
            VMath.tanh(inner).add(1f).mul(v).mul(0.5f).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    /** Floats of {@link #softplus}'s per-thread buffer, a multiple of any vector length. */
    private static final int SOFTPLUS_BLOCK = 1024;
    private static final ThreadLocal<float[]> SOFTPLUS_EXP = ThreadLocal.withInitial(() -> new float[SOFTPLUS_BLOCK]);

    /**
     * Softplus in blocks of two loops, exp(-|x|) into a per-thread buffer and then max(x, 0) + log1p of it: both
     * functions in one loop took C2 past its node-count cutoff, and that loop boxed (98 KB a call over 8192 floats,
     * 16-23 us, against none and 7 us split). The same operations in the same order, so the same bits; x is read
     * again by the second loop, so the output may be the input.
     */
    private static long softplus(MemorySegment m, long x, long out, long b) {
        float[] e = SOFTPLUS_EXP.get();
        for (long k = 0; k < b; k += SOFTPLUS_BLOCK) {
            int len = (int) Math.min(SOFTPLUS_BLOCK, b - k);
            negAbsExpLoop(m, x + k, e, len);
            softplusLoop(m, x + k, out + k, e, len);
        }
        return b;
    }

    private static void negAbsExpLoop(MemorySegment m, long x, float[] e, int len) {
        for (int k = 0; k < len; k += L) VMath.exp(FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER)
                .abs().neg()).intoArray(e, k);
    }

    private static void softplusLoop(MemorySegment m, long x, long out, float[] e, int len) {
        for (int k = 0; k < len; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            v.max(0f).add(VMath.log1p(FloatVector.fromArray(S, e, k))).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
    }

    private static long eluLoop(MemorySegment m, long x, long out, long b, float p1) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.expm1(v).mul(p1).blend(v, v.compare(VectorOperators.GE, 0f))
                    .intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long seluLoop(MemorySegment m, long x, long out, long b, float p1, float p2) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            VMath.expm1(v).mul(p1 * p2).blend(v.mul(p2), v.compare(VectorOperators.GT, 0f))
                    .intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    private static long celuLoop(MemorySegment m, long x, long out, long b, float p1) {
        long k = 0;
        for (; k < b; k += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            v.max(0f).add(VMath.expm1(v.div(p1)).mul(p1).min(0f)).intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        return k;
    }

    static float apply(int opc, float x, float p1, float p2) {
        return switch (opc) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case RELU -> x > 0 ? x : 0f;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RECIPROCAL -> 1f / x;
            case SIGMOID -> {
                float e = (float) Math.exp(-Math.abs(x));
                yield x >= 0 ? 1f / (1f + e) : e / (1f + e);
            }
            case TANH -> (float) Math.tanh(x);
            case ERF -> VMath.erf(x);
            case GELU -> x * VMath.normalCdf(x);
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case SOFTPLUS -> (float) (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
            case SOFTSIGN -> x / (1f + Math.abs(x));
            case LEAKY_RELU -> x >= 0 ? x : p1 * x;
            case ELU -> x >= 0 ? x : (float) (p1 * Math.expm1(x));
            case SELU -> x > 0 ? p2 * x : (float) (p1 * p2 * Math.expm1(x));
            case HARD_SIGMOID -> Math.min(Math.max(p1 * x + p2, 0f), 1f);
            case HARD_SWISH -> x * Math.min(Math.max(x / 6f + 0.5f, 0f), 1f);
            case THRESHOLDED_RELU -> x > p1 ? x : 0f;
            case CELU -> Math.max(0f, x) + Math.min(0f, (float) (p1 * Math.expm1(x / p1)));
            case CLIP -> Math.min(Math.max(x, p1), p2);
            case IDENTITY -> x;
            case SIN -> (float) Math.sin(x);
            case COS -> (float) Math.cos(x);
            case TAN -> (float) Math.tan(x);
            case SINH -> (float) Math.sinh(x);
            case COSH -> (float) Math.cosh(x);
            case ROUND -> (float) Math.rint(x); // ONNX Round: half to even
            default -> throw new IllegalStateException("unary opcode " + opc);
        };
    }
}
