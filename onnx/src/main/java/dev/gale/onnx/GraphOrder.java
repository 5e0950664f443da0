package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.gale.ir.GaleException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Orders the nodes of an ONNX graph so that every value is defined before it is read, and reports the ways a graph can
 * fail to have such an order: a value produced twice, a value that nothing defines, and a cycle.
 *
 * <p>ONNX requires nodes in topological order, but some producers write them otherwise; a graph already in order keeps
 * it, and one that is not is sorted stably (Kahn's algorithm, always taking the ready node that came first in the
 * file). A node that holds subgraphs depends on the values its subgraphs read from outside (their free variables).
 */
final class GraphOrder {
    private GraphOrder() {}

    /** Node indices in an order where each node comes after the producers of what it reads. */
    static int[] sort(GraphProto g, String gname, Set<String> visible) {
        int n = g.getNodeCount();
        Set<String> local = new HashSet<>();
        for (ValueInfoProto v : g.getInputList()) local.add(v.getName());
        for (TensorProto t : g.getInitializerList()) local.add(t.getName());
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < n; i++) {
            NodeProto np = g.getNode(i);
            for (String out : np.getOutputList()) {
                if (out.isEmpty()) continue;
                Integer prev = producer.put(out, i);
                if (prev != null)
                    throw new GaleException(where(g, prev) + " and " + where(g, i) + " both define value '" + out
                            + "'; each value must be defined once");
                if (local.contains(out))
                    throw new GaleException(where(g, i) + ": output '" + out + "' is already defined as a graph input "
                            + "or initializer of graph '" + gname + "'");
            }
        }
        List<List<Integer>> deps = new ArrayList<>(n);
        boolean inOrder = true;
        for (int i = 0; i < n; i++) {
            NodeProto np = g.getNode(i);
            List<Integer> d = new ArrayList<>();
            for (String in : np.getInputList()) {
                if (in.isEmpty()) continue;
                Integer p = producer.get(in);
                if (p == null) {
                    if (!visible.contains(in))
                        throw new GaleException(where(g, i) + ": input '" + in + "' is not defined by any graph input, "
                                + "initializer or node of graph '" + gname + "'");
                    continue;
                }
                d.add(p);
            }
            for (String free : subgraphFreeVariables(np)) {
                Integer p = producer.get(free);
                if (p != null) d.add(p);
            }
            for (int p : d) inOrder &= p < i;
            deps.add(d);
        }
        int[] order = new int[n];
        if (inOrder) {
            for (int i = 0; i < n; i++) order[i] = i;
            return order;
        }
        int[] waiting = new int[n];
        List<List<Integer>> users = new ArrayList<>(n);
        for (int i = 0; i < n; i++) users.add(new ArrayList<>());
        for (int i = 0; i < n; i++) {
            for (int p : deps.get(i)) {
                if (p == i) throw new GaleException(where(g, i) + " reads its own output; graph '" + gname + "' has a cycle");
                users.get(p).add(i);
                waiting[i]++;
            }
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int i = 0; i < n; i++) if (waiting[i] == 0) ready.add(i);
        int k = 0;
        while (!ready.isEmpty()) {
            int i = ready.poll();
            order[k++] = i;
            for (int u : users.get(i)) if (--waiting[u] == 0) ready.add(u);
        }
        if (k < n) throw new GaleException("graph '" + gname + "' has a cycle: " + describeCycle(g, deps, waiting));
        return order;
    }

    /** Walks back from a node still waiting until a node repeats, and names the nodes of that loop. */
    private static String describeCycle(GraphProto g, List<List<Integer>> deps, int[] waiting) {
        int start = 0;
        while (waiting[start] == 0) start++;
        List<Integer> path = new ArrayList<>();
        Map<Integer, Integer> seen = new HashMap<>();
        int cur = start;
        while (!seen.containsKey(cur)) {
            seen.put(cur, path.size());
            path.add(cur);
            int next = -1;
            for (int p : deps.get(cur)) if (waiting[p] > 0) next = p;
            if (next < 0) break;
            cur = next;
        }
        List<Integer> loop = seen.containsKey(cur) ? path.subList(seen.get(cur), path.size()) : path;
        StringBuilder sb = new StringBuilder();
        for (int j = loop.size() - 1; j >= 0; j--) sb.append(shortName(g, loop.get(j))).append(" -> ");
        sb.append(shortName(g, loop.get(loop.size() - 1)));
        return sb.append(" (each reads a value the next one produces, in a circle)").toString();
    }

    private static String shortName(GraphProto g, int i) {
        NodeProto np = g.getNode(i);
        return np.getName().isEmpty() ? "#" + i + " " + np.getOpType() : "'" + np.getName() + "'";
    }

    static String where(GraphProto g, int i) {
        NodeProto np = g.getNode(i);
        return np.getName().isEmpty() ? "node #" + i + " (" + np.getOpType() + ")"
                : "node '" + np.getName() + "' (" + np.getOpType() + ")";
    }

    /** Names a node's subgraphs read without defining them. */
    static Set<String> subgraphFreeVariables(NodeProto np) {
        Set<String> free = new HashSet<>();
        for (AttributeProto a : np.getAttributeList()) {
            if (a.hasG()) free.addAll(freeVariables(a.getG()));
            for (GraphProto sub : a.getGraphsList()) free.addAll(freeVariables(sub));
        }
        return free;
    }

    private static Set<String> freeVariables(GraphProto g) {
        Set<String> defined = new HashSet<>();
        for (ValueInfoProto v : g.getInputList()) defined.add(v.getName());
        for (TensorProto t : g.getInitializerList()) defined.add(t.getName());
        for (var sp : g.getSparseInitializerList()) defined.add(sp.getValues().getName());
        for (NodeProto np : g.getNodeList()) defined.addAll(np.getOutputList());
        Set<String> free = new HashSet<>();
        for (NodeProto np : g.getNodeList()) {
            for (String in : np.getInputList()) if (!in.isEmpty() && !defined.contains(in)) free.add(in);
            for (String f : subgraphFreeVariables(np)) if (!defined.contains(f)) free.add(f);
        }
        return free;
    }
}
