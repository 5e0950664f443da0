package dev.gale.passes.memory;

import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lifetimes of the arena values of a scheduled graph, where step i is the graph's i-th node.
 *
 * <p>An arena value is a node output of static size that is not a graph output. It is born at the step of its
 * producer and dies at the step of its last reader (nested-graph reads included); a value nobody reads dies where it
 * is born. At step i both the inputs and the outputs of node i are live.
 *
 * <p>Views: the output of a reshape ({@link OpKinds#keepsElementOrder}: Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity) whose input is an arena value of the same byte size is that input's bytes under another shape, so it
 * shares the input's buffer instead of being copied, however long either is read. A value and its views (views of
 * views too) form a view group, named by its root, the value that was written; the group's bytes are dead only
 * after the last read of any member.
 *
 * <p>In-place: at an elementwise node (see {@link OpKinds#inPlaceCapable}), an output may take over the buffer of an
 * input whose view group dies at that node and has the same byte size; each group is taken at most once. Values
 * linked this way form one buffer, live from its first value's birth to its last value's death. The per-step total
 * of live buffers ({@link #liveBytes}) has {@link #lowerBound} as its maximum.
 */
final class Liveness {
    /** One arena value: bytes (exact) and its birth and death steps. */
    record Interval(String value, long bytes, int first, int last) {}

    /** Values sharing one buffer through in-place reuse; {@code size} is aligned. */
    record Buffer(List<String> members, long size, int first, int last) {}

    final int steps;
    final long alignment;
    final Map<String, Interval> values;
    final List<String> dynamic;
    final Map<String, String> inPlaceOf;
    /** Each view to the root of its view group (the value whose bytes it shares). */
    final Map<String, String> viewOf;
    final List<Buffer> buffers;
    final long[] liveBytes;

    private Liveness(int steps, long alignment, Map<String, Interval> values, List<String> dynamic,
                     Map<String, String> inPlaceOf, Map<String, String> viewOf, List<Buffer> buffers,
                     long[] liveBytes) {
        this.steps = steps;
        this.alignment = alignment;
        this.values = values;
        this.dynamic = dynamic;
        this.inPlaceOf = inPlaceOf;
        this.viewOf = viewOf;
        this.buffers = buffers;
        this.liveBytes = liveBytes;
    }

    static Liveness of(Graph g, TensorSizes sizes, long alignment, boolean inPlace) {
        sizes = sizes.specializedTo(g);
        List<Node> nodes = g.nodes();
        Set<String> graphOutputs = new HashSet<>();
        for (Value v : g.outputs()) graphOutputs.add(v.name());
        Map<String, Interval> values = new LinkedHashMap<>();
        List<String> dynamic = new ArrayList<>();
        for (int s = 0; s < nodes.size(); s++) {
            Node n = nodes.get(s);
            for (String r : NodeReads.of(n)) {
                Interval iv = values.get(r);
                if (iv != null) values.put(r, new Interval(r, iv.bytes, iv.first, s));
            }
            for (Value v : n.outputs()) {
                if (v.isNone() || graphOutputs.contains(v.name())) continue;
                long bytes = sizes.bytes(v);
                if (bytes == TensorSizes.DYNAMIC) dynamic.add(v.name());
                else values.put(v.name(), new Interval(v.name(), bytes, s, s));
            }
        }

        Map<String, String> inPlaceOf = new HashMap<>();
        Map<String, String> viewOf = new HashMap<>();
        if (inPlace) {
            for (Node n : nodes) {
                if (!OpKinds.keepsElementOrder(n) || n.inputs().isEmpty() || n.input(0).isNone()) continue;
                Interval src = values.get(n.input(0).name()), out = values.get(n.output(0).name());
                if (src != null && out != null && out.bytes > 0 && src.bytes == out.bytes)
                    viewOf.put(out.value, viewOf.getOrDefault(src.value, src.value));
            }
            // A group's bytes die with its last read member.
            Map<String, Integer> groupLast = new HashMap<>();
            for (Interval iv : values.values()) groupLast.merge(viewOf.getOrDefault(iv.value, iv.value), iv.last, Math::max);
            for (int s = 0; s < nodes.size(); s++) {
                Node n = nodes.get(s);
                if (!OpKinds.inPlaceCapable(n)) continue;
                Set<String> taken = new HashSet<>();
                for (Value o : n.outputs()) {
                    Interval out = values.get(o.name());
                    if (o.isNone() || out == null || out.bytes == 0 || viewOf.containsKey(o.name())) continue;
                    for (Value in : n.inputs()) {
                        Interval src = in.isNone() ? null : values.get(in.name());
                        if (src == null) continue;
                        String root = viewOf.getOrDefault(src.value, src.value);
                        if (groupLast.get(root) == s && src.bytes == out.bytes && taken.add(root)) {
                            inPlaceOf.put(o.name(), in.name());
                            break;
                        }
                    }
                }
            }
        }

        // Buffers in birth order: a value taking over an input, or viewing one, joins that input's buffer.
        List<Buffer> buffers = new ArrayList<>();
        Map<String, Integer> bufferOf = new HashMap<>();
        for (Interval iv : values.values()) {
            String src = inPlaceOf.containsKey(iv.value) ? inPlaceOf.get(iv.value) : viewOf.get(iv.value);
            if (src != null) {
                int b = bufferOf.get(src);
                Buffer old = buffers.get(b);
                List<String> members = new ArrayList<>(old.members);
                members.add(iv.value);
                buffers.set(b, new Buffer(members, old.size, old.first, Math.max(old.last, iv.last)));
                bufferOf.put(iv.value, b);
            } else {
                bufferOf.put(iv.value, buffers.size());
                buffers.add(new Buffer(List.of(iv.value), TensorSizes.align(iv.bytes, alignment), iv.first, iv.last));
            }
        }

        long[] live = new long[nodes.size() + 1];
        for (Buffer b : buffers) {
            live[b.first] += b.size;
            live[b.last + 1] -= b.size;
        }
        long[] liveBytes = new long[nodes.size()];
        long acc = 0;
        for (int s = 0; s < nodes.size(); s++) liveBytes[s] = acc += live[s];
        return new Liveness(nodes.size(), alignment, values, dynamic, inPlaceOf, viewOf, buffers, liveBytes);
    }

    long lowerBound() {
        long m = 0;
        for (long b : liveBytes) m = Math.max(m, b);
        return m;
    }

    /** Sum of the aligned sizes of all arena values: one buffer each, no reuse. */
    long naiveBytes() {
        long sum = 0;
        for (Interval iv : values.values()) sum += TensorSizes.align(iv.bytes, alignment);
        return sum;
    }

    /** The first step with the most live bytes, or -1 for an empty graph. */
    int peakStep() {
        int best = -1;
        for (int s = 0; s < liveBytes.length; s++) if (best < 0 || liveBytes[s] > liveBytes[best]) best = s;
        return best;
    }
}
