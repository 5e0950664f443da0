package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Masks of a float vector's first n lanes, made once. {@code S.indexInRange(0, n)} in a kernel allocates a mask
 * wherever C2 does not intrinsify it, and a mask passed to a method C2 does not inline is an object too: the bench
 * CNN's pooled convolution made two a call, 9 of the 14 KB its forward allocated a run. One from this table is an
 * object already.
 */
final class LaneMasks {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorMask<Float>[] FIRST = first();

    private LaneMasks() {}

    @SuppressWarnings("unchecked")
    private static VectorMask<Float>[] first() {
        VectorMask<Float>[] t = new VectorMask[S.length() + 1];
        for (int n = 0; n <= S.length(); n++) t[n] = S.indexInRange(0, n);
        return t;
    }

    /** The first {@code n} lanes, 0 to the vector length. */
    static VectorMask<Float> first(int n) { return FIRST[n]; }
}
