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
    void tanhAndSigmoid() {
        check("tanh", VMath::tanh, Math::tanh, -12f, 12f, 3);
        check("tanh-small", VMath::tanh, Math::tanh, -0.7f, 0.7f, 3);
        check("sigmoid", VMath::sigmoid, x -> 1 / (1 + Math.exp(-x)), -80f, 80f, 3);
        assertEquals(1f, VMath.tanh(50f));
        assertEquals(-1f, VMath.tanh(-50f));
    }
}
