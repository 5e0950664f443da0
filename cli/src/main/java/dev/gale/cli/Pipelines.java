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
 * Gradient nodes, simplify, fuse patterns, simplify what fusion exposed, partition into kernels, schedule,
 * rematerialize under the memory budget (training graphs), plan memory. Each stage lists the pass names that belong
 * to it, in order; names not registered (yet) in {@link PassRegistry} are skipped, so the pipeline grows as passes
 * land. When none of a stage's passes is registered, registered passes it does not name but that establish its
 * property stand in for them, in name order (a variant such as {@code fuse-decomposed} does not run next to the
 * full {@code fuse-patterns}). Finally, a pass whose requirements no earlier pass established is dropped, so the
 * default pipeline is always valid whatever subset of the passes exists.
 */
public final class Pipelines {
    /** Pass options {@code gale compile} sets in the {@link dev.gale.passes.pipeline.PassContext}. */
    public static final String MEMORY_BUDGET = "memory.budget", TRAINING = "training", BATCH_SIZE = "batch";
    /** Where memory planning leaves its plan in the pass context; {@code gale compile} writes it out. */
    public static final String MEMORY_PLAN = "memory.plan";

    /** When a stage runs: always, only for training graphs, or only when the stage before it ran something. */
    private enum When { ALWAYS, TRAINING, AFTER_PREVIOUS }

    private record Stage(Property property, List<String> names, When when) {}

    private static final List<String> SIMPLIFY = List.of("simplify", "fold", "shape-fold", "algebraic", "cse", "dce");

    private static final List<Stage> STAGES = List.of(
            new Stage(null, List.of("lower-gradient"), When.ALWAYS),
            new Stage(Property.SIMPLIFIED, SIMPLIFY, When.ALWAYS),
            new Stage(Property.PATTERNS_FUSED, List.of("fuse-patterns"), When.ALWAYS),
            new Stage(null, List.of("simplify", "cse", "dce"), When.AFTER_PREVIOUS),
            new Stage(Property.PARTITIONED, List.of("partition"), When.ALWAYS),
            new Stage(Property.SCHEDULED, List.of("schedule"), When.ALWAYS),
            new Stage(null, List.of("remat"), When.TRAINING), // activations kept for backward are what it recomputes
            new Stage(Property.MEMORY_PLANNED, List.of("plan-memory"), When.ALWAYS));

    private Pipelines() {}

    /** The default pipeline for an inference or a training graph, from the passes registered now. */
    public static Pipeline standard(boolean training) { return standard(training, true); }

    /**
     * The default pipeline; without {@code planMemory} it stops short of the passes that need every tensor's size
     * (rematerialization and memory planning), for graphs whose batch size is still symbolic.
     */
    public static Pipeline standard(boolean training, boolean planMemory) {
        List<String> registered = PassRegistry.names();
        List<String> order = new ArrayList<>();
        boolean previousRan = false;
        for (Stage s : STAGES) {
            boolean sized = s.names().contains("remat") || s.property() == Property.MEMORY_PLANNED;
            if (s.when() == When.TRAINING && !training || s.when() == When.AFTER_PREVIOUS && !previousRan
                    || sized && !planMemory) {
                previousRan = false;
                continue;
            }
            Set<String> stage = new LinkedHashSet<>();
            for (String n : s.names()) if (registered.contains(n)) stage.add(n);
            // "simplify" drives the whole family: when it exists, its members do not also run on their own
            if (stage.contains("simplify")) stage.removeIf(n -> !n.equals("simplify") && SIMPLIFY.contains(n));
            if (s.property() != null && stage.isEmpty()) // a stand-in only when none of the stage's own passes exists
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
