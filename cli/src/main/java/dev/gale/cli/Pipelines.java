package dev.gale.cli;

import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The pipeline {@code gale compile} runs by default, as a plain list of stages (STYLE.md 3): lower training
 * Gradient nodes, simplify, fuse patterns, simplify what fusion exposed, partition into kernels, schedule, plan
 * memory. Each stage lists the pass names that belong to it, in order; names not registered (yet) in
 * {@link PassRegistry} are skipped, so the pipeline grows as passes land. A registered pass that a stage does not
 * name but that establishes the stage's property (another pattern fusion, say) joins that stage, after the named
 * ones, in name order. Finally, a pass whose requirements no earlier pass established is dropped, so the default
 * pipeline is always valid whatever subset of the passes exists.
 */
public final class Pipelines {
    /** Pass options {@code gale compile} sets in the {@link dev.gale.passes.pipeline.PassContext}. */
    public static final String MEMORY_BUDGET = "memory.budget", TRAINING = "training", BATCH_SIZE = "batch.size";
    /**
     * Where memory planning leaves its plan in the pass context; {@code gale compile} writes it to
     * {@code memory-plan.json} (its {@code String toJson()} if it has one, else its structure: see
     * {@code CompileJson}). The report's memory figures are the counters {@code memory.naive_bytes},
     * {@code memory.lower_bound_bytes}, {@code memory.planned_bytes} and {@code memory.remat_extra_flops}, or the
     * plan's components of those names (snake or camel case); naive and lower bound default to
     * {@link MemoryEstimate}'s.
     */
    public static final String MEMORY_PLAN = "memory.plan";

    /** When a stage runs: always, only for training graphs, or only when the stage before it ran something. */
    private enum When { ALWAYS, TRAINING, AFTER_PREVIOUS }

    private record Stage(Property property, List<String> names, When when) {}

    private static final List<String> SIMPLIFY = List.of("simplify", "fold", "shape-fold", "algebraic", "cse", "dce");

    private static final List<Stage> STAGES = List.of(
            new Stage(null, List.of("lower-gradient"), When.ALWAYS),
            new Stage(Property.SIMPLIFIED, SIMPLIFY, When.ALWAYS),
            new Stage(Property.PATTERNS_FUSED, List.of(), When.ALWAYS),
            new Stage(null, List.of("simplify", "cse", "dce"), When.AFTER_PREVIOUS),
            new Stage(Property.PARTITIONED, List.of("partition"), When.ALWAYS),
            new Stage(Property.SCHEDULED, List.of("schedule"), When.ALWAYS),
            new Stage(null, List.of("remat"), When.TRAINING),
            new Stage(Property.MEMORY_PLANNED, List.of("memory-plan"), When.ALWAYS));

    private Pipelines() {}

    /** The default pipeline for an inference or a training graph, from the passes registered now. */
    public static Pipeline standard(boolean training) {
        List<String> registered = PassRegistry.names();
        List<String> order = new ArrayList<>();
        boolean previousRan = false;
        for (Stage s : STAGES) {
            if (s.when() == When.TRAINING && !training || s.when() == When.AFTER_PREVIOUS && !previousRan) {
                previousRan = false;
                continue;
            }
            Set<String> stage = new LinkedHashSet<>();
            for (String n : s.names()) if (registered.contains(n)) stage.add(n);
            // "simplify" drives the whole family: when it exists, its members do not also run on their own
            if (stage.contains("simplify")) stage.removeIf(n -> !n.equals("simplify") && SIMPLIFY.contains(n));
            if (s.property() != null)
                for (String n : registered)
                    if (!order.contains(n) && !isNamedAnywhere(n)
                            && PassRegistry.get(n).establishes().contains(s.property()))
                        stage.add(n);
            order.addAll(stage);
            previousRan = !stage.isEmpty();
        }
        List<Pass> passes = new ArrayList<>();
        EnumSet<Property> have = EnumSet.of(Property.TYPED);
        for (String n : order) {
            Pass p = PassRegistry.get(n);
            if (!have.containsAll(p.requires())) continue;
            have.removeAll(p.invalidates());
            have.addAll(p.establishes());
            passes.add(p);
        }
        return new Pipeline(passes);
    }

    private static boolean isNamedAnywhere(String name) {
        return STAGES.stream().anyMatch(s -> s.names().contains(name));
    }
}
