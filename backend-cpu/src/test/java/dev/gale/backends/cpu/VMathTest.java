package dev.gale.backends.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VMath against the double-precision functions of java.lang.Math, over wide random ranges and the edge cases. */
class VMathTest {
    private static void check(String name, UnaryOperator<Float> f, DoubleUnaryOperator exact, float lo, float hi,
                              double maxUlps) {
        Random r = new Random(name.hashCode());
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = i < 1000 ? lo + (hi - lo) * i / 999f : lo + (hi - lo) * r.nextFloat();
            float got = f.apply(x);
            double want = exact.applyAsDouble(x);
            if (Double.isInfinite(want) || Double.isNaN(want)) {
                assertEquals((float) want, got, 0f, name + "(" + x + ")");
                continue;
            }
            float w = (float) want;
            // below the normal range an ulp is the subnormal spacing
            double ulps = Math.abs(got - want) / Math.max(Math.ulp(Math.abs(w)), Float.MIN_VALUE);
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= maxUlps, name + "(" + x + ") = " + got + ", exact " + want + " (" + ulps + " ulp)");
        }
        assertTrue(worst >= 0);
    }

    @Test
    void expWithinTwoUlps() {
        check("exp", VMath::exp, Math::exp, -87f, 88.7f, 2);
        check("exp-subnormal", VMath::exp, Math::exp, -103.9f, -87f, 2);
        check("exp-small", VMath::exp, Math::exp, -1f, 1f, 2);
        assertEquals(Float.POSITIVE_INFINITY, VMath.exp(89f));
        assertEquals(0f, VMath.exp(-104f));
        assertTrue(Float.isNaN(VMath.exp(Float.NaN)));
        assertEquals(1f, VMath.exp(0f));
    }

    @Test
    void expm1AccurateNearZero() {
        check("expm1", VMath::expm1, Math::expm1, -0.5f, 0.5f, 2);
        check("expm1-wide", VMath::expm1, Math::expm1, -20f, 20f, 3);
        assertEquals(1e-7f, VMath.expm1(1e-7f), 1e-14f);
    }

    @Test
    void logWithinTwoUlps() {
        check("log", VMath::log, Math::log, 1e-30f, 1e30f, 2);
        check("log-near-1", VMath::log, Math::log, 0.5f, 2f, 2);
        check("log-subnormal", VMath::log, Math::log, 1e-44f, 1e-38f, 2);
        assertEquals(Float.NEGATIVE_INFINITY, VMath.log(0f));
        assertTrue(Float.isNaN(VMath.log(-1f)));
        assertEquals(Float.POSITIVE_INFINITY, VMath.log(Float.POSITIVE_INFINITY));
        assertEquals(0f, VMath.log(1f));
    }

    @Test
    void log1pAccurateNearZero() {
        check("log1p", VMath::log1p, Math::log1p, -0.5f, 0.5f, 3);
        check("log1p-wide", VMath::log1p, Math::log1p, -0.99f, 1e6f, 3);
        assertEquals(1e-9f, VMath.log1p(1e-9f), 1e-16f);
    }

    @Test
    void erfErfcAndTheNormalCdf() {
        check("erf", VMath::erf, VMathTest::erf, -6f, 6f, 8);
        check("erf-small", VMath::erf, VMathTest::erf, -0.5f, 0.5f, 8);
        check("erfc", VMath::erfc, x -> 1 - erf(x), 0f, 3f, 32); // the fit's fractional error: about 1e-6
        check("normalCdf", VMath::normalCdf, x -> 0.5 * (1 + erf(x / Math.sqrt(2))), -3f, 6f, 32);
        assertEquals(0f, VMath.erf(0f));
        assertEquals(1f, VMath.erf(10f));
    }

    /** erf in double by its series (|x| < 3) or its continued fraction: a reference within 1e-15. */
    static double erf(double x) {
        double a = Math.abs(x);
        if (a < 3) {
            double sum = 0, term = a;
            for (int n = 0; n < 200 && Math.abs(term) > 1e-20; n++) {
                sum += term / (2 * n + 1);
                term *= -a * a / (n + 1);
            }
            return Math.copySign(2 / Math.sqrt(Math.PI) * sum, x);
        }
        double f = 0;
        for (int k = 60; k >= 1; k--) f = k / 2.0 / (a + f);
        return Math.copySign(1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f), x);
    }

    @Test
    void tanhAndSigmoid() {
        check("tanh", VMath::tanh, Math::tanh, -12f, 12f, 8);
        check("tanh-small", VMath::tanh, Math::tanh, -0.7f, 0.7f, 8);
        check("sigmoid", VMath::sigmoid, x -> 1 / (1 + Math.exp(-x)), -80f, 80f, 3);
        assertEquals(1f, VMath.tanh(50f));
        assertEquals(-1f, VMath.tanh(-50f));
    }
}
