package dev.gale.passes.memory;

import dev.gale.ir.Graph;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static memory planning of a scheduled graph into one arena (pass {@code plan-memory}).
 *
 * <ol>
 *   <li>Lifetimes ({@link Liveness}): every intermediate tensor (node output that is not a graph output) gets a birth
 *       and a death step; a node is one step, whether a plain op or a fused {@code gale::Kernel}. Forward activations
 *       that a training graph keeps for its backward part are intermediates with long lifetimes. Graph inputs,
 *       initializers and graph outputs stay outside the arena (the caller owns them); so do values whose size only
 *       the run time knows (unknown dimensions, strings, sequences), listed as dynamic.</li>
 *   <li>Sizes from the inferred static shapes, with symbolic dimensions bound by the {@code batch} / {@code dim.NAME}
 *       options ({@link TensorSizes}); an unbound symbol is an error asking for {@code --batch-size}. Dims that
 *       inference leaves unknown because they are computed from a symbol ({@code batch * heads}) are found by
 *       inferring the graph again with the symbols' values ({@link TensorSizes#specializedTo}).</li>
 *   <li>Views: a reshape's output shares its input's bytes, however long either lives; no copy is made.</li>
 *   <li>In-place reuse: an elementwise node writes an output over a same-size input whose bytes die there.</li>
 *   <li>Offsets: greedy by size, best fit, aligned to {@value #ALIGNMENT} bytes ({@link OffsetAssignment}).</li>
 * </ol>
 *
 * The pass leaves the graph unchanged and stores the {@link MemoryPlan} under {@value #PLAN_KEY}.
 */
public final class MemoryPlanner {
    public static final String PLAN_KEY = "memory.plan";
    public static final long ALIGNMENT = 64;

    private MemoryPlanner() {}

    /** This planner as a pipeline pass named {@code plan-memory}; needs a scheduled graph. */
    public static Pass pass() {
        return new Pass() {
            @Override
            public String name() { return "plan-memory"; }

            @Override
            public Set<Property> requires() { return Set.of(Property.TYPED, Property.SCHEDULED); }

            @Override
            public Set<Property> establishes() { return Set.of(Property.MEMORY_PLANNED); }

            @Override
            public Graph run(Graph g, PassContext ctx) {
                // remat plans the graph it returns: when nothing changed it since, that plan stands
                MemoryPlan plan = ctx.get(PLANNED_GRAPH) == g ? ctx.get(PLAN_KEY) : null;
                if (plan == null) plan = plan(g, TensorSizes.from(ctx, true));
                record(plan, g, ctx);
                return g;
            }
        };
    }

    /** The graph the plan under {@link #PLAN_KEY} was made for (compared by identity: graphs are immutable). */
    static final String PLANNED_GRAPH = "memory.plan.graph";

    /**
     * Stores the plan of {@code g} in the context and shows its numbers as counters (a later plan replaces them).
     */
    static void record(MemoryPlan plan, Graph g, PassContext ctx) {
        ctx.put(PLAN_KEY, plan);
        ctx.put(PLANNED_GRAPH, g);
        set(ctx, "memory.arena_bytes", plan.arenaBytes());
        set(ctx, "memory.naive_bytes", plan.naiveBytes());
        set(ctx, "memory.lower_bound_bytes", plan.lowerBound());
        set(ctx, "memory.in_place", plan.allocations().stream().filter(a -> a.inPlaceOf() != null).count());
        set(ctx, "memory.views", plan.allocations().stream().filter(a -> a.viewOf() != null).count());
    }

    private static void set(PassContext ctx, String counter, long value) {
        ctx.count(counter, value - ctx.counters().getOrDefault(counter, 0L));
    }

    /** Plans a graph whose node order is its execution order. */
    public static MemoryPlan plan(Graph g, TensorSizes sizes) {
        return plan(Liveness.of(g, sizes, ALIGNMENT, true));
    }

    static MemoryPlan plan(Liveness lv) {
        List<OffsetAssignment.Item> items = new ArrayList<>();
        for (Liveness.Buffer b : lv.buffers) items.add(new OffsetAssignment.Item(b.size(), b.first(), b.last()));
        OffsetAssignment.Result r = OffsetAssignment.assign(items, lv.liveBytes);
        Map<String, Long> offsetOf = new HashMap<>();
        for (int i = 0; i < items.size(); i++)
            for (String v : lv.buffers.get(i).members()) offsetOf.put(v, r.offsets()[i]);
        List<MemoryPlan.Allocation> allocs = new ArrayList<>();
        for (Liveness.Interval iv : lv.values.values())
            allocs.add(new MemoryPlan.Allocation(iv.value(), offsetOf.get(iv.value()), iv.bytes(), iv.first(),
                    iv.last(), lv.inPlaceOf.get(iv.value()), lv.viewOf.get(iv.value())));
        return new MemoryPlan(lv.alignment, r.arenaBytes(), lv.naiveBytes(), lv.lowerBound(), lv.steps, allocs,
                lv.dynamic);
    }
}
