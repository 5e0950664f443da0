package dev.gale.passes.simplify;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Common subexpression elimination: a node computing what an earlier node already computed (same domain, op,
 * attributes and inputs, operands of commutative ops in either order) is replaced by the earlier node's outputs.
 * Duplicate constants (equal type, shape and bits) merge the same way.
 *
 * <p>Never merged: impure ops (Dropout, Random*, Bernoulli, Multinomial: two draws are two different values) and
 * nodes with nested graphs. As the driver visits nodes in order with their inputs already renamed, chains of
 * duplicates collapse in one sweep.
 */
public final class CommonSubexpressions implements Pass {
    public static final List<RewriteRule> RULES = List.of(
            // op(x...) -> the earlier op(x...)
            RewriteRule.of("cse", Pattern.anyNode(), m -> m.view().equivalent(m.root()) != null,
                    CommonSubexpressions::earlier));

    @Override
    public String name() { return "cse"; }

    @Override
    public Set<Property> invalidates() { return GRAPH_REWRITE; }

    @Override
    public Graph run(Graph graph, PassContext ctx) { return RewriteDriver.apply(graph, RULES, ctx); }

    private static List<Value> earlier(Match m, Rewriter r) {
        Node e = m.view().equivalent(m.root());
        List<Value> repl = new ArrayList<>();
        for (int i = 0; i < m.root().outputs().size(); i++)
            repl.add(m.root().output(i).isNone() ? null : e.output(i));
        return repl;
    }
}
