package dev.gale.passes.pipeline;

import dev.gale.ir.Graph;

import java.util.Set;

/**
 * A graph-to-graph transformation: stateless, named, and explicit about what it needs and what it provides.
 * Passes never time, verify or dump themselves; the {@link Pipeline} does that for every pass alike.
 */
public interface Pass {
    /** Short name used in pipelines, reports and {@code --dump-after}. */
    String name();

    Graph run(Graph graph, PassContext ctx);

    default Set<Property> requires() { return Set.of(Property.TYPED); }

    default Set<Property> establishes() { return Set.of(); }

    /**
     * Properties this pass may break (a rewrite after scheduling breaks SCHEDULED, say). A pass that establishes a
     * property it also invalidates breaks the old one and makes a new one (remat: a new schedule and plan).
     */
    default Set<Property> invalidates() { return Set.of(); }

    /** What every pass that rewrites the graph breaks: the execution order, and the memory plan made for it. */
    Set<Property> GRAPH_REWRITE = Set.of(Property.SCHEDULED, Property.MEMORY_PLANNED);
}
