package dev.gale.passes.simplify;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Property;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Dead code elimination: one backward walk from the graph outputs. A node is live when a graph output or a live
 * node reads one of its outputs (reads from nested graphs included) or when it has side effects; the values a live
 * node reads are live. Dead nodes are dropped, and so are initializers nothing reads, unless they are also graph
 * inputs (part of the graph's interface, like every graph input and output).
 *
 * <p>Counts {@code simplify.dce} per node removed and {@code simplify.dce-initializer} per initializer removed.
 */
public final class DeadCodeElimination implements Pass {
    @Override
    public String name() { return "dce"; }

    @Override
    public Set<Property> invalidates() { return GRAPH_REWRITE; }

    @Override
    public Graph run(Graph graph, PassContext ctx) {
        Set<String> live = new HashSet<>();
        for (Value v : graph.outputs()) live.add(v.name());
        List<Node> kept = new ArrayList<>();
        for (int i = graph.nodes().size() - 1; i >= 0; i--) {
            Node n = graph.nodes().get(i);
            boolean needed = OpFacts.hasSideEffects(n);
            for (Value v : n.outputs()) needed |= !v.isNone() && live.contains(v.name());
            if (!needed) continue;
            kept.add(n);
            ValueRefs.forEachRead(n, live::add);
        }
        Collections.reverse(kept);
        Set<String> inputs = new HashSet<>();
        for (Value v : graph.inputs()) inputs.add(v.name());
        Map<String, Tensor> init = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet())
            if (live.contains(e.getKey()) || inputs.contains(e.getKey())) init.put(e.getKey(), e.getValue());
        int deadNodes = graph.nodes().size() - kept.size(), deadInit = graph.initializers().size() - init.size();
        if (deadNodes == 0 && deadInit == 0) return graph;
        if (deadNodes > 0) ctx.count("simplify.dce", deadNodes);
        if (deadInit > 0) ctx.count("simplify.dce-initializer", deadInit);
        return new Graph(graph.name(), graph.inputs(), graph.outputs(), kept, init);
    }
}
