package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 transcendental functions on vectors, built only from operations Java specifies exactly (add, multiply,
 * fused multiply-add, divide, comparisons, bit moves), so that a lane's result never depends on how the code runs.
 *
 * <p>They are the only vector transcendentals of the CPU backend (op-by-op steps, GEMM epilogues), so a value
 * computes to the same bits whether or not it was fused.
 *
 * <p>{@code lanewise(VectorOperators.EXP)} and its kin are not like that: the JIT computes them with a vector math
 * library, and interpreted or C1-compiled code with {@code Math}, which differ in the last bit. A training step
 * would then give different bits before and after the JIT compiled a loop, and a resumed run would not reproduce an
 * uninterrupted one. exp, expm1 and log are within 2 ulp of the exact value (Cephes' single-precision polynomials,
 * with Cody-Waite range reduction); tanh, erf and erfc are the fits their comments name.
 */
public final class VMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> PAIRS = VectorSpecies.of(long.class, S.vectorShape());
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND = 12582912f;
    private static final float INV_SQRT_2 = (float) (1 / Math.sqrt(2));
    private static final float EXP_HI = 88.72283f, EXP_LO = -103.97208f;
    /** Where tanh's rational fit reaches +-1 in float32. */
    private static final float TANH_LIMIT = 7.90531110763549805f;

    private VMath() {}

    // The functions below call the Vector API directly, with no helper of their own between (an fma(p, x, c) for
    // p.fma(x, broadcast(c)) was one): the API's methods are force-inlined, which C2 does even past its node-count
    // cutoff (it delays them), whereas a helper reached after the cutoff is refused and boxes the vectors it takes and
    // returns. A loop holding log1p (two logs then) or softplus (an exp and a log1p) reached the cutoff that way and
    // boxed (393 KB a call over 8192 floats).
    //
    // Clamping is by compare and blend: x.max(lo).min(hi) gives the same values, but Java's max and min order -0 below
    // +0 and propagate NaN, which C2 spells as six instructions each on AVX-512 (blends, the max, an unordered compare
    // and a masked move) against two here.

    /**
     * Lanes 2i and 2i + 1 swapped: each pair's other element. A 64-bit rotate of the pair seen as one long lane (the
     * Vector API's float shuffles do not always compile to one instruction inside a larger loop; this does). Here,
     * not in the pooling that uses it, so that the launcher's {@code inline} for VMath keeps it out of C2's budgets.
     */
    public static FloatVector swapPairs(FloatVector v) {
        return (FloatVector) v.reinterpretShape(PAIRS, 0).lanewise(VectorOperators.ROR, 32).reinterpretShape(S, 0);
    }

    /** e^x; +inf above 88.72, 0 below -103.97 (subnormal results in between are rounded once), NaN for NaN. */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO));
        c = c.blend(EXP_HI, c.compare(VectorOperators.GT, EXP_HI));
        FloatVector t = c.mul(LOG2E).add(ROUND), n = t.sub(ROUND);
        // 2^n as two normal powers of two (n is in [-150, 128]), so that subnormal results round only once
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, 1.9875691500E-4f);
        p = p.fma(r, FloatVector.broadcast(S, 1.3981999507E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894E-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459E-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201E-1f));
        p = p.mul(r.mul(r)).add(r).add(1f);
        // n as an int from t's low mantissa bits (t = 1.5 * 2^23 + n exactly): F2I would add Java's NaN and overflow
        // fix-ups, a compare and a branch per vector
        IntVector k = t.reinterpretAsInts().sub(0x4B400000);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1), k2 = k.sub(k1);
        FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector y = p.mul(s1).mul(s2);
        y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
        y = y.blend(0f, x.compare(VectorOperators.LT, EXP_LO));
        return y.blend(x, x.compare(VectorOperators.NE, x));
    }

    /** e^x - 1, accurate near 0. */
    public static FloatVector expm1(FloatVector x) {
        // |x| < 0.5: the Taylor series to x^9/9! (the next term is below 2^-27 of the result)
        FloatVector p = FloatVector.broadcast(S, 1f / 362880f);
        p = p.fma(x, FloatVector.broadcast(S, 1f / 40320f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 5040f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 720f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 120f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 24f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 6f));
        p = p.fma(x, FloatVector.broadcast(S, 0.5f));
        FloatVector small = p.mul(x).mul(x).add(x);
        FloatVector large = exp(x).sub(1f);
        return large.blend(small, x.abs().compare(VectorOperators.LT, 0.5f));
    }

    /** The natural logarithm; -inf at 0, NaN below 0 or for NaN, +inf at +inf. */
    public static FloatVector log(FloatVector x) {
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, Float.MIN_NORMAL);
        FloatVector xs = x.blend(x.mul(8388608f), tiny); // subnormals: scale by 2^23 first
        IntVector bits = xs.reinterpretAsInts();
        IntVector e = bits.lanewise(VectorOperators.ASHR, 23).sub(127);
        e = e.blend(e.sub(23), tiny.cast(I));
        FloatVector m = bits.and(0x007FFFFF).or(0x3F800000).reinterpretAsFloats(); // [1, 2)
        VectorMask<Float> big = m.compare(VectorOperators.GT, 1.41421356f);
        m = m.blend(m.mul(0.5f), big);
        FloatVector ef = ((FloatVector) e.convert(VectorOperators.I2F, 0));
        ef = ef.blend(ef.add(1f), big);
        FloatVector f = m.sub(1f), z = f.mul(f);
        FloatVector p = FloatVector.broadcast(S, 7.0376836292E-2f);
        p = p.fma(f, FloatVector.broadcast(S, -1.1514610310E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 1.1676998740E-1f));
        p = p.fma(f, FloatVector.broadcast(S, -1.2420140846E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 1.4249322787E-1f));
        p = p.fma(f, FloatVector.broadcast(S, -1.6668057665E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 2.0000714765E-1f));
        p = p.fma(f, FloatVector.broadcast(S, -2.4999993993E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 3.3333331174E-1f));
        FloatVector y = p.mul(f).mul(z);
        y = ef.fma(FloatVector.broadcast(S, LN2_LO), y);
        y = z.fma(FloatVector.broadcast(S, -0.5f), y);
        FloatVector r = f.add(y);
        r = ef.fma(FloatVector.broadcast(S, LN2_HI), r);
        r = r.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        r = r.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.compare(VectorOperators.NE, x)));
        return r.blend(x, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
    }

    /** log(1 + x), accurate near 0: log(u) * x / (u - 1) with u = 1 + x rounded. */
    public static FloatVector log1p(FloatVector x) {
        // log(u) once: each call inlines the whole function, and two took the loops that use log1p past C2's
        // node-count cutoff, where they boxed their vectors (Softplus: 393 KB a call over 8192 floats)
        FloatVector u = x.add(1f), d = u.sub(1f), logU = log(u);
        FloatVector corrected = logU.mul(x.div(d));
        return corrected.blend(x, d.compare(VectorOperators.EQ, 0f)).blend(logU, u.compare(VectorOperators.EQ,
                Float.POSITIVE_INFINITY));
    }

    /**
     * The hyperbolic tangent: a rational minimax fit x P(x^2) / Q(x^2) on [-7.9, 7.9] (beyond it tanh is +-1 in
     * float32) and +-1 from 9 on (Eigen's generic_fast_tanh_float, which also returns x itself below 4e-4, where the
     * fit's quotient is within 2 ulp of x: that blend is left out); error below 4e-7, absolute, and relative for
     * normal x.
     */
    public static FloatVector tanh(FloatVector a) {
        FloatVector x = a.blend(-TANH_LIMIT, a.compare(VectorOperators.LT, -TANH_LIMIT));
        x = x.blend(TANH_LIMIT, x.compare(VectorOperators.GT, TANH_LIMIT));
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.fma(FloatVector.broadcast(S, -2.76076847742355e-16f), FloatVector.broadcast(S, 2.00018790482477e-13f));
        p = p.fma(x2, FloatVector.broadcast(S, -8.60467152213735e-11f));
        p = p.fma(x2, FloatVector.broadcast(S, 5.12229709037114e-08f));
        p = p.fma(x2, FloatVector.broadcast(S, 1.48572235717979e-05f));
        p = p.fma(x2, FloatVector.broadcast(S, 6.37261928875436e-04f));
        p = p.fma(x2, FloatVector.broadcast(S, 4.89352455891786e-03f)).mul(x);
        FloatVector q = x2.fma(FloatVector.broadcast(S, 1.19825839466702e-06f), FloatVector.broadcast(S, 1.18534705686654e-04f));
        q = q.fma(x2, FloatVector.broadcast(S, 2.26843463243900e-03f));
        q = q.fma(x2, FloatVector.broadcast(S, 4.89352518554385e-03f));
        FloatVector one = FloatVector.broadcast(S, 1f).blend(-1f, a.compare(VectorOperators.LT, 0f));
        return p.div(q).blend(one, a.abs().compare(VectorOperators.GE, 9f)); // float tanh is exactly +-1 from 9.01 on
    }

    // erfc by the Chebyshev fit of Numerical Recipes (erfcc, fractional error below 1.2e-7):
    // t = 1 / (1 + a / 2), erfc(a) = t exp(-a^2 + E0 + t (E1 + ... + t E9)); erf near 0 by its Taylor series.
    private static final float[] ERFC = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
            0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
    private static final float[] TAYLOR = {1.1283791670955126f, -0.37612638903183754f, 0.11283791670955126f,
            -0.026866170645131252f, 0.005223977625442188f, -8.548327023450852e-4f, 1.2055332981789664e-4f,
            -1.492565035840625e-5f};

    /** erfc(a) for a >= 0 (keeps its relative precision in the tail, where 1 - erf would not). */
    public static FloatVector erfc(FloatVector a) {
        FloatVector t = FloatVector.broadcast(S, 1f).div(a.fma(FloatVector.broadcast(S, 0.5f), FloatVector.broadcast(S, 1f)));
        // Horner, not Estrin: Estrin's shorter chain was 10% faster alone, but its extra nodes took normalCdf past
        // C2's NodeCountInliningCutoff in some processes, and then the GELU loop boxed (KernelAllocationTest)
        FloatVector p = FloatVector.broadcast(S, ERFC[9]);
        for (int i = 8; i >= 0; i--) p = p.fma(t, FloatVector.broadcast(S, ERFC[i]));
        return t.mul(exp(p.sub(a.mul(a))));
    }

    /** erf(x): the Taylor series below |x| = 0.5 (relative precision near 0), else +-(1 - erfc(|x|)). */
    public static FloatVector erf(FloatVector x) {
        FloatVector z = x.mul(x), a = x.abs();
        FloatVector s = FloatVector.broadcast(S, TAYLOR[7]);
        for (int i = 6; i >= 0; i--) s = s.fma(z, FloatVector.broadcast(S, TAYLOR[i]));
        FloatVector large = erfc(a).neg().add(1f);
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        return large.blend(x.mul(s), a.compare(VectorOperators.LT, 0.5f));
    }

    /** Phi(x), the standard normal CDF (GELU's gate), from erfc(|x| / sqrt 2) so that both tails keep precision. */
    public static FloatVector normalCdf(FloatVector x) {
        FloatVector halfErfc = erfc(x.abs().mul(INV_SQRT_2)).mul(0.5f);
        return halfErfc.neg().add(1f).blend(halfErfc, x.compare(VectorOperators.LT, 0f));
    }

    /** 1 / (1 + e^-x), in a form that neither overflows nor loses precision for large |x|. */
    public static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg()), d = e.add(1f);
        FloatVector pos = FloatVector.broadcast(S, 1f).div(d), neg = e.div(d);
        return pos.blend(neg, x.compare(VectorOperators.LT, 0f));
    }

    // ---- scalar forms: lane for lane the same values, for loop tails

    public static float exp(float x) { return exp(FloatVector.broadcast(S, x)).lane(0); }

    public static float expm1(float x) { return expm1(FloatVector.broadcast(S, x)).lane(0); }

    public static float log(float x) { return log(FloatVector.broadcast(S, x)).lane(0); }

    public static float log1p(float x) { return log1p(FloatVector.broadcast(S, x)).lane(0); }

    public static float tanh(float x) { return tanh(FloatVector.broadcast(S, x)).lane(0); }

    public static float erf(float x) { return erf(FloatVector.broadcast(S, x)).lane(0); }

    public static float normalCdf(float x) { return normalCdf(FloatVector.broadcast(S, x)).lane(0); }

    public static float erfc(float a) { return erfc(FloatVector.broadcast(S, a)).lane(0); }

    public static float sigmoid(float x) { return sigmoid(FloatVector.broadcast(S, x)).lane(0); }
}
