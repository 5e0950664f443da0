package dev.gale.passes.pipeline;

/**
 * Facts about a graph that passes establish and later passes rely on. A pipeline is checked before it runs: every
 * property a pass requires must be established by an earlier pass (or hold for the input) and not invalidated since.
 */
public enum Property {
    /** Every value has an inferred type (the importer and builder guarantee this). */
    TYPED,
    /** Folded, deduplicated and free of dead nodes, identities and no-op ops. */
    SIMPLIFIED,
    /** Decomposed patterns (LayerNorm, GELU, attention, ...) replaced by fused ops. */
    PATTERNS_FUSED,
    /** Nodes grouped into kernels (gale::Kernel nodes with fused bodies). */
    PARTITIONED,
    /** Nodes in their final execution order. */
    SCHEDULED,
    /** Every intermediate tensor has an arena offset. */
    MEMORY_PLANNED
}
