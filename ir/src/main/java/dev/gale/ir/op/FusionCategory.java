package dev.gale.ir.op;

/**
 * How an op may be fused with its neighbours, after TVM's operator patterns. Ordered from the most to the least
 * fusable; fusion partitioning in {@code passes} reads nothing else about an op.
 */
public enum FusionCategory {
    /** One output element from the same-index input elements ({@code Relu}, {@code Exp}). */
    ELEMENTWISE,
    /** Elementwise with numpy broadcasting of the operands ({@code Add}, {@code Where}). */
    BROADCAST,
    /** Each output element reads one input element at a computed index ({@code Transpose}, {@code Slice}). */
    INJECTIVE,
    /** Combines many input elements into one output element ({@code ReduceSum}, {@code ArgMax}). */
    REDUCTION,
    /** A heavy op whose output may take an elementwise epilogue ({@code MatMul}, {@code Conv}). */
    OUT_ELEMENTWISE_FUSABLE,
    /** Never fused ({@code Loop}, {@code NonZero}, sequence ops, data-dependent shapes). */
    OPAQUE
}
