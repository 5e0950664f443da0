package dev.gale.backends.cpu;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vectorized kernels, once compiled, allocate next to nothing per call. When C2 leaves a Vector API expression
 * as a call (a helper it declines to inline, a shuffle it does not intrinsify, a method too big to compile at tier
 * 4), every vector crossing it is boxed: the kernel still gives the right numbers but runs 3 to 30 times slower and
 * allocates on every operation. Seen so far: the 2 x 2 pooling backward (6.3 ms instead of 0.1), the softmax rows.
 * Each kernel runs on a one-thread pool (so all its work is on this thread) in windows of 200 calls until a window
 * stays under the limit, for at most 30 seconds: until the JIT has compiled the loops, their interpreted and C1
 * forms box every vector.
 *
 * <p>The build runs this class twice, each time alone in a JVM that compiles in the foreground ({@code -Xbatch}): with
 * tight inlining budgets, where a kernel at the edge of C2's budgets boxes in every run rather than in some, and with
 * the JVM's own ({@code backend-cpu/pom.xml}, which also says why not in the module's JVM). The order is fixed (pooling
 * first) because what C2 inlines depends on what it compiled before.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KernelAllocationTest {
    /**
     * Bytes per call allowed: the lambdas, records and views a call makes are about 1 KiB; a vector boxed per
     * operation in an inner loop is tens of KiB at these sizes (the pooling backward was 64 KiB). What C2 inlines
     * depends on what else the JVM has run, so a loop at the edge of its budgets may box a little in one process and
     * not in another: the limit leaves room for that.
     */
    private static final long LIMIT = 16 * 1024;

    static KernelPool one;
    static Arena arena;

    @BeforeAll
    static void setUp() {
        one = new KernelPool(1);
        arena = Arena.ofShared();
    }

    @AfterAll
    static void tearDown() {
        one.close();
        arena.close();
    }

    private static MemorySegment filled(long floats, long seed) {
        MemorySegment m = arena.allocate(floats * Float.BYTES, 64);
        java.util.Random r = new java.util.Random(seed);
        for (long i = 0; i < floats; i++) m.setAtIndex(GemmPacking.F, i, (float) r.nextGaussian());
        return m;
    }

    /** Runs {@code call} in windows of 200 until one allocates less than the limit per call; returns the best. */
    private static void assertAllocatesLittle(String what, Runnable call) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long deadline = System.nanoTime() + 30_000_000_000L, best = Long.MAX_VALUE;
        while (best >= LIMIT && System.nanoTime() < deadline) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200; i++) call.run();
            best = Math.min(best, (threads.getCurrentThreadAllocatedBytes() - before) / 200);
        }
        assertTrue(best < LIMIT, what + " allocated " + best + " bytes per call once compiled (limit " + LIMIT
                + "): a Vector API expression in it is probably boxed");
    }

    @Test
    @Order(1)
    void poolingHalvingWindows() {
        Window2d g = Window2d.of(28, 28, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0);
        int planes = 8;
        MemorySegment x = filled(planes * 784L, 1), y = filled(planes * 196L, 2), dx = filled(planes * 784L, 3);
        assertAllocatesLittle("max pool", () -> Pool2d.maxForward(one, planes, g, x, 0, y, 0));
        assertAllocatesLittle("max pool backward", () -> Pool2d.maxBackward(one, planes, g, y, 0, x, 0, dx, 0));
        assertAllocatesLittle("average pool", () -> Pool2d.averageForward(one, planes, g, false, x, 0, y, 0));
        assertAllocatesLittle("average pool backward", () -> Pool2d.averageBackward(one, planes, g, false, y, 0, dx, 0));
        // ResNet's stem pool, 3 x 3 / 2 padded: the row-buffer path with its stride-2 compress
        Window2d stem = Window2d.of(28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
        assertAllocatesLittle("3 x 3 / 2 max pool", () -> Pool2d.maxForward(one, planes, stem, x, 0, y, 0));
    }

    @Test
    @Order(2)
    void directConvolution() {
        Conv2d.Shape s = new Conv2d.Shape(2, 8, 16, 1, Window2d.of(14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
        MemorySegment x = filled(s.xSize(), 4), w = filled(s.wSize(), 5), y = filled(s.ySize(), 6);
        MemorySegment dx = filled(s.xSize(), 7), dw = filled(s.wSize(), 8), b = filled(s.m(), 9);
        Epilogue ep = Epilogue.NONE.withRowBias(b, 0).withActivation(Activation.RELU);
        assertAllocatesLittle("direct conv", () -> Conv2d.forward(one, s, x, 0, w, 0, y, 0, ep, true));
        assertAllocatesLittle("direct conv input gradient", () -> Conv2d.backwardInput(one, s, y, 0, w, 0, dx, 0, true));
        assertAllocatesLittle("direct conv weight gradient", () -> Conv2d.backwardWeight(one, s, y, 0, x, 0, dw, 0, true));
        // im2col products: a 7 x 7 / 2 stem (the stride-2 unfolding) and a late layer over several images, W packed
        Conv2d.Shape stem = new Conv2d.Shape(1, 3, 16, 1, Window2d.of(32, 32, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3));
        MemorySegment sx = filled(stem.xSize(), 14), sw = filled(stem.wSize(), 15), sy = filled(stem.ySize(), 16);
        assertAllocatesLittle("im2col conv, stride 2", () -> Conv2d.forward(one, stem, sx, 0, sw, 0, sy, 0, Epilogue.NONE));
        Conv2d.Shape late = new Conv2d.Shape(4, 64, 48, 1, Window2d.of(4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
        MemorySegment lx = filled(late.xSize(), 17), lw = filled(late.wSize(), 18), ly = filled(late.ySize(), 19);
        Epilogue lateEp = Epilogue.NONE.withRowBias(filled(late.m(), 20), 0).withActivation(Activation.RELU);
        Conv2d.PackedWeights packed = Conv2d.packWeights(late, lw, 0);
        assertAllocatesLittle("conv over several images, packed W",
                () -> Conv2d.forward(one, late, lx, 0, lw, 0, ly, 0, lateEp, packed));
        // FlatConv: many channels at unit stride, W packed ahead and in the call, GELU over the tile rows; dX
        Conv2d.Shape flat = new Conv2d.Shape(2, 32, 24, 1, Window2d.of(24, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
        MemorySegment fx = filled(flat.xSize(), 21), fw = filled(flat.wSize(), 22), fy = filled(flat.ySize(), 23);
        MemorySegment fdx = filled(flat.xSize(), 24);
        Epilogue flatEp = Epilogue.NONE.withRowBias(filled(flat.m(), 25), 0).withResidual(fy, 0, flat.p())
                .withActivation(Activation.RELU);
        float[] flatPacked = FlatConv.pack(flat, fw, 0);
        assertAllocatesLittle("flat conv, packed W", () -> FlatConv.forward(one, flat, fx, 0, fw, 0, flatPacked, fy, 0, flatEp));
        assertAllocatesLittle("flat conv, GELU", () -> FlatConv.forward(one, flat, fx, 0, fw, 0, null, fy, 0,
                Epilogue.NONE.withActivation(Activation.GELU)));
        assertAllocatesLittle("flat conv input gradient", () -> FlatConv.backwardInput(one, flat, fy, 0, fw, 0, fdx, 0));
    }

    @Test
    @Order(3)
    void gemmWithEpilogue() {
        int m = 40, n = 70, k = 64;
        MemorySegment a = filled((long) m * k, 10), b = filled((long) k * n, 11), c = filled((long) m * n, 12);
        MemorySegment bias = filled(n, 13);
        PackedB packed = PackedB.pack(false, b, 0, n, k, n), columns = PackedB.packColumns(false, b, 0, n, k, n, true);
        // Every activation: each one's loop is compiled on its own (the build's dontinline for *Loop),
        // so VMath inlines into it whatever ran before (without that, GELU boxed here at 30 KiB per call).
        for (Activation act : Activation.values()) {
            Epilogue ep = Epilogue.NONE.withColumnBias(bias, 0).withActivation(act);
            assertAllocatesLittle("sgemm, " + act, () -> Sgemm.gemm(one, false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c, 0, n, ep));
            assertAllocatesLittle("sgemm, packed B, " + act, () -> Sgemm.gemm(one, false, m, 1f, a, 0, k, packed, 0f, c, 0, n, ep));
            assertAllocatesLittle("sgemm, B in column panels, " + act, () -> Sgemm.gemm(one, false, m, 1f, a, 0, k, columns, 0f, c, 0, n, ep));
        }
    }
}
