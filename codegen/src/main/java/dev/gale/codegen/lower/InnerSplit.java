package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Splitting a nest's innermost loop to take index arithmetic out of it. A reshape that merges the axes of a
 * transposed tensor gives loads such as {@code p[((i0 * 128 + i1) / 32 % 32) * 2048 + (i0 / 8) * 32 + i1 % 32]}:
 * along {@code i1} the elements come in contiguous runs of 32, but under {@code /} and {@code %} no renderer sees
 * it, and the JVM kernel copies one element at a time. With {@code i1 = io * 32 + ii} the index simplifies
 * ({@link Ix}) to {@code ((i0 * 4 + io) % 32) * 2048 + (i0 / 8) * 32 + ii}, unit stride along the new innermost
 * loop. {@link KernelLowering} builds a nest again with the split when {@link #factor} finds one, and keeps it when
 * the new innermost variable appears under no {@code /} or {@code %}.
 */
final class InnerSplit {
    private InnerSplit() {}

    /**
     * How to split loop {@code v} (of {@code extent} iterations): the smallest literal divisor {@code c} of an index
     * expression in {@code v} ({@code x / c} or {@code x % c}) with {@code 1 < c < extent} that divides the extent;
     * 0 when no index divides an expression in {@code v}, 1 when one does but no divisor fits.
     */
    static long factor(KernelIR.Nest nest, Ix.Var v, long extent) {
        Set<Long> divisors = new TreeSet<>();
        boolean[] divided = {false};
        for (Stmt s : nest.body()) stmt(s, v, divisors, divided);
        if (!divided[0]) return 0;
        for (long c : divisors) if (c > 1 && c < extent && extent % c == 0) return c;
        return 1;
    }

    private static void stmt(Stmt s, Ix.Var v, Set<Long> divisors, boolean[] divided) {
        switch (s) {
            case Stmt.Loop l -> {
                for (Stmt t : l.body()) stmt(t, v, divisors, divided);
            }
            case Stmt.Let l -> sx(l.value(), v, divisors, divided);
            case Stmt.Acc a -> sx(a.init(), v, divisors, divided);
            case Stmt.Assign a -> sx(a.value(), v, divisors, divided);
            case Stmt.Store st -> {
                ix(st.index(), v, divisors, divided);
                sx(st.value(), v, divisors, divided);
            }
        }
    }

    private static void sx(Sx x, Ix.Var v, Set<Long> divisors, boolean[] divided) {
        switch (x) {
            case Sx.Load l -> ix(l.index(), v, divisors, divided);
            case Sx.Index i -> ix(i.index(), v, divisors, divided);
            case Sx.Unary u -> sx(u.x(), v, divisors, divided);
            case Sx.Binary b -> {
                sx(b.a(), v, divisors, divided);
                sx(b.b(), v, divisors, divided);
            }
            case Sx.Select sel -> {
                sx(sel.cond(), v, divisors, divided);
                sx(sel.a(), v, divisors, divided);
                sx(sel.b(), v, divisors, divided);
            }
            case Sx.Cast c -> sx(c.x(), v, divisors, divided);
            default -> { }
        }
    }

    private static void ix(Ix x, Ix.Var v, Set<Long> divisors, boolean[] divided) {
        switch (x) {
            case Ix.Div(Ix a, Ix b) -> divisor(a, b, v, divisors, divided);
            case Ix.Mod(Ix a, Ix b) -> divisor(a, b, v, divisors, divided);
            default -> { }
        }
        for (Ix child : children(x)) ix(child, v, divisors, divided);
    }

    private static void divisor(Ix a, Ix b, Ix.Var v, Set<Long> divisors, boolean[] divided) {
        if (!Ix.uses(a, v) && !Ix.uses(b, v)) return;
        divided[0] = true;
        if (b instanceof Ix.Lit(long c) && Ix.uses(a, v)) divisors.add(c);
    }

    private static List<Ix> children(Ix x) {
        return switch (x) {
            case Ix.Add s -> s.terms();
            case Ix.Mul m -> m.factors();
            case Ix.Div d -> List.of(d.a(), d.b());
            case Ix.Mod d -> List.of(d.a(), d.b());
            case Ix.Min m -> List.of(m.a(), m.b());
            case Ix.Max m -> List.of(m.a(), m.b());
            default -> List.of();
        };
    }
}
