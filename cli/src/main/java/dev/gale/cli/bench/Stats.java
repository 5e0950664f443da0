package dev.gale.cli.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The summary of repeated measurements: median and spread (quartiles, min, max). Quartiles interpolate linearly
 * between order statistics (numpy's default), so the median of an even count is the mean of the middle two.
 *
 * <p>Ratios are paired: run {@code i} of Gale and run {@code i} of the peer were taken back to back, so their ratio
 * sees the same machine state; {@link #ratios} summarizes those per-pair ratios rather than dividing two medians.
 */
public record Stats(int n, double median, double q1, double q3, double min, double max) {
    public static Stats of(double[] xs) {
        if (xs.length == 0) throw new IllegalArgumentException("no measurements");
        double[] s = xs.clone();
        Arrays.sort(s);
        return new Stats(s.length, quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.75), s[0], s[s.length - 1]);
    }

    /** Quantile {@code q} in [0, 1] of sorted {@code s}, interpolating linearly between neighbours. */
    static double quantile(double[] s, double q) {
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, s.length - 1);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    /** Summary of {@code a[i] / b[i]}; the arrays pair run {@code i} of each side. */
    public static Stats ratios(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("unpaired runs: " + a.length + " vs " + b.length);
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i] / b[i];
        return of(r);
    }

    public double iqr() { return q3 - q1; }

    /** This summary with every statistic multiplied by {@code k} (seconds to milliseconds, say). */
    public Stats scaled(double k) { return new Stats(n, median * k, q1 * k, q3 * k, min * k, max * k); }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", n);
        m.put("median", median);
        m.put("q1", q1);
        m.put("q3", q3);
        m.put("min", min);
        m.put("max", max);
        return m;
    }
}
