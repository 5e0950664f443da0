package dev.gale.cli.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Median and spread as numpy computes them ({@code np.percentile(x, q)}, linear interpolation). */
class StatsTest {
    private static final double EPS = 1e-12;

    @Test
    void oddCountMedianIsTheMiddleValue() {
        Stats s = Stats.of(new double[] {5, 1, 4, 2, 3});
        assertEquals(5, s.n());
        assertEquals(3, s.median(), EPS);
        assertEquals(2, s.q1(), EPS);
        assertEquals(4, s.q3(), EPS);
        assertEquals(1, s.min(), EPS);
        assertEquals(5, s.max(), EPS);
        assertEquals(2, s.iqr(), EPS);
    }

    @Test
    void evenCountInterpolates() {
        // np.percentile([1, 2, 3, 10], [25, 50, 75]) == [1.75, 2.5, 4.75]
        Stats s = Stats.of(new double[] {10, 3, 1, 2});
        assertEquals(2.5, s.median(), EPS);
        assertEquals(1.75, s.q1(), EPS);
        assertEquals(4.75, s.q3(), EPS);
        assertEquals(1, s.min(), EPS);
        assertEquals(10, s.max(), EPS);
    }

    @Test
    void oneValueIsItsOwnSpread() {
        Stats s = Stats.of(new double[] {7});
        assertEquals(7, s.median(), EPS);
        assertEquals(7, s.q1(), EPS);
        assertEquals(7, s.q3(), EPS);
        assertEquals(0, s.iqr(), EPS);
    }

    @Test
    void outlierMovesMaxNotMedian() {
        Stats s = Stats.of(new double[] {1, 1, 1, 1, 1000});
        assertEquals(1, s.median(), EPS);
        assertEquals(1, s.q3(), EPS);
        assertEquals(1000, s.max(), EPS);
    }

    @Test
    void ratiosArePairedNotRatioOfMedians() {
        // per-pair ratios 2, 2, 2: the medians' ratio (20 / 4 = 5) would be wrong under drift
        Stats r = Stats.ratios(new double[] {2, 20, 200}, new double[] {1, 10, 100});
        assertEquals(2, r.median(), EPS);
        assertEquals(2, r.min(), EPS);
        assertEquals(2, r.max(), EPS);
        Stats q = Stats.ratios(new double[] {1, 3, 8}, new double[] {1, 1, 2});
        assertEquals(3, q.median(), EPS);
        assertEquals(2, q.q1(), EPS); // np.percentile([1, 3, 4], 25)
        assertEquals(3.5, q.q3(), EPS);
    }

    @Test
    void scaledConvertsEveryStatistic() {
        Stats s = Stats.of(new double[] {0.001, 0.002, 0.003}).scaled(1e3);
        assertEquals(2, s.median(), 1e-9);
        assertEquals(1, s.min(), 1e-9);
        assertEquals(3, s.max(), 1e-9);
        assertEquals(3, s.n());
    }

    @Test
    void inputIsNotReordered() {
        double[] xs = {3, 1, 2};
        Stats.of(xs);
        assertEquals(3, xs[0]);
    }

    @Test
    void refusesEmptyAndUnpaired() {
        assertThrows(IllegalArgumentException.class, () -> Stats.of(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> Stats.ratios(new double[] {1}, new double[] {1, 2}));
    }

    @Test
    void numbersKeepThreeSignificantDigits() {
        assertEquals("123", BenchResult.num(123.4));
        assertEquals("12.3", BenchResult.num(12.34));
        assertEquals("1.23", BenchResult.num(1.234));
        assertEquals("0.123", BenchResult.num(0.1234));
        assertEquals("0.0123", BenchResult.num(0.01234));
        assertEquals("2.50x", BenchResult.ratio(2.5));
    }
}
