package dev.gale.backends.cpu.runtime;

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
    /** The byte order of float access, also for loops that call the Vector API directly rather than these helpers. */
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private Vec() {}

    // No load or store helpers taking or returning vectors: the loops call FloatVector.fromMemorySegment and
    // intoMemorySegment themselves. A helper method that passes a vector is a call C2 may decline to inline (the
    // caller's inlining budget spent, the call site's profile thin, or the helper compiled on its own first), and
    // then every vector that crosses it is boxed on the heap, a loop tens of times slower.

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
        for (; k < b; k += L) acc = acc.add(FloatVector.fromMemorySegment(S, m, (i + k) << 2, ORDER));
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) s += get(m, i + k);
        return s;
    }
}
