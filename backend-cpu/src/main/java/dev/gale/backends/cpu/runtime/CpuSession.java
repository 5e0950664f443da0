package dev.gale.backends.cpu.runtime;

import dev.gale.backends.Session;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model opened on the CPU backend: the graph after the open-time passes, and an {@link ExecutionPlan} per set of
 * input shapes seen (built on first use, kept for the next runs; a few are cached). Plans of a model whose inputs all
 * have static shapes are built when the session opens.
 *
 * <p>{@link #fallbackOps()} and {@link #nativeOps()} say which nodes of the plans built so far run on the runtime's
 * own steps and which on the interpreter's kernels, by op.
 */
public final class CpuSession implements Session {
    private static final int MAX_PLANS = 4;

    private final Graph graph;
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
        this.pool = pool;
        this.openPasses = opened.ran();
        skippedPasses.addAll(opened.skipped());
        if (allInputsStatic()) {
            add(compile(graph, name -> graph.initializers().containsKey(name)
                    ? ExecutionPlan.InputKind.of((Object) null) : ExecutionPlan.InputKind.of(typeOf(name)), false));
        }
    }

    private boolean allInputsStatic() {
        for (Value v : graph.runtimeInputs())
            if (!(v.type() instanceof Type.TensorType t) || t.shape() == null || !t.shape().isStatic()) return false;
        return true;
    }

    @Override
    public List<Object> run(Map<String, Object> feeds) {
        if (closed) throw new GaleException("the session is closed");
        for (Value v : graph.runtimeInputs())
            if (!feeds.containsKey(v.name()))
                throw new GaleException("missing input '" + v.name() + "' (expected " + v.type() + ")");
        for (String name : feeds.keySet())
            if (graph.inputs().stream().noneMatch(v -> v.name().equals(name)))
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
            Graph bound = CompilePipeline.bind(graph, feeds);
            java.util.function.Function<String, ExecutionPlan.InputKind> kinds =
                    name -> ExecutionPlan.InputKind.of(feeds.get(name));
            plan = bound == null ? compile(graph, kinds, true) : compile(bound, kinds, bound != graph);
            add(plan);
        } else if (plans.getFirst() != plan) {
            plans.remove(plan);
            plans.addFirst(plan);
        }
        return plan.run(feeds);
    }

    /** Compiles {@code g} (again through the graph passes when its types changed) and builds its plan. */
    private Type typeOf(String input) {
        return graph.inputs().stream().filter(v -> v.name().equals(input)).findFirst().orElseThrow().type();
    }

    private ExecutionPlan compile(Graph g, java.util.function.Function<String, ExecutionPlan.InputKind> kinds,
                                  boolean rerunPasses) {
        List<String> passes = new ArrayList<>(CompilePipeline.graphPasses(CompilePipeline.GRAPH_PASSES));
        if (!rerunPasses) passes.removeAll(openPasses);
        CompilePipeline.Result r = CompilePipeline.optimize(g, passes, true);
        skippedPasses.addAll(r.skipped());
        List<String> all = new ArrayList<>(rerunPasses ? List.of() : openPasses);
        all.addAll(r.ran());
        lastPasses = all;
        ExecutionPlan p = PlanBuilder.build(r.graph(), r.offsets(), pool, kinds);
        if (seed != null) p.seed(seed);
        p.nativeOps().forEach((k, v) -> nativeOps.merge(k, v, Integer::sum));
        p.fallbackOps().forEach((k, v) -> fallbackOps.merge(k, v, Integer::sum));
        RuntimeStats.record(p.nativeOps(), p.fallbackOps());
        if (Boolean.getBoolean("gale.cpu.verbose"))
            System.err.println("gale cpu: " + p + "; passes " + lastPasses + "; skipped " + r.skipped());
        return p;
    }

    private void add(ExecutionPlan p) {
        plans.addFirst(p);
        if (plans.size() > MAX_PLANS) plans.removeLast().close();
    }

    @Override
    public void seed(long seed) {
        this.seed = seed;
        for (ExecutionPlan p : plans) p.seed(seed);
    }

    /** Nodes that run on the interpreter's kernels, by op (summed over the plans built so far). */
    public Map<String, Integer> fallbackOps() { return Collections.unmodifiableMap(fallbackOps); }

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
