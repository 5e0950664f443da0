package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation an {@link Epilogue} applies to each output element. {@link #apply(float[], int, int)} runs over a
 * buffer with one straight vector loop per activation (so that C2 keeps every vector in registers) and a masked last
 * step; {@link #apply(float)} is the same formula on one element.
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

    /** Applies the activation to {@code x[0, n)} in place. */
    void apply(float[] x, int n) { apply(x, 0, n); }

    /**
     * Applies the activation to {@code x[from, from + n)} in place. Each activation's vector loop is its own method,
     * kept out of its callers by the launcher's
     * {@code -XX:CompileCommand=dontinline,dev.gale.backends.cpu.*::*Loop}: compiled alone, with VMath inlined into
     * it, the loop keeps its vectors in registers. Inlined into a GEMM's tile store it
     * would make a method so large that C2 gives up inlining VMath there and boxes every vector: a 128 x 1536 x 384
     * product with a GELU epilogue took 3.6 ms instead of 1.5 (1.0 without an activation) on one thread.
     *
     * <p>The last {@code n % L} elements are one masked step, in a method of its own for the same reason: a scalar
     * tail calling VMath's scalar forms was inlined into the caller and boxed there (a 24 x 24 FlatConv with GELU
     * allocated 1.7 MB a call when the JVM compiled with {@code -Xbatch}), and a second copy of the formula in the
     * loop's method would double its nodes and could take it past C2's inlining cutoff.
     */
    void apply(float[] x, int from, int n) {
        int end = from + n, vend = from + (n - n % L);
        switch (this) {
            case NONE -> { }
            case RELU -> {
                reluLoop(x, from, vend);
                if (vend < end) reluTailLoop(x, vend, end);
            }
            case TANH -> {
                tanhLoop(x, from, vend);
                if (vend < end) tanhTailLoop(x, vend, end);
            }
            case SIGMOID -> {
                sigmoidLoop(x, from, vend);
                if (vend < end) sigmoidTailLoop(x, vend, end);
            }
            case GELU_TANH -> {
                geluTanhLoop(x, from, vend);
                if (vend < end) geluTanhTailLoop(x, vend, end);
            }
            case GELU -> {
                geluLoop(x, from, vend);
                if (vend < end) geluTailLoop(x, vend, end);
            }
        }
    }

    // Each pair: the loop over whole vectors [i, end), then the masked step over [i, end) with end - i < L. The
    // formula is written out in both rather than in a helper taking and returning a vector: such a helper is one more
    // inlining level, and under tight budgets (KernelAllocationTest's tight-inlining run) C2 left it a call and boxed.

    /** max(x, 0) as compare and blend: -0 and NaN as {@link #apply(float)} gives them, in two instructions. */
    private static void reluLoop(float[] x, int i, int end) {
        for (; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            v.blend(0f, v.compare(VectorOperators.LE, 0f)).intoArray(x, i);
        }
    }

    private static void reluTailLoop(float[] x, int i, int end) {
        VectorMask<Float> m = S.indexInRange(i, end);
        FloatVector v = FloatVector.fromArray(S, x, i, m);
        v.blend(0f, v.compare(VectorOperators.LE, 0f)).intoArray(x, i, m);
    }

    private static void tanhLoop(float[] x, int i, int end) {
        for (; i < end; i += L) VMath.tanh(FloatVector.fromArray(S, x, i)).intoArray(x, i);
    }

    private static void tanhTailLoop(float[] x, int i, int end) {
        VectorMask<Float> m = S.indexInRange(i, end);
        VMath.tanh(FloatVector.fromArray(S, x, i, m)).intoArray(x, i, m);
    }

    private static void sigmoidLoop(float[] x, int i, int end) {
        for (; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i).neg();
            FloatVector e = VMath.exp(v.blend(88f, v.compare(VectorOperators.GT, 88f)));
            FloatVector.broadcast(S, 1f).div(e.add(1f)).intoArray(x, i);
        }
    }

    private static void sigmoidTailLoop(float[] x, int i, int end) {
        VectorMask<Float> m = S.indexInRange(i, end);
        FloatVector v = FloatVector.fromArray(S, x, i, m).neg();
        FloatVector e = VMath.exp(v.blend(88f, v.compare(VectorOperators.GT, 88f)));
        FloatVector.broadcast(S, 1f).div(e.add(1f)).intoArray(x, i, m);
    }

    private static void geluTanhLoop(float[] x, int i, int end) {
        for (; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
            VMath.tanh(inner).add(1f).mul(v).mul(0.5f).intoArray(x, i);
        }
    }

    private static void geluTanhTailLoop(float[] x, int i, int end) {
        VectorMask<Float> m = S.indexInRange(i, end);
        FloatVector v = FloatVector.fromArray(S, x, i, m);
        FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
        VMath.tanh(inner).add(1f).mul(v).mul(0.5f).intoArray(x, i, m);
    }

    private static void geluLoop(float[] x, int i, int end) {
        for (; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            v.mul(VMath.normalCdf(v)).intoArray(x, i);
        }
    }

    private static void geluTailLoop(float[] x, int i, int end) {
        VectorMask<Float> m = S.indexInRange(i, end);
        FloatVector v = FloatVector.fromArray(S, x, i, m);
        v.mul(VMath.normalCdf(v)).intoArray(x, i, m);
    }

    /** The activation of one value. */
    public float apply(float x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> x > 0 ? x : (x == x ? 0f : x);
            case TANH -> VMath.tanh(x);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case GELU -> x * VMath.normalCdf(x);
        };
    }

}
