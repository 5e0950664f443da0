package dev.gale.cli;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Two memory figures for {@code gale compile --report} that need no planner, over the tensors a graph's nodes
 * produce (activations and gradients; not weights or inputs):
 * <ul>
 *   <li>naive: every node output in a buffer of its own, the sum of their sizes;</li>
 *   <li>lower bound: the peak, over the nodes in their current order, of the bytes live while a node runs (its
 *       inputs that are node outputs, its outputs, and every node output still read later or a graph output).
 *       No arena plan for this order can be smaller.</li>
 * </ul>
 * Both are null when some node output has a non-static shape or is not a tensor (fix the batch size with
 * {@code --batch-size}).
 */
record MemoryEstimate(Long naiveBytes, Long lowerBoundBytes) {
    static MemoryEstimate of(Graph g) {
        Map<String, Long> size = new HashMap<>();
        long naive = 0;
        for (Node n : g.nodes()) {
            for (Value v : n.outputs()) {
                if (v.isNone()) continue;
                long b = bytes(v.type());
                if (b < 0) return new MemoryEstimate(null, null);
                size.put(v.name(), b);
                naive += b;
            }
        }
        Map<String, Integer> lastUse = new HashMap<>();
        for (int i = 0; i < g.nodes().size(); i++)
            for (Value v : g.nodes().get(i).inputs()) if (size.containsKey(v.name())) lastUse.put(v.name(), i);
        for (Value v : g.outputs()) if (size.containsKey(v.name())) lastUse.put(v.name(), Integer.MAX_VALUE);
        Set<String> live = new HashSet<>();
        long liveBytes = 0, peak = 0;
        for (int i = 0; i < g.nodes().size(); i++) {
            Node n = g.nodes().get(i);
            for (Value v : n.outputs())
                if (!v.isNone() && live.add(v.name())) liveBytes += size.get(v.name());
            peak = Math.max(peak, liveBytes);
            for (Value v : n.inputs())
                if (live.contains(v.name()) && lastUse.get(v.name()) == i && live.remove(v.name()))
                    liveBytes -= size.get(v.name());
            for (Value v : n.outputs()) // dead on arrival: freed right after its node
                if (!v.isNone() && !lastUse.containsKey(v.name()) && live.remove(v.name())) liveBytes -= size.get(v.name());
        }
        return new MemoryEstimate(naive, peak);
    }

    /** Bytes of a statically shaped tensor (strings count as 8-byte references), or -1. */
    private static long bytes(Type t) {
        if (!(t instanceof Type.TensorType tt) || tt.shape() == null || !tt.shape().isStatic()) return -1;
        long n = tt.shape().numelOrMinus1();
        return n < 0 ? -1 : n * (tt.dtype() == dev.gale.ir.DType.STRING ? 8 : tt.dtype().byteSize());
    }
}
