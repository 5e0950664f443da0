package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The activation an {@link Epilogue} applies to each output element, in vector and scalar form (the scalar form
 * serves edges and reference checks; both compute the same formula).
 */
public enum Activation {
    NONE, RELU,
    /** 0.5 x (1 + erf(x / sqrt 2)), PyTorch's default GELU. */
    GELU,
    /** 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), GELU's tanh approximation. */
    GELU_TANH,
    TANH, SIGMOID;

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1 / Math.sqrt(2));

    FloatVector apply(FloatVector v) {
        return switch (this) {
            case NONE -> v;
            case RELU -> v.max(0f);
            case TANH -> v.lanewise(VectorOperators.TANH);
            case SIGMOID -> sigmoid(v);
            case GELU_TANH -> {
                FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
                yield inner.lanewise(VectorOperators.TANH).add(1f).mul(v).mul(0.5f);
            }
            case GELU -> gelu(v);
        };
    }

    float apply(float x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> x > 0 ? x : 0f;
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case GELU -> gelu(x);
        };
    }

    /** 1 / (1 + e^-x), with the exponent clamped so that e^-x stays finite. */
    private static FloatVector sigmoid(FloatVector v) {
        FloatVector e = v.neg().min(88f).lanewise(VectorOperators.EXP);
        return FloatVector.broadcast(v.species(), 1f).div(e.add(1f));
    }

    // GELU's normal CDF as 1 - erfc(x / sqrt 2) / 2 (x >= 0) or erfc(|x| / sqrt 2) / 2 (x < 0), so both tails keep
    // their relative precision. erfc(z), z >= 0, by the Chebyshev fit of Numerical Recipes (erfcc, fractional error
    // below 1.2e-7): t = 1 / (1 + z / 2), erfc(z) = t exp(-z^2 - 1.26551223 + t (1.00002368 + t (0.37409196 + ...))).
    private static final float[] ERFC = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
            0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};

    private static FloatVector gelu(FloatVector x) {
        FloatVector z = x.abs().mul(INV_SQRT_2);
        FloatVector t = FloatVector.broadcast(x.species(), 1f).div(z.mul(0.5f).add(1f));
        FloatVector p = FloatVector.broadcast(x.species(), ERFC[9]);
        for (int i = 8; i >= 0; i--) p = p.fma(t, FloatVector.broadcast(x.species(), ERFC[i]));
        FloatVector halfErfc = t.mul(p.sub(z.mul(z)).lanewise(VectorOperators.EXP)).mul(0.5f);
        FloatVector cdf = halfErfc.neg().add(1f).blend(halfErfc, x.lt(0f));
        return x.mul(cdf);
    }

    private static float gelu(float x) {
        double z = Math.abs(x) * INV_SQRT_2, t = 1 / (1 + 0.5 * z), p = ERFC[9];
        for (int i = 8; i >= 0; i--) p = p * t + ERFC[i];
        double halfErfc = 0.5 * t * Math.exp(p - z * z);
        return (float) (x * (x < 0 ? halfErfc : 1 - halfErfc));
    }
}
