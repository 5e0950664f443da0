package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.VMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector API access to float32 tensors in memory segments, addressed in elements (floats) as the kernels of
 * {@code dev.gale.backends.cpu} do, and the float math the runtime's loops share (erf, in vector and scalar form).
 */
final class Vec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private Vec() {}

    static FloatVector load(MemorySegment m, long i) { return FloatVector.fromMemorySegment(S, m, i << 2, NATIVE); }

    static void store(FloatVector v, MemorySegment m, long i) { v.intoMemorySegment(m, i << 2, NATIVE); }

    static float get(MemorySegment m, long i) { return m.getAtIndex(F, i); }

    static void set(MemorySegment m, long i, float v) { m.setAtIndex(F, i, v); }

    /** Largest multiple of the vector length not above {@code n}. */
    static long bound(long n) { return n - n % L; }

    /** dst[d, d + n) = src[s, s + n); overlapping ranges are fine (memmove). */
    static void copy(MemorySegment src, long s, MemorySegment dst, long d, long n) {
        if (n > 0) MemorySegment.copy(src, s << 2, dst, d << 2, n << 2);
    }

    static void fill(MemorySegment m, long i, long n, float v) {
        if (n <= 0) return;
        if (v == 0f && Float.floatToRawIntBits(v) == 0) {
            m.asSlice(i << 2, n << 2).fill((byte) 0);
            return;
        }
        for (long k = 0; k < n; k++) m.setAtIndex(F, i + k, v);
    }

    /** Sum of n floats from i, in vector lanes (then across them). */
    static float sum(MemorySegment m, long i, long n) {
        FloatVector acc = FloatVector.zero(S);
        long k = 0, b = bound(n);
        for (; k < b; k += L) acc = acc.add(load(m, i + k));
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) s += get(m, i + k);
        return s;
    }

    // tanh: a rational minimax fit x P(x^2) / Q(x^2) on [-7.9, 7.9] (beyond it tanh is +-1 in float32), x itself
    // below 4e-4 (Eigen's generic_fast_tanh_float); error below 4e-7, absolute and relative. FMAs and one division,
    // several times faster than VectorOperators.TANH, which calls a native math library.
    static FloatVector tanh(FloatVector a) {
        FloatVector x = a.max(-7.90531110763549805f).min(7.90531110763549805f), x2 = x.mul(x);
        FloatVector p = x2.fma(-2.76076847742355e-16f, 2.00018790482477e-13f);
        p = p.fma(x2, FloatVector.broadcast(S, -8.60467152213735e-11f));
        p = p.fma(x2, FloatVector.broadcast(S, 5.12229709037114e-08f));
        p = p.fma(x2, FloatVector.broadcast(S, 1.48572235717979e-05f));
        p = p.fma(x2, FloatVector.broadcast(S, 6.37261928875436e-04f));
        p = p.fma(x2, FloatVector.broadcast(S, 4.89352455891786e-03f)).mul(x);
        FloatVector q = x2.fma(1.19825839466702e-06f, 1.18534705686654e-04f);
        q = q.fma(x2, FloatVector.broadcast(S, 2.26843463243900e-03f));
        q = q.fma(x2, FloatVector.broadcast(S, 4.89352518554385e-03f));
        return p.div(q).blend(a, a.abs().compare(VectorOperators.LT, 0.0004f));
    }

    // erf: |x| < 0.5 by its Taylor series (relative precision near 0), else 1 - erfc with the Chebyshev fit of
    // Numerical Recipes (erfcc, fractional error below 1.2e-7): t = 1 / (1 + |x| / 2),
    // erfc = t exp(-x^2 - 1.26551223 + t (1.00002368 + ...)).
    private static final float[] ERFC = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
            0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
    private static final float[] TAYLOR = {1.1283791670955126f, -0.37612638903183754f, 0.11283791670955126f,
            -0.026866170645131252f, 0.005223977625442188f, -8.548327023450852e-4f, 1.2055332981789664e-4f,
            -1.492565035840625e-5f};

    /** erfc(a) for a >= 0 (the Chebyshev fit alone). */
    static FloatVector erfc(FloatVector a) {
        FloatVector t = FloatVector.broadcast(S, 1f).div(a.mul(0.5f).add(1f));
        FloatVector p = FloatVector.broadcast(S, ERFC[9]);
        for (int i = 8; i >= 0; i--) p = p.fma(t, FloatVector.broadcast(S, ERFC[i]));
        return t.mul(VMath.exp(p.sub(a.mul(a))));
    }

    static float erfc(float a) {
        double t = 1 / (1 + 0.5 * a), p = ERFC[9];
        for (int i = 8; i >= 0; i--) p = p * t + ERFC[i];
        return (float) (t * Math.exp(p - (double) a * a));
    }

    static FloatVector erf(FloatVector x) {
        FloatVector z = x.mul(x), a = x.abs();
        FloatVector s = FloatVector.broadcast(S, TAYLOR[7]);
        for (int i = 6; i >= 0; i--) s = s.fma(z, FloatVector.broadcast(S, TAYLOR[i]));
        FloatVector small = x.mul(s);
        FloatVector t = FloatVector.broadcast(S, 1f).div(a.mul(0.5f).add(1f));
        FloatVector p = FloatVector.broadcast(S, ERFC[9]);
        for (int i = 8; i >= 0; i--) p = p.fma(t, FloatVector.broadcast(S, ERFC[i]));
        FloatVector r = t.mul(VMath.exp(p.sub(z)));
        FloatVector large = r.neg().add(1f);
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        return large.blend(small, a.compare(VectorOperators.LT, 0.5f));
    }

    static float erf(float v) {
        double x = v, a = Math.abs(x);
        if (a < 0.5) {
            double z = x * x, s = TAYLOR[7];
            for (int i = 6; i >= 0; i--) s = s * z + TAYLOR[i];
            return (float) (x * s);
        }
        double t = 1 / (1 + 0.5 * a), p = ERFC[9];
        for (int i = 8; i >= 0; i--) p = p * t + ERFC[i];
        double r = t * Math.exp(p - a * a);
        return (float) (x < 0 ? r - 1 : 1 - r);
    }
}
