package dev.gale.passes.simplify;

import dev.gale.ir.Value;

import java.util.List;
import java.util.function.Predicate;

/**
 * A local rewrite as data: a name (its firings are counted as {@code simplify.<name>}), a pattern rooted at the node
 * to replace, a condition over the match (shape, dtype and broadcasting checks live here: a rewrite that could change
 * the root's output type must not fire), and the rewrite that builds the replacement.
 *
 * <pre>{@code
 * // x * 1 -> x
 * RewriteRule.of("mul-one", op("Mul", any("x"), constant("one")).commutative(),
 *         m -> ShapeFacts.isAll(m.constant("one"), 1) && ShapeFacts.broadcastsInto(m.tensorType("one"), m.tensorType("x")),
 *         (m, r) -> List.of(m.value("x")));
 * }</pre>
 */
public record RewriteRule(String name, Pattern.Op pattern, Predicate<Match> when, Rewrite rewrite) {
    /**
     * Builds the replacement of a matched root: one value per root output, in order (null for an output that is
     * absent or unused), or null to decline after all. New nodes are made with the {@link Rewriter}.
     */
    @FunctionalInterface
    public interface Rewrite {
        List<Value> apply(Match m, Rewriter r);
    }

    public static RewriteRule of(String name, Pattern.Op pattern, Predicate<Match> when, Rewrite rewrite) {
        return new RewriteRule(name, pattern, when, rewrite);
    }

    /** The first match of this rule's pattern at {@code n} that satisfies its condition, or null. */
    public Match match(dev.gale.ir.Node n, GraphView view) { return Matcher.match(pattern, n, view, when); }
}
