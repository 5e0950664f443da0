package dev.gale.train;

import dev.gale.backends.Backend;
import dev.gale.backends.Session;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.ir.plan.BufferPlan;
import dev.gale.passes.memory.MemoryPlan;
import dev.gale.passes.memory.MemoryPlanner;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassReport;
import dev.gale.passes.pipeline.Pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The training step as it runs when compiled. The step graph is first specialized to the shapes training feeds it
 * (each symbolic or unknown dimension of an input takes the size the data gives it; shapes are inferred again, so
 * they become static), then run through the pass pipeline (normally the standard one: simplify, fuse, partition
 * into kernels, schedule, plan memory), and checked to keep the step's interface: the trainer feeds inputs by name
 * and reads outputs by position, so every input must still exist and the outputs keep their names and order.
 *
 * <p>The backend opens the compiled graph with its memory plan; the interpreter then keeps every intermediate in
 * one arena ({@code PlannedExecutor}). Without a plan (a pipeline without {@code plan-memory}) the compiled graph
 * runs as any graph does.
 *
 * @param plan null when the pipeline planned no memory
 */
public record CompiledStep(Graph graph, BufferPlan plan, MemoryPlan memoryPlan, List<PassReport> reports,
                           Map<String, Long> counters, double millis) {
    /**
     * Compiles {@code step} for inputs of the given shapes (by input name; inputs not named keep their types).
     * Errors name the pass and suggest training without compiling.
     */
    public static CompiledStep compile(Graph step, Map<String, long[]> inputShapes, Pipeline pipeline) {
        long t0 = System.nanoTime();
        Map<String, Long> symbols = new TreeMap<>();
        Graph specialized = specialize(step, inputShapes, symbols);
        Map<String, String> options = new TreeMap<>();
        options.put("training", "true");
        symbols.forEach((s, n) -> options.put("dim." + s, Long.toString(n)));
        PassContext ctx = new PassContext(options);
        Pipeline.Result r;
        try {
            r = pipeline.run(specialized, ctx, false, null);
            Verifier.verify(r.graph());
        } catch (GaleException e) {
            throw new GaleException("compiling the training step [" + pipeline + "] failed: " + e.getMessage()
                    + " (train without compiling with --no-compile)", e);
        }
        checkInterface(step, r.graph(), pipeline);
        MemoryPlan mp = ctx.get(MemoryPlanner.PLAN_KEY);
        return new CompiledStep(r.graph(), mp == null ? null : mp.buffers(), mp, r.reports(),
                Map.copyOf(ctx.counters()), (System.nanoTime() - t0) / 1e6);
    }

    /** Opens the compiled step on {@code backend}, in one arena when there is a plan. */
    public Session open(Backend backend) {
        Model m = Model.of(graph);
        return plan == null ? backend.open(m) : backend.open(m, plan);
    }

    /** Fused kernels ({@code gale::Kernel} nodes) in the compiled graph. */
    public long kernels() {
        return graph.nodes().stream().filter(n -> n.domain().equals("gale") && n.op().equals("Kernel")).count();
    }

    /** {@code step} with the inputs of {@code shapes} fixed to them and every type inferred again. */
    public static Graph specialize(Graph step, Map<String, long[]> shapes, Map<String, Long> symbols) {
        List<Value> inputs = new ArrayList<>();
        boolean changed = false;
        for (Value v : step.inputs()) {
            long[] actual = shapes.get(v.name());
            if (actual == null || !(v.type() instanceof Type.TensorType t)) {
                inputs.add(v);
                continue;
            }
            if (t.shape() != null && t.shape().rank() != actual.length)
                throw new GaleException("input '" + v.name() + "' is declared " + t.shape() + " but is fed shape "
                        + Arrays.toString(actual));
            List<Dim> dims = new ArrayList<>();
            for (int k = 0; k < actual.length; k++) {
                Dim d = t.shape() == null ? Dim.UNKNOWN : t.shape().dim(k);
                if (d instanceof Dim.Fixed f && f.size() != actual[k])
                    throw new GaleException("input '" + v.name() + "' is declared " + t.shape() + " but is fed shape "
                            + Arrays.toString(actual));
                if (d instanceof Dim.Sym s) {
                    Long bound = symbols.putIfAbsent(s.name(), actual[k]);
                    if (bound != null && bound != actual[k])
                        throw new GaleException("dimension '" + s.name() + "' is " + bound + " in one input and "
                                + actual[k] + " in '" + v.name() + "'");
                }
                dims.add(Dim.of(actual[k]));
            }
            Type fixed = Type.tensor(t.dtype(), new Shape(dims));
            changed |= !fixed.equals(v.type());
            inputs.add(v.withType(fixed));
        }
        if (!changed) return step;
        return ShapeInference.run(new Graph(step.name(), inputs, step.outputs(), step.nodes(), step.initializers()));
    }

    /** The compiled graph still takes every input of the step and gives its outputs, by name, in order. */
    private static void checkInterface(Graph step, Graph compiled, Pipeline pipeline) {
        Set<String> have = new HashSet<>();
        for (Value v : compiled.inputs()) have.add(v.name());
        for (Value v : step.runtimeInputs())
            if (!have.contains(v.name()))
                throw new GaleException("compiling the training step [" + pipeline + "] removed its input '"
                        + v.name() + "' (train without compiling with --no-compile)");
        List<String> want = step.outputs().stream().map(Value::name).toList();
        List<String> got = compiled.outputs().stream().map(Value::name).toList();
        if (!want.equals(got))
            throw new GaleException("compiling the training step [" + pipeline + "] changed its outputs from " + want
                    + " to " + got + " (train without compiling with --no-compile)");
    }
}
