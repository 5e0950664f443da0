package dev.gale.codegen;

import dev.gale.codegen.kir.Ix;
import org.junit.jupiter.api.Test;

import static dev.gale.codegen.kir.KernelPrinter.ix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The index simplifier: normal forms and the rewrites that make reshapes cheap. */
class IxTest {
    private static final Ix.Var I = new Ix.Var("i", Ix.lit(6)), J = new Ix.Var("j", Ix.lit(4)),
            X = new Ix.Var("x", Ix.lit(24));
    private static final Ix.Size N = new Ix.Size("n");

    @Test
    void sumsCombineLikeTermsAndLiterals() {
        assertEquals("i * 5 + 3", ix(Ix.sum(java.util.List.of(Ix.mul(I, Ix.lit(2)), Ix.lit(1), Ix.mul(Ix.lit(3), I), Ix.lit(2)))));
        assertEquals("0", ix(Ix.add(I, Ix.mul(Ix.lit(-1), I))));
        assertEquals("i * 4 + 8", ix(Ix.mul(Ix.lit(4), Ix.add(I, Ix.lit(2)))));
        assertEquals("i * n * 4", ix(Ix.mul(Ix.mul(I, Ix.lit(4)), N)));
    }

    @Test
    void divisionAndRemainderUseBounds() {
        Ix flat = Ix.add(Ix.mul(I, Ix.lit(4)), J); // i*4 + j with j < 4
        assertEquals("i", ix(Ix.div(flat, Ix.lit(4))));
        assertEquals("j", ix(Ix.mod(flat, Ix.lit(4))));
        assertEquals("0", ix(Ix.div(J, Ix.lit(4))));
        assertEquals("x / 12", ix(Ix.div(Ix.div(X, Ix.lit(4)), Ix.lit(3))));
        assertEquals("0", ix(Ix.mod(Ix.mul(I, N), N)));
        assertEquals("i", ix(Ix.div(Ix.mul(I, N), N)));
    }

    @Test
    void commonFactorsAndRunsBelowADivisorCancel() {
        Ix.Var a = new Ix.Var("a", Ix.lit(64)), b = new Ix.Var("b", Ix.lit(128));
        // a*128 is a multiple of 128, which divides 1024, and b < 128: (a*128 + b) / 1024 = a / 8
        assertEquals("a / 8", ix(Ix.div(Ix.add(Ix.mul(a, Ix.lit(128)), b), Ix.lit(1024))));
        assertEquals("(a % 8) * 4", ix(Ix.mod(Ix.mul(a, Ix.lit(4)), Ix.lit(32))));
        assertEquals("(a % 8) * 4 + j", ix(Ix.mod(Ix.add(Ix.mul(a, Ix.lit(4)), J), Ix.lit(32))));
        Ix.Var j5 = new Ix.Var("j", Ix.lit(5)); // j can reach 4: nothing cancels
        assertEquals("(a * 4 + j) % 32", ix(Ix.mod(Ix.add(Ix.mul(a, Ix.lit(4)), j5), Ix.lit(32))));
    }

    /** Every simplified (k1*x + k2*y + k3) / c and % c equals floor division and remainder at every point. */
    @Test
    void simplifiedDivisionsAndRemaindersKeepTheirValues() {
        int checked = 0;
        for (long ny : new long[] {3, 4, 5, 8})
            for (long k1 : new long[] {1, 2, 4, 6, 8, 12, 16})
                for (long k2 : new long[] {1, 2, 3, 4, 8})
                    for (long k3 : new long[] {0, 1, 3})
                        for (long c : new long[] {2, 4, 8, 12, 16, 32}) {
                            Ix.Var x = new Ix.Var("x", Ix.lit(7)), y = new Ix.Var("y", Ix.lit(ny));
                            Ix e = Ix.sum(java.util.List.of(Ix.mul(x, Ix.lit(k1)), Ix.mul(y, Ix.lit(k2)), Ix.lit(k3)));
                            Ix q = Ix.div(e, Ix.lit(c)), r = Ix.mod(e, Ix.lit(c));
                            for (long xv = 0; xv < 7; xv++)
                                for (long yv = 0; yv < ny; yv++) {
                                    java.util.Map<String, Long> env = java.util.Map.of("x", xv, "y", yv);
                                    long v = k1 * xv + k2 * yv + k3;
                                    String what = ix(e) + " at x=" + xv + ", y=" + yv + ": ";
                                    assertEquals(v / c, Ix.eval(q, env), what + ix(q));
                                    assertEquals(v % c, Ix.eval(r, env), what + ix(r));
                                    checked++;
                                }
                        }
        assertEquals(7 * 20 * 7 * 5 * 3 * 6, checked); // points of x and y (7 * (3 + 4 + 5 + 8)) times the sums
    }

    @Test
    void unravelThenRavelIsTheIdentity() {
        // [24] -> [2,3,4] -> flat offset again: 12*(x/12) + 4*((x/4)%3) + x%4 = x
        Ix c0 = Ix.div(X, Ix.lit(12)), c1 = Ix.mod(Ix.div(X, Ix.lit(4)), Ix.lit(3)), c2 = Ix.mod(X, Ix.lit(4));
        Ix flat = Ix.sum(java.util.List.of(Ix.mul(c0, Ix.lit(12)), Ix.mul(c1, Ix.lit(4)), c2));
        assertEquals("x", ix(flat));
    }

    @Test
    void strideAlongAVariable() {
        Ix e = Ix.add(Ix.mul(I, Ix.mul(N, Ix.lit(3))), J);
        assertEquals("1", ix(Ix.strideAlong(e, J)));
        assertEquals("n * 3", ix(Ix.strideAlong(e, I)));
        assertNull(Ix.strideAlong(Ix.div(X, Ix.lit(4)), X));
    }
}
