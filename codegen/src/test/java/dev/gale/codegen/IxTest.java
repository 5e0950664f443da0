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
