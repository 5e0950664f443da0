package dev.gale.backends.cpu.runtime;

import dev.gale.backends.Backends;
import dev.gale.backends.Session;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime's op-by-op loops with a transcendental (UnaryMath's map, the recurrent cells' gates, LRN) keep their
 * vectors in registers once compiled, as {@code KernelAllocationTest} checks for the kernels. They boxed in every JVM before
 * their loops became methods of their own named {@code *Loop} and VMath stopped calling helpers of its own: Exp over
 * 8192 floats allocated 3.2 MB a call, Softplus 393 KB, an LSTM of 8 steps 407 KB a run and an LRN over 8 planes of
 * 32 x 32 180 KB. The ops run in one JVM, one after another, as a plan with many activations would run them; each is
 * measured in windows of 200 calls until one stays under the limit, for at most 30 seconds (until the JIT has
 * compiled the loops, their interpreted and C1 forms box every vector). Unlike {@code KernelAllocationTest} it does
 * not run again under tight inlining budgets: with {@code -XX:MaxInlineLevel=9} an exp's call chain through the
 * Vector API is deeper than C2 may go, whatever the loop around it. The build runs it alone in a JVM that compiles in
 * the foreground ({@code -Xbatch}, {@code backend-cpu/pom.xml}).
 */
class VectorLoopAllocationTest {
    /** Bytes per call allowed: a boxed vector per operation is tens of KiB at these sizes. */
    private static final long LIMIT = 4 * 1024;

    private static final String[] OPS = {"EXP", "LOG", "SIGMOID", "TANH", "ERF", "GELU", "GELU_TANH", "SOFTPLUS", "ELU",
            "SELU", "CELU"};

    private static long allocatedPerCall(String what, LongSupplier bytesOf200Calls, long limit) {
        long deadline = System.nanoTime() + 30_000_000_000L, best = Long.MAX_VALUE;
        while (best >= limit && System.nanoTime() < deadline) best = Math.min(best, bytesOf200Calls.getAsLong() / 200);
        assertTrue(best < limit, what + " allocated " + best + " bytes per call once compiled (limit " + limit
                + "): a Vector API expression in it is probably boxed");
        return best;
    }

    @Test
    void unaryOpsWithATranscendental() throws ReflectiveOperationException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = 8192;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(8L * n, 64);
            for (int i = 0; i < 2 * n; i++) m.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i) * 3);
            for (String op : OPS) {
                int opc = UnaryMath.class.getDeclaredField(op).getInt(null);
                allocatedPerCall(op, () -> {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 200; i++) UnaryMath.map(m, opc, 0.5f, 1.5f, 0, n, n);
                    return threads.getCurrentThreadAllocatedBytes() - before;
                }, LIMIT);
            }
        }
    }

    /**
     * BinaryMath's ops, one loop each, with both operands contiguous and with one broadcast, Pow (a vector call into
     * the math library) first. When the ops shared one loop, its vectors were boxed in the transformer encoder's
     * training (its MSE loss and gradient, Sub, Mul and Add over 64K floats, 50x slower) in every JVM of some builds;
     * that shared loop passes this test, in this JVM: it guards the loops themselves, not the context that tipped
     * C2 over.
     */
    @Test
    void binaryOps() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = 8192;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(12L * n, 64);
            for (int i = 0; i < 3 * n; i++) m.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1.5f + (float) Math.sin(i));
            String[] names = {"POW", "ADD", "SUB", "MUL", "DIV", "MAX", "MIN", "PRELU"};
            int[] codes = {BinaryMath.POW, BinaryMath.ADD, BinaryMath.SUB, BinaryMath.MUL, BinaryMath.DIV, BinaryMath.MAX,
                    BinaryMath.MIN, BinaryMath.PRELU};
            for (int i = 0; i < names.length; i++) {
                int opc = codes[i];
                for (boolean broadcast : new boolean[] {false, true})
                    allocatedPerCall(names[i] + (broadcast ? " (b broadcast)" : ""), () -> {
                        long before = threads.getCurrentThreadAllocatedBytes();
                        for (int c = 0; c < 200; c++) BinaryMath.zip(m, opc, 0, true, n, !broadcast, 2L * n, n);
                        return threads.getCurrentThreadAllocatedBytes() - before;
                    }, LIMIT);
            }
        }
    }

    /** Where over a boolean mask with a scalar operand (ReLU's backward), the operand broadcast in the loop. */
    @Test
    void whereWithAScalarOperand() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = 8192;
        byte[] mask = new byte[n];
        for (int i = 0; i < n; i++) mask[i] = (byte) (i % 3 == 0 ? 1 : 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(8L * n + 4, 64);
            for (int i = 0; i < 2 * n + 1; i++) m.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i));
            allocatedPerCall("Where", () -> {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) BooleanSteps.selectRow(m, mask, 0, true, 0, true, 2L * n, false, n, n);
                return threads.getCurrentThreadAllocatedBytes() - before;
            }, LIMIT);
        }
    }

    @Test
    void recurrentCells() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String cell : new String[] {"LSTM", "GRU"}) {
            int seq = 8, batch = 4, in = 16, h = 64, gates = cell.equals("LSTM") ? 4 : 3;
            Random rnd = new Random(3);
            GraphBuilder b = Graph.builder(cell.toLowerCase());
            Value x = b.input("x", DType.FLOAT32, (long) seq, (long) batch, (long) in);
            Value w = b.initializer("w", random(rnd, 1, gates * h, in));
            Value r = b.initializer("r", random(rnd, 1, gates * h, h)); // constant: packed once, when the plan is built
            List<Value> outs = b.op("", cell, List.of(x, w, r), Map.of(), cell.equals("LSTM") ? 3 : 2);
            b.output(outs.get(1));
            Map<String, Object> feeds = Map.of("x", random(rnd, seq, batch, in));
            try (Session s = Backends.get("cpu").open(b.buildModel())) {
                // A run copies its result out (batch x hidden floats) and allocates little else; gates that box add
                // about a kilobyte per vector loop and time step.
                allocatedPerCall(cell, () -> {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 200; i++) s.run(feeds);
                    return threads.getCurrentThreadAllocatedBytes() - before;
                }, 8 * 1024);
            }
        }
    }

    @Test
    void localResponseNormalization() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random rnd = new Random(4);
        GraphBuilder b = Graph.builder("lrn");
        Value x = b.input("x", DType.FLOAT32, 1L, 8L, 32L, 32L);
        b.output(b.op("LRN", List.of(x), Map.of("size", dev.gale.ir.Attr.of(3L))));
        Map<String, Object> feeds = Map.of("x", random(rnd, 1, 8, 32, 32));
        try (Session s = Backends.get("cpu").open(b.buildModel())) {
            // a run copies its 32 KiB result out
            allocatedPerCall("LRN", () -> {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) s.run(feeds);
                return threads.getCurrentThreadAllocatedBytes() - before;
            }, 40 * 1024);
        }
    }

    private static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, rnd.nextGaussian() * 0.3);
        return t;
    }
}
