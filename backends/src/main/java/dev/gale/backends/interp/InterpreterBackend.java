package dev.gale.backends.interp;

import dev.gale.backends.Backend;
import dev.gale.backends.Feeds;
import dev.gale.backends.Session;
import dev.gale.backends.interp.planned.PlannedExecutor;
import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.plan.BufferPlan;

import java.util.List;
import java.util.Map;

/** The reference interpreter as a backend named {@code interp}; given a memory plan, it runs in one arena. */
public final class InterpreterBackend implements Backend {
    @Override
    public String name() { return "interp"; }

    @Override
    public Session open(Model model) {
        Interpreter interp = new Interpreter(model);
        return new Session() {
            @Override
            public List<Object> run(Map<String, Object> feeds) {
                try {
                    return interp.run(feeds);
                } catch (GaleException e) {
                    throw Feeds.atInput(model.graph(), feeds, e);
                }
            }

            @Override
            public void seed(long seed) { interp.seed(seed); }
        };
    }

    @Override
    public boolean runsPlannedGraphs() { return true; }

    /** A compiled graph with its memory plan: every intermediate in one arena (see {@link PlannedExecutor}). */
    @Override
    public Session open(Model model, BufferPlan plan) { return new PlannedExecutor(model, plan); }
}
