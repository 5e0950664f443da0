package dev.gale.passes.memory;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Proof that a memory plan is executable: follows a run of the planned graph node by node (fed from an executor's
 * per-node callback, such as the interpreter's listener) and keeps every arena value's bytes in one byte array at
 * its planned offset, as an executor without allocations would. Before a node's outputs are stored, each arena
 * value the node reads must still hold, in the arena, the bytes it was written with; a plan that let a later value
 * clobber a live one fails here. Each stored output must also have exactly its planned size.
 *
 * <p>Callbacks for nodes of nested graphs (If branches, kernel bodies) are ignored: only the graph's own nodes are
 * steps. Values outside the arena (graph inputs and outputs, dynamic values) are not checked.
 */
public final class ArenaChecker {
    private final Graph graph;
    private final Map<String, MemoryPlan.Allocation> alloc = new HashMap<>();
    private final Map<String, byte[]> written = new HashMap<>();
    private final byte[] arena;
    private int step;
    private long bytesChecked;

    public ArenaChecker(Graph graph, MemoryPlan plan) {
        if (plan.arenaBytes() > Integer.MAX_VALUE - 8)
            throw new GaleException("arena of " + plan.arenaBytes() + " bytes is too large to check in memory");
        this.graph = graph;
        for (MemoryPlan.Allocation a : plan.allocations()) alloc.put(a.value(), a);
        arena = new byte[(int) plan.arenaBytes()];
        Arrays.fill(arena, (byte) 0x5A); // not zero, so a value of zeros is not intact by accident
    }

    /** The executor ran {@code node} and produced {@code outputs} (in the node's output order). */
    public void computed(Node node, List<Object> outputs) {
        if (step >= graph.nodes().size() || graph.nodes().get(step) != node) return; // a nested graph's node
        for (String r : NodeReads.of(node)) {
            MemoryPlan.Allocation a = alloc.get(r);
            if (a == null) continue;
            byte[] want = written.get(r);
            if (want == null)
                throw new GaleException("step " + step + ", " + node.describe() + ": reads '" + r
                        + "', which was never written to the arena");
            int off = (int) a.offset();
            if (!Arrays.equals(arena, off, off + want.length, want, 0, want.length))
                throw new GaleException("step " + step + ", " + node.describe() + ": arena value " + a
                        + " was overwritten before this read");
            bytesChecked += want.length;
        }
        for (int i = 0; i < node.outputs().size() && i < outputs.size(); i++) {
            Value v = node.output(i);
            MemoryPlan.Allocation a = v.isNone() ? null : alloc.get(v.name());
            if (a == null) continue;
            if (!(outputs.get(i) instanceof Tensor t))
                throw new GaleException("step " + step + ": arena value '" + v.name() + "' is not a tensor");
            byte[] bytes = bytes(t);
            if (bytes.length != a.bytes())
                throw new GaleException("step " + step + ": arena value " + a + " is planned with " + a.bytes()
                        + " bytes but the run produced " + bytes.length + " (" + t.type() + ")");
            System.arraycopy(bytes, 0, arena, (int) a.offset(), bytes.length);
            written.put(v.name(), bytes);
        }
        step++;
    }

    /** Steps followed so far; a complete run follows every node of the graph. */
    public int steps() { return step; }

    /** Bytes of arena reads compared so far. */
    public long bytesChecked() { return bytesChecked; }

    /** A tensor's elements as little-endian bytes of its element type. */
    static byte[] bytes(Tensor t) {
        Object d = t.data();
        boolean complex = t.dtype() == DType.COMPLEX64 || t.dtype() == DType.COMPLEX128;
        int n = complex ? 2 * t.numel() : t.numel(); // complex numbers are stored as (re, im) pairs
        ByteBuffer b;
        switch (d) {
            case float[] f -> {
                b = buffer(n * 4);
                for (int i = 0; i < n; i++) b.putFloat(f[i]);
            }
            case double[] f -> {
                b = buffer(n * 8);
                for (int i = 0; i < n; i++) b.putDouble(f[i]);
            }
            case long[] f -> {
                b = buffer(n * 8);
                for (int i = 0; i < n; i++) b.putLong(f[i]);
            }
            case int[] f -> {
                b = buffer(n * 4);
                for (int i = 0; i < n; i++) b.putInt(f[i]);
            }
            case short[] f -> {
                b = buffer(n * 2);
                for (int i = 0; i < n; i++) b.putShort(f[i]);
            }
            case byte[] f -> {
                return Arrays.copyOf(f, n);
            }
            default -> throw new GaleException("tensor of " + t.dtype() + " has no fixed-size bytes");
        }
        return b.array();
    }

    private static ByteBuffer buffer(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }
}
