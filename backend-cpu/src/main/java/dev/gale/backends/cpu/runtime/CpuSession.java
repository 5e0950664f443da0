package dev.gale.backends.cpu.runtime;

import dev.gale.backends.Feeds;
import dev.gale.backends.Region;
import dev.gale.backends.Session;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Value;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model opened on the CPU backend: the graph after the open-time passes, and an {@link ExecutionPlan} per set of
 * input shapes seen (built on first use, kept for the next runs; a few are cached). A plan is built on the first run
 * (or {@link #bind}) that needs it, never ahead: a caller that binds regions would otherwise hold two arenas at once.
 *
 * <p>{@link #fallbackOps()} and {@link #nativeOps()} say which nodes of the plans built so far run on the runtime's
 * own steps and which on the interpreter's kernels, by op.
 */
public final class CpuSession implements Session {
    private static final int MAX_PLANS = 4;

    private final Graph graph;
    private final java.util.Set<String> inputNames = new java.util.HashSet<>();
    private final KernelPool pool;
    private final List<String> openPasses;
    private final List<ExecutionPlan> plans = new ArrayList<>();
    private final Map<String, Integer> fallbackOps = new TreeMap<>(), nativeOps = new TreeMap<>();
    private final List<String> skippedPasses = new ArrayList<>();
    private List<String> lastPasses = List.of();
    private Long seed;
    private boolean closed;

    CpuSession(CompilePipeline.Result opened, KernelPool pool) {
        this.graph = opened.graph();
        for (Value v : graph.inputs()) inputNames.add(v.name());
        this.pool = pool;
        this.openPasses = opened.ran();
        skippedPasses.addAll(opened.skipped());
    }

    @Override
    public List<Object> run(Map<String, Object> feeds) {
        try {
            return runChecked(feeds);
        } catch (GaleException e) {
            throw Feeds.atInput(graph, feeds, e);
        }
    }

    private List<Object> runChecked(Map<String, Object> feeds) {
        if (closed) throw new GaleException("the session is closed");
        for (String name : feeds.keySet())
            if (!inputNames.contains(name))
                throw new GaleException("'" + name + "' is not an input of the graph; inputs are "
                        + graph.runtimeInputs().stream().map(Value::name).toList());
        ExecutionPlan plan = null;
        for (ExecutionPlan p : plans) {
            if (p.matches(feeds)) {
                plan = p;
                break;
            }
        }
        if (plan == null) {
            Feeds.checkNames(graph, feeds);
            plan = compile(feeds, List.of());
            add(plan);
        } else {
            ExecutionPlan.Input missing = plan.missing(feeds);
            if (missing != null)
                throw new GaleException("missing input '" + missing.name() + "' (expected " + missing.slot().type + ")");
            if (plans.getFirst() != plan) {
                plans.remove(plan);
                plans.addFirst(plan);
            }
        }
        return plan.run(feeds);
    }

    /**
     * Builds the plan for feeds like {@code example} again with {@code regions} bound, replacing any plan for them;
     * null (with the reason under {@code -Dgale.cpu.verbose=true}) when a value cannot be bound.
     */
    @Override
    public List<MemorySegment> bind(Map<String, Object> example, List<Region> regions) {
        if (closed) throw new GaleException("the session is closed");
        Feeds.checkNames(graph, example);
        ExecutionPlan plan;
        try {
            plan = compile(example, regions);
        } catch (PlanBuilder.NotBindable e) {
            if (Boolean.getBoolean("gale.cpu.verbose")) System.err.println("gale cpu: cannot bind: " + e.getMessage());
            return null;
        }
        for (java.util.Iterator<ExecutionPlan> it = plans.iterator(); it.hasNext(); ) {
            ExecutionPlan p = it.next();
            if (p.matches(example) || p.bound()) {
                it.remove();
                p.close();
            }
        }
        add(plan);
        return plan.regions();
    }

    private ExecutionPlan compile(Map<String, Object> feeds, List<Region> regions) {
        Graph bound = CompilePipeline.bind(graph, feeds);
        java.util.function.Function<String, ExecutionPlan.InputKind> kinds =
                name -> ExecutionPlan.InputKind.of(feeds.get(name));
        return bound == null ? compile(graph, kinds, true, regions) : compile(bound, kinds, bound != graph, regions);
    }

    /** Compiles {@code g} (again through the graph passes when its types changed) and builds its plan. */
    private ExecutionPlan compile(Graph g, java.util.function.Function<String, ExecutionPlan.InputKind> kinds,
                                  boolean rerunPasses, List<Region> regions) {
        List<String> passes = new ArrayList<>(CompilePipeline.graphPasses(CompilePipeline.GRAPH_PASSES));
        if (!rerunPasses) passes.removeAll(openPasses);
        CompilePipeline.Result r = CompilePipeline.optimize(g, passes, true);
        skippedPasses.addAll(r.skipped());
        List<String> all = new ArrayList<>(rerunPasses ? List.of() : openPasses);
        all.addAll(r.ran());
        lastPasses = all;
        ExecutionPlan p = PlanBuilder.build(r.graph(), r.offsets(), pool, kinds, regions);
        if (seed != null) p.seed(seed);
        p.nativeOps().forEach((k, v) -> nativeOps.merge(k, v, Integer::sum));
        p.fallbackOps().forEach((k, v) -> fallbackOps.merge(k, v, Integer::sum));
        RuntimeStats.record(p.nativeOps(), p.fallbackOps());
        if (Boolean.getBoolean("gale.cpu.verbose"))
            System.err.println("gale cpu: " + p + "; passes " + lastPasses + "; skipped " + r.skipped());
        return p;
    }

    /** Keeps {@code p} first; beyond {@link #MAX_PLANS}, the least recently used plan with no bound region goes. */
    private void add(ExecutionPlan p) {
        plans.addFirst(p);
        if (plans.size() <= MAX_PLANS) return;
        for (int i = plans.size() - 1; i >= 0; i--) {
            if (!plans.get(i).bound()) {
                plans.remove(i).close();
                return;
            }
        }
    }

    @Override
    public void seed(long seed) {
        this.seed = seed;
        for (ExecutionPlan p : plans) p.seed(seed);
    }

    /** Nodes that run on the interpreter's kernels, by op (summed over the plans built so far). */
    @Override
    public Map<String, Integer> fallbackOps() { return Collections.unmodifiableMap(fallbackOps); }

    /** On the session's kernel pool: its workers and the caller, subnormals flushed as in the kernels. */
    @Override
    public void parallelFor(int tasks, java.util.function.IntConsumer body) {
        pool.parallelFor(tasks, (i, scratch) -> body.accept(i));
    }

    @Override
    public int parallelism() { return pool.threads(); }

    /** Nodes that run on the runtime's own steps, by op (summed over the plans built so far). */
    public Map<String, Integer> nativeOps() { return Collections.unmodifiableMap(nativeOps); }

    /** The passes that compiled the newest plan, in order. */
    public List<String> passes() { return lastPasses; }

    /** Passes skipped because they failed on this model's graphs, with the reason. */
    public List<String> skippedPasses() { return Collections.unmodifiableList(skippedPasses); }

    /** A one-line description of each plan built, newest first (steps, arena size, native and fallback ops). */
    public List<String> describePlans() { return plans.stream().map(ExecutionPlan::toString).toList(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (ExecutionPlan p : plans) p.close();
        plans.clear();
    }
}
