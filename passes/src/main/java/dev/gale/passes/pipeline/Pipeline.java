package dev.gale.passes.pipeline;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Verifier;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
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

    /** Throws when some pass needs a property no earlier pass established (or a later pass broke). */
    public void check(Set<Property> initial) {
        EnumSet<Property> have = initial.isEmpty() ? EnumSet.noneOf(Property.class) : EnumSet.copyOf(initial);
        for (Pass p : passes) {
            for (Property need : p.requires())
                if (!have.contains(need))
                    throw new GaleException("pipeline [" + this + "]: pass '" + p.name() + "' needs " + need
                            + ", which no earlier pass establishes (or one invalidated it)");
            have.removeAll(p.invalidates());
            have.addAll(p.establishes());
        }
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
