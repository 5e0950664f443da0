package dev.gale.backends.cpu;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.backends.cpu.Reference.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * SGEMM against the interpreter's Gemm (and MatMul, Add and the activation ops for the epilogues): odd sizes that
 * leave partial MR x NR tiles (1, 7, 17, 33, 255), sizes past the KC / MC / NC blocks, all four transposes, alpha and
 * beta, padded leading dimensions and offsets inside NaN-guarded segments, batches, and 1 to 3 threads.
 */
class SgemmTest {
    static KernelPool one, two, three;

    @BeforeAll
    static void pools() {
        one = new KernelPool(1);
        two = new KernelPool(2);
        three = new KernelPool(3);
    }

    @AfterAll
    static void close() {
        one.close();
        two.close();
        three.close();
    }

    /** A stored operand: rows x cols logical, kept as (trans ? cols x rows : rows x cols) with row stride ld. */
    record Stored(Tensor tensor, MemorySegment seg, long off, long ld) {}

    static final int PAD = 5;

    /** Places a rows x cols tensor at offset PAD with row stride cols + extra, NaN everywhere else. */
    static Stored store(Arena arena, Tensor t, int extra) {
        int rows = (int) t.dim(0), cols = (int) t.dim(1), ld = cols + extra;
        float[] f = new float[Math.max(0, rows * ld)];
        java.util.Arrays.fill(f, Float.NaN);
        for (int i = 0; i < rows; i++) System.arraycopy(t.floats(), i * cols, f, i * ld, cols);
        MemorySegment s = segment(arena, Tensor.ofFloats(new long[] {f.length}, f), PAD);
        return new Stored(t, s, PAD, ld);
    }

    static Tensor gemmRef(Tensor a, Tensor b, Tensor c, boolean ta, boolean tb, float alpha, float beta) {
        return run("Gemm", attrs("transA", ta ? 1 : 0, "transB", tb ? 1 : 0, "alpha", alpha, "beta", beta), a, b, c);
    }

    /** One product checked against the interpreter; C starts as random data (or NaN when beta is 0). */
    static void check(KernelPool pool, int m, int n, int k, boolean ta, boolean tb, float alpha, float beta, int extra, long seed) {
        Random rnd = new Random(seed);
        Tensor a = random(rnd, ta ? k : m, ta ? m : k), b = random(rnd, tb ? n : k, tb ? k : n), c = random(rnd, m, n);
        Tensor want = gemmRef(a, b, c, ta, tb, alpha, beta);
        Tensor mag = gemmRef(abs(a), abs(b), abs(c), ta, tb, Math.abs(alpha), Math.abs(beta));
        String what = "gemm m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " alpha=" + alpha + " beta=" + beta
                + " threads=" + pool.threads();
        try (Arena arena = Arena.ofShared()) {
            Stored sa = store(arena, a, extra), sb = store(arena, b, extra);
            Tensor cInit = c;
            if (beta == 0) {
                float[] nan = new float[m * n];
                java.util.Arrays.fill(nan, Float.NaN);
                cInit = Tensor.ofFloats(new long[] {m, n}, nan); // beta = 0: C must not be read
            }
            Stored sc = store(arena, cInit, extra);
            Sgemm.gemm(pool, ta, tb, m, n, k, alpha, sa.seg(), sa.off(), sa.ld(), sb.seg(), sb.off(), sb.ld(),
                    beta, sc.seg(), sc.off(), sc.ld(), Epilogue.NONE);
            assertClose(what, want, mag, unpack(sc, m, n));
            assertSentinels(what, sc.seg(), PAD, m * (int) sc.ld());
            for (int i = 0; i < m && extra > 0; i++)
                for (int j = n; j < sc.ld(); j++)
                    assertTrue(Float.isNaN(sc.seg().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, PAD + i * sc.ld() + j)),
                            what + ": wrote into the row padding");
        }
    }

    static float[] unpack(Stored s, int rows, int cols) {
        float[] out = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            System.arraycopy(floats(s.seg(), s.off() + i * s.ld(), cols), 0, out, i * cols, cols);
        return out;
    }

    @Test
    void smallOddShapesAllTransposes() {
        int[] sizes = {1, 7, 17, 33};
        long seed = 0;
        for (int m : sizes)
            for (int n : sizes)
                for (int k : sizes)
                    for (int t = 0; t < 4; t++)
                        check(one, m, n, k, (t & 1) != 0, (t & 2) != 0, 1f, 0f, t, seed++);
    }

    @Test
    void largeOddShapesAllTransposesAndThreads() {
        int[][] shapes = {{255, 33, 17}, {17, 255, 255}, {255, 255, 7}, {33, 7, 255}, {255, 255, 255}, {1, 255, 33},
                {200, 70, 300}, {64, 64, 64}, {97, 129, 513}};
        long seed = 1000;
        for (int[] s : shapes)
            for (int t = 0; t < 4; t++)
                for (KernelPool p : new KernelPool[] {one, two, three})
                    check(p, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, 1f, 0f, 3, seed++);
    }

    @Test
    void alphaBetaAndEmptyDepth() {
        long seed = 2000;
        for (float[] ab : new float[][] {{0.5f, 1f}, {-2f, -0.75f}, {1f, 0f}, {0f, 2f}})
            for (KernelPool p : new KernelPool[] {one, two})
                for (int t = 0; t < 4; t++) {
                    check(p, 33, 65, 300, (t & 1) != 0, (t & 2) != 0, ab[0], ab[1], 1, seed++);
                    check(p, 7, 17, 0, (t & 1) != 0, (t & 2) != 0, ab[0], ab[1], 0, seed++); // k = 0: C = beta C
                }
    }

    @Test
    void wideAndTallPastTheBlocks() {
        check(two, 1, 2100, 3, false, false, 1f, 1f, 0, 3000); // n > NC
        check(two, 2100, 3, 5, true, false, 1f, 0f, 0, 3001); // many MC blocks
        check(three, 9, 40, 1100, false, true, 1f, 0.5f, 2, 3002); // several KC blocks with beta
    }

    /** Products large enough that all threads share one packed B, across several NC and KC blocks. */
    @Test
    void largeProductsSharingThePackedB() {
        check(two, 300, 2100, 40, false, true, 1f, 0f, 1, 3100); // two NC blocks
        check(three, 64, 70, 4100, true, false, 0.5f, 1f, 0, 3101); // many KC blocks, beta accumulates
        check(two, 513, 300, 300, true, true, 1f, -1f, 2, 3102);
        check(two, 9, 3000, 400, false, false, 1f, 0f, 0, 3103); // too few rows: panels are shared out
        check(two, 32, 2100, 300, false, false, 1f, 0f, 1, 3104); // 3 row blocks: panels, A packed per piece
        check(two, 128, 700, 300, true, false, 1f, 0.5f, 2, 3105); // 11 row blocks, fewer than 4 a piece: panels
        check(two, 200, 700, 300, true, true, 1f, 0f, 1, 3106); // 17 row blocks: rows
        check(one, 600, 1100, 20, true, false, 1f, 0.5f, 2, 3107); // one KC block, C past L2: row blocks outermost
        check(one, 530, 1030, 256, false, true, -1f, 0f, 1, 3108); // the same with edge tiles on both sides
    }

    /**
     * Deep blocks ({@link GemmKernel.Blocks#DEEP}): k past one deep block and ending in a partial one, rows past one
     * deep A block with a partial last row block, all four transposes, beta, the epilogue after the last block; one
     * thread, and 2 and 3 threads sharing the packed B (each piece tall enough for deep blocks) or splitting it.
     * Where this machine's L2 makes deep blocks not pay ({@link GemmKernel#DEEP_PAYS}) the same products run in
     * shallow ones; the module's build runs this class twice, {@code gale.gemm.deep} forced either way.
     */
    @Test
    void deepBlocksPastTheirEdges() {
        GemmKernel.Blocks deep = GemmKernel.DEEP_PAYS ? GemmKernel.Blocks.DEEP : GemmKernel.Blocks.SHALLOW;
        assertTrue(GemmKernel.Blocks.of(GemmKernel.DEEP_MIN_ROWS, GemmKernel.KC + 1) == deep);
        assertTrue(GemmKernel.Blocks.of(GemmKernel.DEEP_MIN_ROWS - 1, 4096) == GemmKernel.Blocks.SHALLOW);
        assertTrue(GemmKernel.Blocks.of(4096, GemmKernel.KC) == GemmKernel.Blocks.SHALLOW);
        int k = GemmKernel.DEEP_KC + 300, m = GemmKernel.DEEP_MC + 37;
        long seed = 3300;
        for (int t = 0; t < 4; t++) {
            check(one, m, 70, k, (t & 1) != 0, (t & 2) != 0, 1f, 0.5f, t % 3, seed++);
            check(two, 4 * m, 90, k, (t & 1) != 0, (t & 2) != 0, 0.5f, t == 0 ? 0f : -1f, (t + 1) % 3, seed++);
        }
        check(three, 3 * GemmKernel.DEEP_MIN_ROWS + 5, 1100, GemmKernel.KC + 7, false, true, 1f, 0f, 1, seed);
    }

    @Test
    void largeBatchedEpilogueWithResidualStride() {
        Random rnd = new Random(3200);
        int batch = 2, m = 200, n = 300, k = 150;
        Tensor a = random(rnd, batch, m, k), b = random(rnd, batch, k, n), bias = random(rnd, n), res = random(rnd, batch, m, n);
        GraphBuilder g = Graph.builder("batched");
        Value y = g.add(g.add(g.matmul(g.initializer("a", a), g.initializer("b", b)), g.initializer("bias", bias)),
                g.initializer("res", res));
        g.output(g.relu(y));
        Tensor want = (Tensor) Interpreter.run(g.buildModel(), Map.of()).get(0);
        GraphBuilder gm = Graph.builder("mag");
        gm.output(gm.add(gm.add(gm.matmul(gm.initializer("a", abs(a)), gm.initializer("b", abs(b))),
                gm.initializer("bias", abs(bias))), gm.initializer("res", abs(res))));
        Tensor mag = (Tensor) Interpreter.run(gm.buildModel(), Map.of()).get(0);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment sa = segment(arena, a, 0), sb = segment(arena, b, 0), sbias = segment(arena, bias, 0);
            MemorySegment sres = segment(arena, res, 0), sc = arena.allocate((long) batch * m * n * Float.BYTES);
            Epilogue ep = Epilogue.NONE.withColumnBias(sbias, 0).withResidual(sres, 0, n, (long) m * n).withActivation(Activation.RELU);
            Sgemm.gemmBatched(two, batch, false, false, m, n, k, 1f, sa, 0, k, (long) m * k, sb, 0, n, (long) k * n,
                    0f, sc, 0, n, (long) m * n, ep);
            assertClose("large batched epilogue", want, mag, floats(sc, 0, batch * m * n));
        }
    }

    @Test
    void batchedMatchesMatMul() {
        Random rnd = new Random(4000);
        int batch = 5, m = 17, n = 33, k = 40;
        for (KernelPool p : new KernelPool[] {one, two, three})
            for (boolean sharedB : new boolean[] {false, true}) {
                Tensor a = random(rnd, batch, m, k), b = sharedB ? random(rnd, k, n) : random(rnd, batch, k, n);
                Tensor want = run("MatMul", Map.of(), a, b), mag = run("MatMul", Map.of(), abs(a), abs(b));
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment sa = segment(arena, a, PAD), sb = segment(arena, b, PAD);
                    MemorySegment sc = arena.allocate((long) batch * m * n * Float.BYTES);
                    Sgemm.gemmBatched(p, batch, false, false, m, n, k, 1f, sa, PAD, k, (long) m * k, sb, PAD, n,
                            sharedB ? 0 : (long) k * n, 0f, sc, 0, n, (long) m * n, Epilogue.NONE);
                    assertClose("batched threads=" + p.threads() + " sharedB=" + sharedB, want, mag, floats(sc, 0, batch * m * n));
                }
            }
    }

    /** Attention's scores: Q K^T per head, K stored [heads, seq, d] and read transposed. */
    @Test
    void batchedTransposedLikeAttention() {
        Random rnd = new Random(4100);
        int heads = 6, seq = 33, d = 16;
        Tensor q = random(rnd, heads, seq, d), kk = random(rnd, heads, seq, d);
        Tensor kt = run("Transpose", attrs("perm", new long[] {0, 2, 1}), kk);
        Tensor want = run("MatMul", Map.of(), q, kt), mag = run("MatMul", Map.of(), abs(q), abs(kt));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment sq = segment(arena, q, 0), sk = segment(arena, kk, 0);
            MemorySegment sc = arena.allocate((long) heads * seq * seq * Float.BYTES);
            Sgemm.gemmBatched(two, heads, false, true, seq, seq, d, 1f, sq, 0, d, (long) seq * d, sk, 0, d,
                    (long) seq * d, 0f, sc, 0, seq, (long) seq * seq, Epilogue.NONE);
            assertClose("attention scores", want, mag, floats(sc, 0, heads * seq * seq));
        }
    }

    @Test
    void fewRowsOfBAsDotProducts() {
        // m, n, k: single rows and columns, n past a group of four, odd m (a row without its pair), k with a partial
        // vector, n = NR (one whole tile), more rows than a tile, enough work for both threads
        int[][] shapes = {{1, 1, 64}, {5, 3, 100}, {13, 4, 64}, {32, 10, 784}, {25, 7, 130}, {100, 32, 257},
                {200, 10, 784}};
        long seed = 7000;
        for (int[] sh : shapes) {
            assertTrue(DotGemm.suits(false, true, sh[1], sh[2]), java.util.Arrays.toString(sh));
            for (KernelPool pool : new KernelPool[] {one, two}) {
                check(pool, sh[0], sh[1], sh[2], false, true, 1f, 0f, 0, seed++);
                check(pool, sh[0], sh[1], sh[2], false, true, -0.5f, 0.75f, 3, seed++);
            }
        }
        assertFalse(DotGemm.suits(true, true, 10, 784) || DotGemm.suits(false, false, 10, 784)
                || DotGemm.suits(false, true, 33, 784) || DotGemm.suits(false, true, 10, 63));
        // batched, with a residual that moves with the entry
        Random rnd = new Random(7100);
        int batch = 3, m = 14, n = 9, k = 70;
        Tensor a = random(rnd, batch, m, k), b = random(rnd, batch, n, k), res = random(rnd, batch, m, n);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment sa = segment(arena, a, 0), sb = segment(arena, b, 0), sres = segment(arena, res, 0);
            MemorySegment sc = arena.allocate((long) batch * m * n * Float.BYTES);
            Sgemm.gemmBatched(two, batch, false, true, m, n, k, 1f, sa, 0, k, (long) m * k, sb, 0, k, (long) n * k, 0f,
                    sc, 0, n, (long) m * n, Epilogue.NONE.withResidual(sres, 0, n, (long) m * n));
            for (int t = 0; t < batch; t++) {
                Tensor at = slice(a, t), bt = slice(b, t), rt = slice(res, t);
                Tensor want = gemmRef(at, bt, rt, false, true, 1f, 1f), mag = gemmRef(abs(at), abs(bt), abs(rt), false, true, 1f, 1f);
                assertClose("batched dot products, entry " + t, want, mag, floats(sc, (long) t * m * n, m * n));
            }
        }
    }

    /** Entry t of a [batch, r, c] tensor. */
    private static Tensor slice(Tensor x, int t) {
        int r = (int) x.dim(1), c = (int) x.dim(2);
        return Tensor.ofFloats(new long[] {r, c}, java.util.Arrays.copyOfRange(x.floats(), t * r * c, (t + 1) * r * c));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void epilogueMatchesTheUnfusedGraph(Activation act) {
        record Case(int m, int n, int k, boolean rowBias, boolean residual, float beta, KernelPool pool) {}
        List<Case> cases = new ArrayList<>();
        // {32, 10, 784} and {13, 4, 100}: a few rows of B read in place as dot products (DotGemm)
        for (int[] s : new int[][] {{7, 17, 33}, {33, 255, 17}, {255, 40, 300}, {32, 10, 784}, {13, 4, 100}})
            for (boolean rowBias : new boolean[] {false, true})
                for (boolean residual : new boolean[] {false, true})
                    cases.add(new Case(s[0], s[1], s[2], rowBias, residual, residual ? 0f : 0.5f, rowBias ? one : two));
        long seed = 5000;
        for (Case cs : cases) {
            Random rnd = new Random(seed++);
            Tensor a = random(rnd, cs.m, cs.k), b = random(rnd, cs.n, cs.k), c = random(rnd, cs.m, cs.n);
            Tensor bias = random(rnd, cs.rowBias ? cs.m : cs.n), res = random(rnd, cs.m, cs.n);
            Tensor want = epilogueRef(a, b, c, bias, cs.rowBias, cs.residual ? res : null, cs.beta, act);
            Tensor mag = epilogueRef(abs(a), abs(b), abs(c), abs(bias), cs.rowBias, cs.residual ? abs(res) : null, cs.beta,
                    Activation.NONE);
            try (Arena arena = Arena.ofShared()) {
                MemorySegment sa = segment(arena, a, 0), sb = segment(arena, b, 0), sc = segment(arena, c, 0);
                MemorySegment sbias = segment(arena, bias, PAD), sres = segment(arena, res, 0);
                Epilogue ep = (cs.rowBias ? Epilogue.NONE.withRowBias(sbias, PAD) : Epilogue.NONE.withColumnBias(sbias, PAD))
                        .withActivation(act);
                if (cs.residual) ep = ep.withResidual(sres, 0, cs.n);
                Sgemm.gemm(cs.pool, false, true, cs.m, cs.n, cs.k, 1f, sa, 0, cs.k, sb, 0, cs.k, cs.beta, sc, 0, cs.n, ep);
                // Activations are at most 1.13-Lipschitz; the vector forms approximate to ~1e-7 relative.
                assertClose(act + " " + cs, want, mag, floats(sc, 0, cs.m * cs.n), 1.2);
            }
        }
    }

    /** act(Gemm(A, B^T, C, beta) + bias + residual) on the interpreter. */
    static Tensor epilogueRef(Tensor a, Tensor b, Tensor c, Tensor bias, boolean rowBias, Tensor res, float beta, Activation act) {
        GraphBuilder g = Graph.builder("epilogue");
        Value y = g.op("Gemm", List.of(g.initializer("a", a), g.initializer("b", b), g.initializer("c", c)),
                attrs("transB", 1, "beta", beta));
        Tensor biasShaped = rowBias ? Tensor.ofFloats(new long[] {bias.dim(0), 1}, bias.floats()) : bias;
        y = g.add(y, g.initializer("bias", biasShaped));
        if (res != null) y = g.add(y, g.initializer("res", res));
        y = switch (act) {
            case NONE -> y;
            case RELU -> g.relu(y);
            case TANH -> g.tanh(y);
            case SIGMOID -> g.op("Sigmoid", List.of(y), Map.of());
            case GELU -> g.op("Gelu", List.of(y), Map.of());
            case GELU_TANH -> g.op("Gelu", List.of(y), attrs("approximate", "tanh"));
        };
        g.output(y);
        return (Tensor) Interpreter.run(g.buildModel(), Map.of()).get(0);
    }

    @Test
    void floatArrayConvenience() {
        Random rnd = new Random(6000);
        Tensor a = random(rnd, 20, 30), b = random(rnd, 30, 10);
        float[] c = new float[200];
        Sgemm.gemm(false, false, 20, 10, 30, 1f, a.floats(), b.floats(), 0f, c);
        assertClose("float[]", run("MatMul", Map.of(), a, b), run("MatMul", Map.of(), abs(a), abs(b)), c);
    }

    @Test
    void badArgumentsAreRejectedBeforeAnyWork() {
        MemorySegment small = MemorySegment.ofArray(new float[10]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(one, false, false,
                4, 4, 4, 1f, small, 0, 4, small, 0, 4, 0f, small, 0, 4, Epilogue.NONE));
        assertTrue(e.getMessage().startsWith("A: elements [0, 16)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(one, false, false, 2, 3, 2, 1f,
                MemorySegment.ofArray(new float[4]), 0, 1, small, 0, 3, 0f, small, 0, 3, Epilogue.NONE));
        assertTrue(e.getMessage().contains("leading dimension 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(one, false, false, -1, 3, 2, 1f,
                small, 0, 2, small, 0, 3, 0f, small, 0, 3, Epilogue.NONE));
    }

    /**
     * A product from B packed ahead equals, bit for bit, the same product packing B on the fly (same blocking, same
     * order of accumulation): sizes past NC and KC, short and tall A, transposed B, alpha, beta and a bias + ReLU
     * epilogue, on 1 and 3 threads. Packed B comes in shallow blocks; where the product on the fly takes deep ones
     * ({@link GemmKernel.Blocks}: k past KC and DEEP_MIN_ROWS rows or more), the two sum in another order and must
     * agree within float32 rounding of the sums instead. The 64- and 270-row products with a large B split by panels and share one packed
     * A (270 rows: two MC blocks); the 300-row one (25 row blocks, 4 for each of 6 pieces) splits by rows. B of 1030 x 1100, packed as weights that stream from memory, is large enough to be
     * read ahead ({@link ReadAhead}), past KC and with a partial last panel.
     */
    @Test
    void prepackedBEqualsPackingOnTheFly() {
        assertTrue(1030L * 1100 >= ReadAhead.MIN_B_FLOATS);
        int[][] sizes = {{1, 7, 5}, {64, 1100, 300}, {17, 33, 600}, {200, 96, 40}, {3, 4096, 64}, {270, 1100, 300},
                {70, 1030, 1100}, {5, 1030, 1100}, {300, 200, 70}};
        long seed = 900;
        for (int[] sz : sizes)
            for (boolean tb : new boolean[] {false, true})
                for (KernelPool pool : new KernelPool[] {one, three}) {
                    int m = sz[0], n = sz[1], k = sz[2];
                    Random rnd = new Random(seed++);
                    Tensor a = random(rnd, m, k), b = random(rnd, tb ? n : k, tb ? k : n), c = random(rnd, m, n);
                    Tensor bias = random(rnd, n);
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment sa = segment(arena, a, PAD), sb = segment(arena, b, PAD);
                        MemorySegment sbias = segment(arena, bias, PAD);
                        MemorySegment c1 = segment(arena, c, PAD), c2 = segment(arena, c, PAD);
                        Epilogue ep = Epilogue.NONE.withColumnBias(sbias, PAD).withActivation(Activation.RELU);
                        Sgemm.gemm(pool, false, tb, m, n, k, 0.5f, sa, PAD, k, sb, PAD, tb ? k : n, 0.25f, c1, PAD, n, ep);
                        PackedB packed = PackedB.pack(tb, sb, PAD, tb ? k : n, k, n, true);
                        assertEquals(ReadAhead.ENABLED && (long) n * k >= ReadAhead.MIN_B_FLOATS, packed.readAhead);
                        Sgemm.gemm(pool, false, m, 0.5f, sa, PAD, k, packed, 0.25f, c2, PAD, n, ep);
                        String what = "m=" + m + " n=" + n + " k=" + k + " tb=" + tb + " threads=" + pool.threads();
                        if (k <= GemmKernel.KC || m < GemmKernel.DEEP_MIN_ROWS)
                            assertArrayEquals(floats(c1, PAD, m * n), floats(c2, PAD, m * n), what);
                        else
                            assertWithinRounding(what, a, b, tb, c, bias, floats(c1, PAD, m * n), floats(c2, PAD, m * n));
                    }
                }
    }

    /**
     * B packed in column panels for a short A ({@link ShortAGemm}, C^T = B^T A^T) equals the product from GEMM panels
     * bit for bit when alpha is 1 and beta 0 (the same sums in the same order: each KC block's tile, then the next
     * added to it), with every epilogue: bias per column or per row, residual, activation. Sizes: odd m and n that leave
     * partial tiles, k past KC and k = 0, transposed A and B, 1 and 3 threads, 300 rows (two slabs), and n = 10 (one
     * panel); the 32-row product with a large B is one {@link PackedB} packs this way by itself. With alpha
     * and beta the order of rounding differs, so those go against the interpreter.
     */
    @Test
    void columnPackedBForAShortA() {
        assertTrue(ShortAGemm.suits(32, 4096, 4096) && ShortAGemm.suits(29, 1024, 1024));
        assertFalse(ShortAGemm.suits(16, 4096, 4096) || ShortAGemm.suits(64, 4096, 4096) || ShortAGemm.suits(96, 4096, 4096)
                || ShortAGemm.suits(32, 256, 784) || ShortAGemm.suits(0, 4096, 4096));
        int[][] sizes = {{1, 7, 5}, {32, 4096, 300}, {17, 33, 600}, {64, 1030, 1024}, {3, 4096, 64}, {32, 10, 784},
                {300, 70, 40}, {33, 250, 1}, {5, 13, 0}};
        long seed = 950;
        for (int[] sz : sizes)
            for (int variant = 0; variant < 4; variant++)
                for (KernelPool pool : new KernelPool[] {one, three}) {
                    int m = sz[0], n = sz[1], k = sz[2];
                    boolean ta = (variant & 1) != 0, tb = (variant & 2) != 0, rowBias = variant == 1, residual = variant >= 2;
                    Random rnd = new Random(seed++);
                    Tensor a = random(rnd, ta ? k : m, ta ? m : k), b = random(rnd, tb ? n : k, tb ? k : n);
                    Tensor bias = random(rnd, rowBias ? m : n), res = random(rnd, m, n), c = random(rnd, m, n);
                    String what = "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " threads=" + pool.threads();
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment sa = segment(arena, a, PAD), sb = segment(arena, b, PAD), sres = segment(arena, res, PAD);
                        MemorySegment sbias = segment(arena, bias, PAD);
                        MemorySegment c1 = segment(arena, c, PAD), c2 = segment(arena, c, PAD), c3 = segment(arena, c, PAD);
                        Epilogue ep = (rowBias ? Epilogue.NONE.withRowBias(sbias, PAD) : Epilogue.NONE.withColumnBias(sbias, PAD))
                                .withActivation(variant == 3 ? Activation.GELU : Activation.RELU);
                        if (residual) ep = ep.withResidual(sres, PAD, n);
                        PackedB wide = PackedB.pack(tb, sb, PAD, tb ? k : n, k, n), narrow = PackedB.pack(tb, sb, PAD, tb ? k : n, k, n, m);
                        assertEquals(ShortAGemm.suits(m, n, k), narrow.inColumns(), what);
                        narrow = PackedB.packColumns(tb, sb, PAD, tb ? k : n, k, n, true);
                        Sgemm.gemm(pool, ta, m, 1f, sa, PAD, ta ? m : k, wide, 0f, c1, PAD, n, ep);
                        Sgemm.gemm(pool, ta, m, 1f, sa, PAD, ta ? m : k, narrow, 0f, c2, PAD, n, ep);
                        assertArrayEquals(floats(c1, PAD, m * n), floats(c2, PAD, m * n), what);
                        assertSentinels(what, c2, PAD, m * n);
                        // alpha and beta, no epilogue, against the interpreter
                        Sgemm.gemm(pool, ta, m, -0.5f, sa, PAD, ta ? m : k, narrow, 0.75f, c3, PAD, n, Epilogue.NONE);
                        assertClose(what + " alpha -0.5 beta 0.75", gemmRef(a, b, c, ta, tb, -0.5f, 0.75f),
                                gemmRef(abs(a), abs(b), abs(c), ta, tb, 0.5f, 0.75f), floats(c3, PAD, m * n));
                    }
                }
    }

    /**
     * {@code A B^T} for 33 to 64 rows of A and a B of 4M floats or more (a linear layer's weights in training; until
     * the transposed packing of B became a register transpose these went through a product of the transposes), with
     * a column bias and GELU, on 1 and 2 threads, against the interpreter.
     */
    @Test
    void fewRowsOfALargeTransposedB() {
        int[][] sizes = {{64, 2048, 2048}, {33, 1030, 4100}};
        long seed = 1100;
        for (int[] sz : sizes)
            for (KernelPool pool : new KernelPool[] {one, two}) {
                int m = sz[0], n = sz[1], k = sz[2];
                Random rnd = new Random(seed++);
                Tensor a = random(rnd, m, k), b = random(rnd, n, k), c = random(rnd, m, n), bv = random(rnd, n);
                Tensor want = epilogueRef(a, b, c, bv, false, null, 0f, Activation.GELU);
                Tensor mag = epilogueRef(abs(a), abs(b), abs(c), abs(bv), false, null, 0f, Activation.NONE);
                String what = "m=" + m + " n=" + n + " k=" + k + " threads=" + pool.threads();
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment sa = segment(arena, a, PAD), sb = segment(arena, b, PAD), sbias = segment(arena, bv, PAD);
                    long ldc = n + 3;
                    MemorySegment sc = arena.allocate((2 * PAD + m * ldc) * Float.BYTES);
                    sc.fill((byte) 0xff); // NaN: every element of C must be written, and nothing past its rows
                    Epilogue ep = Epilogue.NONE.withColumnBias(sbias, PAD).withActivation(Activation.GELU);
                    Sgemm.gemm(pool, false, true, m, n, k, 1f, sa, PAD, k, sb, PAD, k, 0f, sc, PAD, ldc, ep);
                    float[] got = new float[m * n];
                    for (int i = 0; i < m; i++) {
                        System.arraycopy(floats(sc, PAD + i * ldc, n), 0, got, i * n, n);
                        for (long j = n; j < ldc; j++)
                            assertTrue(Float.isNaN(sc.getAtIndex(GemmPacking.F, PAD + i * ldc + j)), what + ": wrote into the row padding");
                    }
                    assertClose(what, want, mag, got, 1.2);
                    assertSentinels(what, sc, PAD, (int) (m * ldc));
                }
            }
    }

    /**
     * A read in place ({@link GemmInPlace#micro}, for pieces that multiply few B panels on a pool that flushes
     * subnormals) gives the same bits as A packed (a pool that does not flush packs it): the same products summed in
     * the same order. A native segment with a row stride past its columns, and a slice of a heap float array (packed
     * on every pool); A transposed (read in place from a native segment, each k's rows adjacent);
     * row counts that leave 1 to 11 rows in the last block (the kernel repeats the last row rather than read past
     * A), depth past KC, B packed ahead and packed per call (both transposes), 1 and 2 threads. Most shapes fall
     * under the in-place limits, the 40-panel one beyond them.
     */
    @Test
    void aReadInPlaceEqualsAPacked() {
        assertTrue(GemmInPlace.MAX_PANELS >= 8 && GemmInPlace.MAX_PANELS_TRANSPOSED >= 2,
                "the shapes below assume the in-place limits");
        int[][] sizes = {{1, 7, 5}, {13, 64, 300}, {25, 250, 40}, {64, 256, 784}, {7, 33, 1}, {40, 1280, 96}};
        long seed = 990;
        try (KernelPool packs = new KernelPool(2, false); KernelPool onePacks = new KernelPool(1, false)) {
            assertTrue(two.flushesDenormals() && !packs.flushesDenormals());
            for (int[] sz : sizes)
                for (int variant = 0; variant < 8; variant++) {
                        boolean heap = (variant & 1) != 0, tb = (variant & 2) != 0, ta = (variant & 4) != 0;
                        int m = sz[0], n = sz[1], k = sz[2], rowsA = ta ? k : m, colsA = ta ? m : k, lda = colsA + 3;
                        Random rnd = new Random(seed++);
                        Tensor a = random(rnd, rowsA, colsA), b = random(rnd, tb ? n : k, tb ? k : n);
                        float[] padded = new float[PAD + rowsA * lda];
                        java.util.Arrays.fill(padded, Float.NaN);
                        for (int i = 0; i < rowsA; i++) System.arraycopy(a.floats(), i * colsA, padded, PAD + i * lda, colsA);
                        try (Arena arena = Arena.ofShared()) {
                            MemorySegment sa = heap ? MemorySegment.ofArray(padded).asSlice(2L * Float.BYTES)
                                    : segment(arena, Tensor.ofFloats(new long[] {padded.length}, padded), 0);
                            long aOff = heap ? PAD - 2 : PAD;
                            MemorySegment sb = segment(arena, b, PAD);
                            PackedB packed = PackedB.pack(tb, sb, PAD, tb ? k : n, k, n);
                            for (KernelPool[] pools : new KernelPool[][] {{two, packs}, {one, onePacks}}) {
                                String what = "m=" + m + " n=" + n + " k=" + k + " heap=" + heap + " ta=" + ta + " tb=" + tb
                                        + " threads=" + pools[0].threads();
                                float[][] got = new float[4][];
                                for (int v = 0; v < 4; v++) {
                                    KernelPool pool = pools[v % 2];
                                    MemorySegment c = arena.allocate((long) m * n * Float.BYTES);
                                    if (v < 2) Sgemm.gemm(pool, ta, m, 1f, sa, aOff, lda, packed, 0f, c, 0, n, Epilogue.NONE);
                                    else Sgemm.gemm(pool, ta, tb, m, n, k, 1f, sa, aOff, lda, sb, PAD, tb ? k : n, 0f, c, 0, n,
                                            Epilogue.NONE);
                                    got[v] = floats(c, 0, m * n);
                                }
                                assertArrayEquals(got[1], got[0], what + " (B packed ahead)");
                                assertArrayEquals(got[3], got[2], what + " (B packed per call)");
                                assertClose(what, gemmRef(a, b, Tensor.zeros(dev.gale.ir.DType.FLOAT32, m, n), ta, tb, 1f, 0f),
                                        gemmRef(abs(a), abs(b), Tensor.zeros(dev.gale.ir.DType.FLOAT32, m, n), ta, tb, 1f, 0f), got[0]);
                            }
                        }
                    }
        }
    }

    /**
     * Subnormal operands count as zero (packing flushes them, as x86's DAZ would): a product of subnormals with normal
     * values is exactly zero on every path (serial, pieces, shared packing of B, B packed ahead, A packed once), for
     * all four transposes. Without the flush these come out as tiny nonzero values, and run about a hundred times
     * slower.
     */
    @Test
    void subnormalOperandsCountAsZero() {
        int[][] sizes = {{12, 16, 5}, {37, 70, 300}, {32, 2100, 300}, {300, 2100, 40}, {64, 1100, 300}};
        for (int[] sz : sizes)
            for (boolean ta : new boolean[] {false, true})
                for (boolean tb : new boolean[] {false, true})
                    for (boolean subnormalA : new boolean[] {false, true}) {
                        int m = sz[0], n = sz[1], k = sz[2];
                        try (Arena arena = Arena.ofShared()) {
                            MemorySegment a = arena.allocate((long) m * k * Float.BYTES), b = arena.allocate((long) k * n * Float.BYTES);
                            MemorySegment c = arena.allocate((long) m * n * Float.BYTES);
                            for (long i = 0; i < (long) m * k; i++)
                                a.setAtIndex(GemmPacking.F, i, subnormalA ? (i % 2 == 0 ? 1e-39f : -3e-40f) : 0.75f);
                            for (long i = 0; i < (long) k * n; i++)
                                b.setAtIndex(GemmPacking.F, i, subnormalA ? 0.5f : (i % 3 == 0 ? Float.MIN_VALUE : -1e-38f));
                            String what = "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " subnormal A=" + subnormalA;
                            Sgemm.gemm(two, ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, 0f, c, 0, n, Epilogue.NONE);
                            assertAllZero(what, c, (long) m * n);
                            if (!tb) {
                                c.fill((byte) 0x7f);
                                Sgemm.gemm(two, ta, m, 1f, a, 0, ta ? m : k, PackedB.pack(false, b, 0, n, k, n), 0f, c, 0, n,
                                        Epilogue.NONE);
                                assertAllZero(what + " (packed B)", c, (long) m * n);
                                c.fill((byte) 0x7f);
                                Sgemm.gemm(two, ta, m, 1f, a, 0, ta ? m : k, PackedB.packColumns(false, b, 0, n, k, n, true), 0f, c, 0, n,
                                        Epilogue.NONE);
                                assertAllZero(what + " (B in column panels)", c, (long) m * n);
                            }
                        }
                    }
    }

    /**
     * {@code got} and {@code want}, two float32 evaluations of relu(0.5 A op(B) + 0.25 C + bias) that sum in different
     * orders, differ by at most twice the rounding bound of one: 2 k u (0.5 sum |a||b| + 0.25 |c| + |bias|), u = 2^-24.
     */
    private static void assertWithinRounding(String what, Tensor a, Tensor b, boolean tb, Tensor c, Tensor bias,
                                             float[] want, float[] got) {
        int m = (int) a.dim(0), k = (int) a.dim(1), n = (int) c.dim(1);
        float[] fa = a.floats(), fb = b.floats(), fc = c.floats(), fbias = bias.floats();
        double u = Math.scalb(1.0, -24);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double mag = 0.25 * Math.abs(fc[i * n + j]) + Math.abs(fbias[j]);
                for (int p = 0; p < k; p++) mag += 0.5 * Math.abs(fa[i * k + p] * fb[tb ? j * k + p : p * n + j]);
                double bound = 2 * (k + 2) * u * mag;
                assertTrue(Math.abs(got[i * n + j] - want[i * n + j]) <= bound, what + " at (" + i + ", " + j + "): "
                        + got[i * n + j] + " against " + want[i * n + j] + ", bound " + bound);
            }
    }

    private static void assertAllZero(String what, MemorySegment c, long count) {
        for (long i = 0; i < count; i++)
            if (c.getAtIndex(GemmPacking.F, i) != 0f)
                fail(what + ": element " + i + " is " + c.getAtIndex(GemmPacking.F, i) + ", expected 0");
    }
}
