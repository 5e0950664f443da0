package dev.gale.passes.pipeline;

import dev.gale.ir.GaleException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Every pass by name, so pipelines can be written as text ({@code "fold,cse,dce"}) in tests, golden files and
 * {@code gale compile}. Each pass family adds one line to {@link #REGISTRY}'s initializer.
 */
public final class PassRegistry {
    private static final Map<String, Supplier<Pass>> REGISTRY = new TreeMap<>();

    static {
        register("lower-gradient", dev.gale.passes.LowerGradientOps::pass);
        for (Pass p : dev.gale.passes.simplify.Simplify.passes()) register(p.name(), () -> p);
        register("fuse-patterns", dev.gale.passes.fuse.FusePatterns::new);
        register("fuse-decomposed", dev.gale.passes.fuse.FusePatterns::decomposedOnly);
        register(dev.gale.passes.partition.Partition.NAME, dev.gale.passes.partition.Partition::new);
        register("schedule", dev.gale.passes.memory.Scheduler::pass);
        register("plan-memory", dev.gale.passes.memory.MemoryPlanner::pass);
        register("remat", dev.gale.passes.memory.Rematerializer::pass);
    }

    private PassRegistry() {}

    public static void register(String name, Supplier<Pass> pass) {
        if (REGISTRY.putIfAbsent(name, pass) != null) throw new IllegalStateException("pass registered twice: " + name);
    }

    public static Pass get(String name) {
        Supplier<Pass> s = REGISTRY.get(name);
        if (s == null) throw new GaleException("unknown pass '" + name + "'; known passes: " + REGISTRY.keySet());
        return s.get();
    }

    public static List<String> names() { return new ArrayList<>(REGISTRY.keySet()); }

    /** A pipeline from a comma-separated list of pass names. */
    public static Pipeline parse(String spec) {
        List<Pass> passes = new ArrayList<>();
        for (String n : spec.split(",")) if (!n.isBlank()) passes.add(get(n.trim()));
        return new Pipeline(passes);
    }
}
