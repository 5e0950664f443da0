package dev.gale.backends.interp;

/**
 * Float64 functions {@link Math} lacks (error function, inverse hyperbolics), written for accuracy close to the last
 * bit of a double, so the interpreter's float32 results are correctly rounded in practice.
 */
public final class ScalarMath {
    private ScalarMath() {}

    private static final double LN2 = Math.log(2);
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    /**
     * The error function. Below |x| = 3 it sums
     * {@code erf(x) = 2x/sqrt(pi) e^(-x^2) sum_n (2x^2)^n / (1*3*...*(2n+1))}, whose terms are all positive (no
     * cancellation); above, {@code 1 - erfc(x)} with erfc from its continued fraction.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        double r = a < 3 ? erfSeries(a) : 1 - erfcFraction(a);
        return Math.copySign(r, x);
    }

    /** The complementary error function {@code 1 - erf(x)}, accurate also where it is tiny (large x). */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x >= 3) return erfcFraction(x);
        if (x <= -3) return 2 - erfcFraction(-x);
        return 1 - erf(x);
    }

    private static double erfSeries(double a) {
        double t2 = 2 * a * a, term = 1, sum = 1;
        for (int n = 1; n < 300 && term > sum * 1e-17; n++) {
            term *= t2 / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * a * Math.exp(-a * a) * sum;
    }

    /** erfc(a) for a >= 3: e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated from the tail. */
    private static double erfcFraction(double a) {
        if (a > 27) return 0; // below the smallest double
        double f = a;
        for (int k = 80; k >= 1; k--) f = a + (k / 2.0) / f;
        return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    }

    public static double asinh(double x) {
        double a = Math.abs(x);
        double r = a > 1e8 ? Math.log(a) + LN2 : Math.log1p(a + a * a / (1 + Math.sqrt(1 + a * a)));
        return Math.copySign(r, x);
    }

    public static double acosh(double x) {
        if (!(x >= 1)) return Double.NaN;
        if (x > 1e8) return Math.log(x) + LN2;
        double t = x - 1;
        return Math.log1p(t + Math.sqrt(2 * t + t * t));
    }

    public static double atanh(double x) {
        double a = Math.abs(x);
        return Math.copySign(0.5 * Math.log1p(2 * a / (1 - a)), x);
    }

    /** {@code log(1 + e^x)} without overflow for large x. */
    public static double softplus(double x) {
        return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    }

    /** {@code 1 / (1 + e^-x)} without overflow for very negative x. */
    public static double sigmoid(double x) {
        if (x >= 0) return 1 / (1 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
