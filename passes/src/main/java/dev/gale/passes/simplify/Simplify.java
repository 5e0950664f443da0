package dev.gale.passes.simplify;

import dev.gale.ir.Graph;
import dev.gale.ir.ShapeInference;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The standard simplification: algebraic identities, shape folding, constant folding and common subexpression
 * elimination applied together by one {@link RewriteDriver} run (each can enable the others: a folded shape makes
 * a Reshape an identity, a removed Identity makes two nodes equal), then dead code elimination; repeated until a
 * round changes nothing, since removing dead readers can free a Dropout mask and so enable more rewrites. After
 * each round that changed something, types are inferred again: a Reshape whose target became constant has a known
 * output shape, and so do the nodes after it.
 */
public final class Simplify implements Pass {
    private static final int MAX_ROUNDS = 8;

    /** Every local rule, in the order the driver tries them on a node. */
    public static final List<RewriteRule> RULES;

    static {
        List<RewriteRule> all = new ArrayList<>();
        all.addAll(AlgebraicSimplification.RULES);
        all.addAll(ShapeFolding.RULES);
        all.addAll(ConstantFolding.RULES);
        all.addAll(CommonSubexpressions.RULES);
        RULES = List.copyOf(all);
    }

    /** The passes that make up {@code simplify}, for pipelines that want them one by one. */
    public static List<Pass> steps() {
        return List.of(new AlgebraicSimplification(), new ShapeFolding(), new ConstantFolding(),
                new CommonSubexpressions(), new DeadCodeElimination());
    }

    /** Every pass of this family, {@code simplify} included (they are stateless: one instance each will do). */
    public static List<Pass> passes() {
        List<Pass> all = new ArrayList<>(steps());
        all.add(new Simplify());
        return all;
    }

    @Override
    public String name() { return "simplify"; }

    @Override
    public Set<Property> establishes() { return Set.of(Property.SIMPLIFIED); }

    @Override
    public Graph run(Graph graph, PassContext ctx) {
        DeadCodeElimination dce = new DeadCodeElimination();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            Graph next = dce.run(RewriteDriver.apply(graph, RULES, ctx), ctx);
            if (next == graph) return graph;
            // Rewrites make inputs constant (a folded Reshape target, say), so inference now knows more
            // downstream; the refreshed types keep everything already known and may enable further rules.
            graph = ShapeInference.run(next);
        }
        return graph;
    }
}
