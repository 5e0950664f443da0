package dev.gale.backends.cpu.runtime;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.passes.memory.MemoryPlan;
import dev.gale.passes.memory.MemoryPlanner;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The compiler passes the CPU runtime runs, by name through {@link PassRegistry}, so it uses whichever of them this
 * build has: {@code simplify} and {@code fuse-patterns} when a session opens, then, once the feeds fix every shape,
 * the same again on the specialized graph (shape computations fold away now) followed by {@code partition},
 * {@code schedule} and {@code plan-memory}. A pass that is not registered is left out; a pass that fails on a graph
 * (or leaves it invalid) is skipped and recorded, and the graph goes on without it: every pass only optimizes.
 * The memory plan comes back from the pass context ({@link MemoryPlanner#PLAN_KEY}). The system property {@code gale.cpu.passes} (a comma-separated list) replaces the graph passes, e.g. to rule one
 * out while debugging.
 */
final class CompilePipeline {
    static final List<String> OPEN_PASSES = List.of("simplify", "fuse-patterns");
    static final List<String> GRAPH_PASSES = List.of("simplify", "fuse-patterns", "partition");
    static final List<String> MEMORY_PASSES = List.of("schedule", "plan-memory");

    /** What compiling one graph did: the passes that ran, those skipped (with the reason) and the memory plan. */
    record Result(Graph graph, PlannedOffsets offsets, List<String> ran, List<String> skipped) {}

    private CompilePipeline() {}

    static List<String> graphPasses(List<String> defaults) {
        String p = System.getProperty("gale.cpu.passes");
        if (p == null) return defaults;
        List<String> r = new ArrayList<>();
        for (String s : p.split(",")) if (!s.isBlank()) r.add(s.trim());
        return r;
    }

    /** Runs the named passes that are registered, each on the previous one's result. */
    static Result optimize(Graph g, List<String> passes, boolean planMemory) {
        List<String> ran = new ArrayList<>(), skipped = new ArrayList<>();
        PassContext ctx = PassContext.defaults();
        for (String name : passes) g = runPass(g, name, ctx, ran, skipped);
        PlannedOffsets offsets = null;
        if (planMemory && MEMORY_PASSES.stream().allMatch(PassRegistry.names()::contains)) {
            Graph before = g;
            for (String name : MEMORY_PASSES) g = runPass(g, name, ctx, ran, skipped);
            offsets = PlannedOffsets.from(ctx.<MemoryPlan>get(MemoryPlanner.PLAN_KEY));
            // A plan is only good for the order it was made for.
            if (offsets == null || skipped.stream().anyMatch(s -> s.startsWith("schedule"))) {
                offsets = null;
                g = skipped.stream().anyMatch(s -> s.startsWith("schedule")) ? before : g;
            }
        }
        return new Result(g, offsets, ran, skipped);
    }

    private static Graph runPass(Graph g, String name, PassContext ctx, List<String> ran, List<String> skipped) {
        if (!PassRegistry.names().contains(name)) return g;
        try {
            Pass p = PassRegistry.get(name);
            Graph out = p.run(g, ctx);
            if (out != g) Verifier.verify(out);
            ran.add(name);
            return out;
        } catch (RuntimeException | StackOverflowError e) {
            skipped.add(name + ": " + e.getMessage());
            return g;
        }
    }

    /**
     * The graph with each fed tensor input's declared type replaced by the fed tensor's type, and types inferred
     * again from there; null when inference rejects the feeds (the caller then runs the graph as declared).
     */
    static Graph bind(Graph g, Map<String, Object> feeds) {
        List<Value> inputs = new ArrayList<>();
        boolean changed = false;
        for (Value v : g.inputs()) {
            if (feeds.get(v.name()) instanceof Tensor t && !t.type().equals(v.type())) {
                inputs.add(v.withType(t.type()));
                changed = true;
            } else {
                inputs.add(v);
            }
        }
        if (!changed) return g;
        try {
            return ShapeInference.run(new Graph(g.name(), inputs, g.outputs(), g.nodes(), g.initializers()));
        } catch (GaleException e) {
            return null;
        }
    }
}
