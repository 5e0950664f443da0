package dev.gale.passes.pipeline;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Verifier;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * An ordered list of passes and the driver that runs them: checks the ordering first (each pass's requirements
 * established earlier), then runs each pass, timing it, counting nodes, verifying the result when asked (always in
 * tests) and handing the graph to a dump hook ({@code --dump-after}).
 */
public final class Pipeline {
    private final List<Pass> passes;

    public Pipeline(List<Pass> passes) { this.passes = List.copyOf(passes); }

    public List<Pass> passes() { return passes; }

    /** The pipeline as text: {@code fold -> cse -> dce -> ...}. */
    @Override
    public String toString() { return passes.stream().map(Pass::name).collect(Collectors.joining(" -> ")); }

    /**
     * Throws when some pass needs a property no earlier pass established (or a later pass broke), or when a pass
     * breaks a property an earlier pass established and nothing establishes it again: the schedule or memory plan
     * would then describe a graph that no longer exists (plan-memory before a rewriting pass, say).
     */
    public void check(Set<Property> initial) {
        EnumSet<Property> have = initial.isEmpty() ? EnumSet.noneOf(Property.class) : EnumSet.copyOf(initial);
        Map<Property, String> establishedBy = new EnumMap<>(Property.class), brokenBy = new EnumMap<>(Property.class);
        for (Pass p : passes) {
            for (Property need : p.requires())
                if (!have.contains(need))
                    throw new GaleException("pipeline [" + this + "]: pass '" + p.name() + "' needs " + need + ", "
                            + (brokenBy.containsKey(need) ? "which '" + brokenBy.get(need) + "' invalidated after '"
                            + establishedBy.get(need) + "' established it" + establishAgain(need, brokenBy.get(need))
                            : "which no earlier pass establishes" + establishAgain(need, null)));
            for (Property lost : p.invalidates())
                if (have.remove(lost) && establishedBy.containsKey(lost)) brokenBy.put(lost, p.name());
            for (Property made : p.establishes()) {
                have.add(made);
                establishedBy.put(made, p.name());
                brokenBy.remove(made);
            }
        }
        // The last property in declaration order first: the memory plan before the schedule it needs.
        for (Property lost : brokenBy.keySet().stream().sorted(Comparator.reverseOrder()).toList())
            throw new GaleException("pipeline [" + this + "]: pass '" + brokenBy.get(lost) + "' invalidates " + lost
                    + ", which '" + establishedBy.get(lost) + "' established before it, and no later pass "
                    + "establishes it again, so the result would describe the graph before '" + brokenBy.get(lost)
                    + "'" + establishAgain(lost, brokenBy.get(lost)));
    }

    /** Advice: the registered passes that establish {@code p}, to run after {@code after} (null: earlier). */
    private static String establishAgain(Property p, String after) {
        List<String> by = new ArrayList<>();
        EnumSet<Property> needs = EnumSet.noneOf(Property.class);
        for (String name : PassRegistry.names()) {
            Pass pass = PassRegistry.get(name);
            if (!pass.establishes().contains(p)) continue;
            by.add(name);
            needs.addAll(pass.requires());
        }
        if (by.isEmpty()) return "";
        needs.removeAll(Set.of(Property.TYPED, p));
        return "; run " + (by.size() == 1 ? "'" + by.getFirst() + "'" : "one of " + by)
                + (needs.isEmpty() ? "" : " (which need" + (by.size() == 1 ? "s " : " ") + needs + ")")
                + (after == null ? " earlier" : " after '" + after + "'");
    }

    public record Result(Graph graph, List<PassReport> reports) {}

    /**
     * Runs every pass in order. {@code verify} runs the verifier after each pass; {@code dump} (nullable) receives
     * each pass's name and output graph.
     */
    public Result run(Graph g, PassContext ctx, boolean verify, BiConsumer<String, Graph> dump) {
        check(EnumSet.of(Property.TYPED));
        List<PassReport> reports = new ArrayList<>();
        for (Pass p : passes) {
            int before = g.nodes().size();
            long t0 = System.nanoTime();
            Graph out = p.run(g, ctx);
            double ms = (System.nanoTime() - t0) / 1e6;
            if (verify) {
                try {
                    Verifier.verify(out);
                } catch (GaleException e) {
                    throw new GaleException("after pass '" + p.name() + "': " + e.getMessage(), e);
                }
            }
            reports.add(new PassReport(p.name(), ms, before, out.nodes().size()));
            if (dump != null) dump.accept(p.name(), out);
            g = out;
        }
        return new Result(g, reports);
    }
}
