package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation an {@link Epilogue} applies to each output element. {@link #apply(float[], int, int)} runs over a
 * buffer with one straight vector loop per activation (so that C2 keeps every vector in registers) and a scalar tail;
 * {@link #apply(float)} is the same formula on one element.
 */
public enum Activation {
    NONE, RELU,
    /** 0.5 x (1 + erf(x / sqrt 2)), PyTorch's default GELU. */
    GELU,
    /** 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), GELU's tanh approximation. */
    GELU_TANH,
    TANH, SIGMOID;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1 / Math.sqrt(2));

    // GELU's normal CDF as 1 - erfc(x / sqrt 2) / 2 (x >= 0) or erfc(|x| / sqrt 2) / 2 (x < 0), so both tails keep
    // their relative precision. erfc(z), z >= 0, by the Chebyshev fit of Numerical Recipes (erfcc, fractional error
    // below 1.2e-7): t = 1 / (1 + z / 2), erfc(z) = t exp(-z^2 + E0 + t (E1 + t (E2 + ... + t E9))).
    private static final float E0 = -1.26551223f, E1 = 1.00002368f, E2 = 0.37409196f, E3 = 0.09678418f,
            E4 = -0.18628806f, E5 = 0.27886807f, E6 = -1.13520398f, E7 = 1.48851587f, E8 = -0.82215223f,
            E9 = 0.17087277f;

    /** Applies the activation to {@code x[0, n)} in place. */
    void apply(float[] x, int n) { apply(x, 0, n); }

    /** Applies the activation to {@code x[from, from + n)} in place. */
    void apply(float[] x, int from, int n) {
        int i = from, end = from + n, vend = from + (n - n % L);
        switch (this) {
            case NONE -> { return; }
            case RELU -> {
                for (; i < vend; i += L) FloatVector.fromArray(S, x, i).max(0f).intoArray(x, i);
            }
            case TANH -> {
                for (; i < vend; i += L) VMath.tanh(FloatVector.fromArray(S, x, i)).intoArray(x, i);
            }
            case SIGMOID -> {
                for (; i < vend; i += L) {
                    FloatVector e = VMath.exp(FloatVector.fromArray(S, x, i).neg().min(88f));
                    FloatVector.broadcast(S, 1f).div(e.add(1f)).intoArray(x, i);
                }
            }
            case GELU_TANH -> {
                for (; i < vend; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, i);
                    FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
                    VMath.tanh(inner).add(1f).mul(v).mul(0.5f).intoArray(x, i);
                }
            }
            case GELU -> {
                for (; i < vend; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, i);
                    FloatVector z = v.abs().mul(INV_SQRT_2);
                    FloatVector t = FloatVector.broadcast(S, 1f).div(z.mul(0.5f).add(1f));
                    // fma with broadcast constants: the same chain written t.mul(E9).add(E8)... ran 3x slower
                    FloatVector p = t.fma(FloatVector.broadcast(S, E9), FloatVector.broadcast(S, E8));
                    p = p.fma(t, FloatVector.broadcast(S, E7));
                    p = p.fma(t, FloatVector.broadcast(S, E6));
                    p = p.fma(t, FloatVector.broadcast(S, E5));
                    p = p.fma(t, FloatVector.broadcast(S, E4));
                    p = p.fma(t, FloatVector.broadcast(S, E3));
                    p = p.fma(t, FloatVector.broadcast(S, E2));
                    p = p.fma(t, FloatVector.broadcast(S, E1));
                    p = p.fma(t, FloatVector.broadcast(S, E0));
                    FloatVector halfErfc = t.mul(VMath.exp(p.sub(z.mul(z)))).mul(0.5f);
                    FloatVector cdf = halfErfc.neg().add(1f).blend(halfErfc, v.lt(0f));
                    v.mul(cdf).intoArray(x, i);
                }
            }
        }
        for (; i < end; i++) x[i] = apply(x[i]);
    }

    /** The activation of one value. */
    public float apply(float x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> x > 0 ? x : (x == x ? 0f : x);
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case GELU -> gelu(x);
        };
    }

    private static float gelu(float x) {
        double z = Math.abs(x) * INV_SQRT_2, t = 1 / (1 + 0.5 * z);
        double p = E0 + t * (E1 + t * (E2 + t * (E3 + t * (E4 + t * (E5 + t * (E6 + t * (E7 + t * (E8 + t * E9))))))));
        double halfErfc = 0.5 * t * Math.exp(p - z * z);
        return (float) (x * (x < 0 ? halfErfc : 1 - halfErfc));
    }
}
