package dev.gale.backends.interp;

import dev.gale.ir.op.OpTable;

import java.util.HashMap;
import java.util.Map;

/**
 * The interpreter's kernels by op, one family file per family of the op table. Each kernel is written for clarity:
 * plain loops, float64 accumulation where precision matters; it defines the results other backends must match.
 */
public final class Kernels {
    private static final Map<String, Kernel> KERNELS = new HashMap<>();

    static {
        ElementwiseKernels.registerAll();
        ReductionKernels.registerAll();
        NnKernels.registerAll();
        RecurrentKernels.registerAll();
        ShapeKernels.registerAll();
        IndexingKernels.registerAll();
        ControlFlowKernels.registerAll();
        SequenceKernels.registerAll();
        QuantizationKernels.registerAll();
        SignalKernels.registerAll();
        VisionKernels.registerAll();
        TextKernels.registerAll();
        RandomKernels.registerAll();
        TrainingKernels.registerAll();
        GaleKernels.registerAll();
    }

    private Kernels() {}

    static void register(String op, Kernel k) { register("", op, k); }

    static void register(String domain, String op, Kernel k) {
        String key = OpTable.key(domain, op);
        if (OpTable.lookup(domain, op) == null)
            throw new IllegalStateException("kernel for op missing from the op table: " + key);
        if (KERNELS.putIfAbsent(key, k) != null) throw new IllegalStateException("kernel registered twice: " + key);
    }

    public static Kernel lookup(String domain, String op) { return KERNELS.get(OpTable.key(domain, op)); }

    public static boolean supports(String domain, String op) { return lookup(domain, op) != null; }
}
