package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.passes.memory.MemoryPlan;
import dev.gale.passes.memory.MemoryPlanner;
import dev.gale.passes.memory.TensorSizes;
import dev.gale.passes.pipeline.PassContext;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memory section of {@code gale compile --report}: what the pipeline's memory passes recorded (the
 * {@code memory.plan} artifact and the {@code memory.*} and {@code remat.*} counters), and where memory planning
 * did not run, the naive and lower-bound figures of the planner's liveness analysis over the graph in its final
 * order (every intermediate in its own buffer; the peak of live bytes). A figure nobody computed is null, and so are
 * the estimates when some intermediate's size is not static (fix it with {@code --batch-size}).
 */
final class MemoryFigures {
    private MemoryFigures() {}

    static Map<String, Object> of(PassContext ctx, Graph g) {
        Long naive = counter(ctx, "memory.naive_bytes"), lower = counter(ctx, "memory.lower_bound_bytes");
        if (!(ctx.get(Pipelines.MEMORY_PLAN) instanceof MemoryPlan) && (naive == null || lower == null)) {
            MemoryPlan estimate = estimate(g);
            if (estimate != null) {
                if (naive == null) naive = estimate.naiveBytes();
                if (lower == null) lower = estimate.lowerBound();
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("naive_bytes", naive);
        m.put("lower_bound_bytes", lower);
        m.put("planned_bytes", ctx.get(Pipelines.MEMORY_PLAN) instanceof MemoryPlan p ? p.arenaBytes()
                : counter(ctx, "memory.arena_bytes"));
        m.put("remat_extra_flops", counter(ctx, "remat.extra_flops"));
        String budget = ctx.option(Pipelines.MEMORY_BUDGET, null);
        m.put("budget_bytes", budget == null ? null : Long.parseLong(budget));
        m.put("over_budget_bytes", budget == null || !(m.get("planned_bytes") instanceof Long p) ? null
                : Math.max(0, p - Long.parseLong(budget)));
        return m;
    }

    /** The planner's figures for the graph as it is, or null when some intermediate's size is unknown. */
    private static MemoryPlan estimate(Graph g) {
        try {
            MemoryPlan p = MemoryPlanner.plan(g, TensorSizes.of(Map.of(), 0, true));
            return p.dynamic().isEmpty() ? p : null;
        } catch (GaleException e) {
            return null;
        }
    }

    private static Long counter(PassContext ctx, String name) { return ctx.counters().get(name); }
}
