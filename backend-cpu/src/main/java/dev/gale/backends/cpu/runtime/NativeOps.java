package dev.gale.backends.cpu.runtime;

import dev.gale.ir.op.OpTable;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The ops the CPU runtime runs with its own steps, by op: each builder gets an {@link EmitContext} and returns the
 * node's step, or null when this node is outside what it handles (an element type, rank or attribute it does not
 * cover); the node then runs on the interpreter's kernel ({@link FallbackStep}). One family file registers each
 * group of ops.
 */
final class NativeOps {
    @FunctionalInterface
    interface Builder {
        Step build(EmitContext c);
    }

    private static final Map<String, Builder> BUILDERS = new HashMap<>();
    /** Ops whose step may write its output over a same-sized input that dies there (the memory plan's in-place). */
    private static final Set<String> IN_PLACE = new HashSet<>();

    static {
        ElementwiseSteps.registerAll();
        LinearSteps.registerAll();
        AttentionSteps.registerAll();
        ConvSteps.registerAll();
        ReduceSteps.registerAll();
        NormSteps.registerAll();
        LayoutSteps.registerAll();
        ResizeSteps.registerAll();
        RecurrentSteps.registerAll();
    }

    private NativeOps() {}

    static void register(String op, Builder b) { register("", op, b); }

    static void register(String domain, String op, Builder b) {
        if (BUILDERS.putIfAbsent(OpTable.key(domain, op), b) != null)
            throw new IllegalStateException("CPU step registered twice: " + OpTable.key(domain, op));
    }

    /** Marks an op's step as safe when its output is its same-sized input's memory. */
    static void inPlace(String op) { IN_PLACE.add(OpTable.key("", op)); }

    static boolean isInPlace(String domain, String op) { return IN_PLACE.contains(OpTable.key(domain, op)); }

    static boolean has(String domain, String op) { return BUILDERS.containsKey(OpTable.key(domain, op)); }

    /** The node's native step, or null when it must fall back. */
    static Step build(EmitContext c) {
        Builder b = BUILDERS.get(OpTable.key(c.node.domain(), c.node.op()));
        return b == null ? null : b.build(c);
    }
}
