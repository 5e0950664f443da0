package dev.gale.passes.partition;

import dev.gale.ir.Graph;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.Set;

/**
 * The {@code partition} pass: groups the graph's nodes into {@code gale::Kernel} nodes by fusion category
 * ({@link FusionPartitioner} decides the groups, {@link KernelBuilder} writes them as kernels). Opaque ops stay plain
 * nodes between the kernels. Counters: {@code partition.kernels}, {@code partition.fused_nodes} (nodes now inside
 * kernels), {@code partition.plain_nodes}, {@code partition.recomputed} (cheap nodes copied into several kernels)
 * and {@code partition.inlined_constants}.
 */
public final class Partition implements Pass {
    public static final String NAME = "partition";

    @Override
    public String name() { return NAME; }

    @Override
    public Set<Property> establishes() { return Set.of(Property.PARTITIONED); }

    @Override
    public Set<Property> invalidates() { return Set.of(Property.SCHEDULED, Property.MEMORY_PLANNED); }

    @Override
    public Graph run(Graph graph, PassContext ctx) {
        FusionPartitioner partitioner = new FusionPartitioner(graph);
        KernelBuilder.Result r = KernelBuilder.build(graph, partitioner.run());
        ctx.count("partition.kernels", r.kernels());
        ctx.count("partition.fused_nodes", r.fusedNodes());
        ctx.count("partition.plain_nodes", r.plainNodes());
        ctx.count("partition.recomputed", partitioner.copies());
        ctx.count("partition.inlined_constants", r.inlinedConstants());
        return r.graph();
    }

    /** Partitions a graph outside a pipeline (tests, tools). */
    public static Graph apply(Graph graph) { return new Partition().run(graph, PassContext.defaults()); }
}
