package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Single-precision GEMM, {@code C = act(alpha op(A) op(B) + beta C + bias + residual)} (see {@link Epilogue}), on
 * row-major matrices in {@link MemorySegment}s, plain or batched with strides (attention's per-head products).
 *
 * <p>Why memory segments: the CPU runtime places every tensor of a plan in one off-heap arena, so a kernel gets a
 * segment and an element offset, never a Java array; a {@code float[]} caller wraps it with
 * {@link MemorySegment#ofArray(float[])}. Offsets, strides and leading dimensions are in elements (floats), as in BLAS:
 * element (i, j) of A is at {@code aOff + i * lda + j}, or {@code aOff + j * lda + i} when {@code transA}. The packed
 * panels the micro-kernel reads are per-thread {@code float[]}s in the pool's {@link Scratch}, allocated once.
 * Segments must be accessible from the pool's threads: a shared, global or automatic arena, or a heap array.
 *
 * <pre>{@code
 * // y[batch x out] = gelu(x[batch x in] W^T + b), W stored [out x in] as PyTorch's Linear holds it
 * Sgemm.gemm(KernelPool.shared(), false, true, batch, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out,
 *            Epilogue.NONE.withColumnBias(b, 0).withActivation(Activation.GELU));
 * }</pre>
 *
 * Work is split into pieces along M and N (and the batch), each a full blocked GEMM with its own packing; problems
 * under {@link #SERIAL_FLOPS} run on the calling thread.
 */
public final class Sgemm {
    /** Below this many flops a product runs on one thread: waking the workers would cost more than it saves. */
    static final long SERIAL_FLOPS = 1L << 21;
    /**
     * From this many flops per batch entry, all threads share one packed copy of B (two loops per block). Below it,
     * pieces that pack their own B were faster: 2 threads, 16.8 MFLOP products (128x128x512, 256x256x128,
     * 128x512x128) 168-239 GFLOP/s against 124-228 with shared packing.
     */
    static final long SHARED_PACKING_FLOPS = 1L << 25;
    /**
     * Shared packing (which splits C by rows) needs this many MR row blocks for each piece: a piece reuses each B
     * panel it brings into L1 once per row block. With fewer, pieces that pack their own columns of B do better, with
     * no wait between packing and multiplying: on 2 threads a 128-row weight gradient (128 x 512 by 512, A transposed)
     * went from 185-187 to 211-242 GFLOP/s, and batch-64 products with a 4096-wide B (64 x 4096 by 4096 or 1024) from
     * 130-148 to 149-177.
     */
    static final int MIN_ROW_BLOCKS_PER_PIECE = 4;

    /** Largest A (in floats, 16 MiB) packed once and shared by the pieces of a product with packed B. */
    static final long SHARED_A_FLOATS = 1L << 22;

    private Sgemm() {}

    /** C[m x n] = alpha op(A)[m x k] op(B)[k x n] + beta C, then {@code ep}; multi-threaded over {@code pool}. */
    public static void gemm(KernelPool pool, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            MemorySegment a, long aOff, long lda, MemorySegment b, long bOff, long ldb,
                            float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        gemmBatched(pool, 1, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0, ep);
    }

    /**
     * {@code batch} independent products; entry {@code t} reads A at {@code aOff + t * strideA}, B at
     * {@code bOff + t * strideB} and writes C at {@code cOff + t * strideC} (a stride of 0 shares the operand, e.g. one
     * weight matrix for every entry). The epilogue's residual moves by its own batch stride; the bias is shared.
     */
    public static void gemmBatched(KernelPool pool, int batch, boolean transA, boolean transB, int m, int n, int k,
                                   float alpha, MemorySegment a, long aOff, long lda, long strideA,
                                   MemorySegment b, long bOff, long ldb, long strideB,
                                   float beta, MemorySegment c, long cOff, long ldc, long strideC, Epilogue ep) {
        check(batch, transA, transB, m, n, k, a, aOff, lda, strideA, b, bOff, ldb, strideB, c, cOff, ldc, strideC, ep);
        pool.checkAccess("A", a);
        pool.checkAccess("B", b);
        pool.checkAccess("C", c);
        pool.checkAccess("the bias", ep.bias());
        pool.checkAccess("the residual", ep.residual());
        if (batch == 0 || m == 0 || n == 0) return;
        double flops = 2.0 * m * n * Math.max(k, 1);
        if (DotGemm.suits(transA, transB, n, k)) {
            dotProducts(pool, batch, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB, beta, c, cOff, ldc,
                    strideC, ep);
            return;
        }
        if (pool.threads() > 1 && flops >= SHARED_PACKING_FLOPS && batch < 2 * pool.threads()
                && (m + GemmKernel.MR - 1) / GemmKernel.MR >= MIN_ROW_BLOCKS_PER_PIECE * 2 * pool.threads()) {
            pool.exclusive(() -> {
                for (int t = 0; t < batch; t++)
                    sharedPacking(pool, transA, transB, m, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB,
                            ldb, beta, c, cOff + t * strideC, ldc, ep.shifted(0, t * ep.residualBatchStride()));
            });
            return;
        }
        Split sp = Split.of(pool.threads(), batch, m, n, k);
        pool.parallelFor(sp.tasks(), (task, s) -> {
            int t = task / (sp.pm() * sp.pn()), piece = task % (sp.pm() * sp.pn());
            int i0 = sp.rowStart(piece / sp.pn(), m), i1 = sp.rowStart(piece / sp.pn() + 1, m);
            int j0 = sp.colStart(piece % sp.pn(), n), j1 = sp.colStart(piece % sp.pn() + 1, n);
            if (i0 >= i1 || j0 >= j1) return;
            long aAt = aOff + t * strideA + (transA ? i0 : i0 * lda), bAt = bOff + t * strideB + (transB ? j0 * ldb : j0);
            Epilogue e = ep.shifted(ep.biasPerRow() ? i0 : j0, t * ep.residualBatchStride() + i0 * ep.ldr() + j0);
            GemmKernel.gemm(s, transA, transB, i1 - i0, j1 - j0, k, alpha, a, aAt, lda, b, bAt, ldb,
                    beta, c, cOff + t * strideC + i0 * ldc + j0, ldc, e);
        });
    }

    /**
     * Whether a product of these transposes and sizes reads B in place as rows of dot products ({@link DotGemm}: A not
     * transposed, B given as [n x k] with few rows), so that packing a constant B ahead gains nothing.
     */
    public static boolean readsBInPlace(boolean transA, boolean transB, int n, int k) {
        return DotGemm.suits(transA, transB, n, k);
    }

    /** {@link #gemmBatched} by {@link DotGemm}: tasks are MR-row blocks of each entry, serial below SERIAL_FLOPS. */
    private static void dotProducts(KernelPool pool, int batch, int m, int n, int k, float alpha, MemorySegment a,
                                    long aOff, long lda, long strideA, MemorySegment b, long bOff, long ldb,
                                    long strideB, float beta, MemorySegment c, long cOff, long ldc, long strideC,
                                    Epilogue ep) {
        int blocks = (m + GemmKernel.MR - 1) / GemmKernel.MR;
        double flops = 2.0 * batch * m * n * k;
        int perEntry = pool.threads() == 1 || flops < SERIAL_FLOPS ? 1
                : (int) Math.min(blocks, Math.max(1, 2L * pool.threads() / batch));
        pool.parallelFor(batch * perEntry, (task, s) -> {
            int t = task / perEntry, piece = task % perEntry;
            int i0 = Math.min(m, (int) ((long) piece * blocks / perEntry) * GemmKernel.MR);
            int i1 = Math.min(m, (int) ((long) (piece + 1) * blocks / perEntry) * GemmKernel.MR);
            if (i0 < i1)
                DotGemm.rows(s, i0, i1, n, k, alpha, a, aOff + t * strideA, lda, b, bOff + t * strideB, ldb, beta, c,
                        cOff + t * strideC, ldc, ep.shifted(0, t * ep.residualBatchStride()));
        });
    }

    /**
     * One large product over all threads with B packed once: for each KCHUNK x NC chunk of op(B), the threads pack
     * its panels together into the pool's shared buffer, then each multiplies a range of rows (packing only its own
     * rows of A). Two loops, so two waits, per chunk. Only for products with MIN_ROW_BLOCKS_PER_PIECE row blocks for
     * each of the 2 x threads pieces.
     */
    private static void sharedPacking(KernelPool pool, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                      MemorySegment a, long aOff, long lda, MemorySegment b, long bOff, long ldb,
                                      float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        sharedPacking(pool, transA, m, n, k, alpha, a, aOff, lda, new PanelSource.Matrix(transB, b, bOff, ldb), beta, c,
                cOff, ldc, ep);
    }

    /**
     * {@link #sharedPacking} with B's panels from {@code source} (a convolution's unfolded images); within
     * {@link KernelPool#exclusive}.
     */
    static void sharedPacking(KernelPool pool, boolean transA, int m, int n, int k, float alpha, MemorySegment a,
                              long aOff, long lda, PanelSource source, float beta, MemorySegment c, long cOff, long ldc,
                              Epilogue ep) {
        int threads = pool.threads(), nr = GemmKernel.NR, mr = GemmKernel.MR;
        int rowBlocks = (m + mr - 1) / mr, pieces = 2 * threads;
        GemmKernel.Blocks bl = GemmKernel.Blocks.of(m / pieces, k);
        for (int jc = 0; jc < n; jc += GemmKernel.NC) {
            int nc = Math.min(GemmKernel.NC, n - jc), panels = (nc + nr - 1) / nr, j0 = jc;
            for (int k0 = 0; k0 == 0 || k0 < k; k0 += bl.chunk()) {
                int k1 = Math.min(k, k0 + bl.chunk()), kStart = k0;
                float[] pb = pool.sharedFloats(GemmKernel.chunkSize(k1 - k0, nc));
                int packPieces = Math.min(panels, pieces);
                pool.parallelFor(packPieces, (t, s) -> GemmKernel.packChunk(source, kStart, k1, bl.kc(), j0, nc,
                        (int) ((long) t * panels / packPieces), (int) ((long) (t + 1) * panels / packPieces), pb));
                pool.parallelFor(pieces, (t, s) -> {
                    int i0 = Math.min(m, (int) ((long) t * rowBlocks / pieces) * mr);
                    int i1 = Math.min(m, (int) ((long) (t + 1) * rowBlocks / pieces) * mr);
                    if (i0 < i1)
                        GemmKernel.multiplyPacked(s, transA, a, aOff, lda, null, GemmInPlace.suits(s, transA, a, lda, null, panels),
                                i0, i1, kStart, k1, k, bl, pb, j0, nc, 0, nc, alpha, beta, ep, c, cOff, ldc, false);
                });
            }
        }
    }

    /**
     * C[m x n] = alpha op(A) B + beta C, then {@code ep}, with B packed ahead ({@link PackedB}): the pieces are row
     * ranges (multiples of MR) times ranges of B's panels, about two per thread, and each multiplies straight from the
     * packed panels (packing only its rows of A).
     */
    public static void gemm(KernelPool pool, boolean transA, int m, float alpha, MemorySegment a, long aOff, long lda,
                            PackedB b, float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        int n = b.n(), k = b.k();
        checkPacked(transA, m, a, aOff, lda, b, c, cOff, ldc, ep);
        pool.checkAccess("A", a);
        pool.checkAccess("C", c);
        pool.checkAccess("the bias", ep.bias());
        pool.checkAccess("the residual", ep.residual());
        if (m == 0) return;
        if (b.inColumns()) {
            ShortAGemm.gemm(pool, transA, m, alpha, a, aOff, lda, b, beta, c, cOff, ldc, ep);
            return;
        }
        int nr = GemmKernel.NR, mr = GemmKernel.MR;
        int rowBlocks = (m + mr - 1) / mr, panels = (n + nr - 1) / nr;
        boolean serial = pool.threads() == 1 || 2.0 * m * n * Math.max(k, 1) < SERIAL_FLOPS;
        int want = serial ? 1 : 2 * pool.threads();
        // Rows first (each piece packs only its rows of A and reads all of B) when every piece gets
        // MIN_ROW_BLOCKS_PER_PIECE row blocks; otherwise panels first (each piece reads only its share of B, A packed
        // once for all). With 1-2 row blocks a piece a B panel served one or two micro-tiles before the next came from
        // L2: the 784-256 layer at batch 64 (6 row blocks, B 0.8 MB) took 0.170 ms a run against 0.179 (4 runs each).
        boolean rowsFirst = rowBlocks >= MIN_ROW_BLOCKS_PER_PIECE * want;
        int pm = rowsFirst ? Math.min(rowBlocks, want) : 1;
        int pn = Math.min(panels, Math.max(1, want / pm));
        // A piece that multiplies few columns reads A in place (without packing it) when its threads flush
        // subnormals as packing would; panels first, every piece needs all of A, so otherwise A is packed once for all
        // of them (not once per piece).
        int piecePanels = (panels + pn - 1) / pn;
        boolean inPlace = GemmInPlace.suits(pool.flushesDenormals(), transA, a, lda, piecePanels);
        if (!inPlace && pm == 1 && pn > 1 && GemmKernel.PackedA.size(m, k) <= SHARED_A_FLOATS) {
            pool.exclusive(() -> {
                GemmKernel.PackedA pa = GemmKernel.PackedA.packAll(pool, transA, a, aOff, lda, m, k,
                        pool.sharedFloats((int) GemmKernel.PackedA.size(m, k)));
                pool.parallelFor(pn, (t, s) -> {
                    int c0 = (int) ((long) t * panels / pn) * nr, c1 = Math.min(n, (int) ((long) (t + 1) * panels / pn) * nr);
                    multiplyColumns(s, transA, m, alpha, a, aOff, lda, pa, false, b, beta, c, cOff, ldc, ep, 0, m, c0, c1);
                });
            });
            return;
        }
        pool.parallelFor(pm * pn, (t, s) -> {
            int rm = t / pn, rn = t % pn;
            int i0 = Math.min(m, (int) ((long) rm * rowBlocks / pm) * mr);
            int i1 = Math.min(m, (int) ((long) (rm + 1) * rowBlocks / pm) * mr);
            int c0 = (int) ((long) rn * panels / pn) * nr, c1 = Math.min(n, (int) ((long) (rn + 1) * panels / pn) * nr);
            multiplyColumns(s, transA, m, alpha, a, aOff, lda, null, inPlace, b, beta, c, cOff, ldc, ep, i0, i1, c0, c1);
        });
    }

    /**
     * The same on the calling thread, for use inside a {@link KernelPool} task with that task's scratch. B must be
     * packed in GEMM panels ({@link PackedB#pack(boolean, MemorySegment, long, long, int, int)}).
     */
    public static void gemmSerial(Scratch s, boolean transA, int m, float alpha, MemorySegment a, long aOff, long lda,
                                  PackedB b, float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        checkPacked(transA, m, a, aOff, lda, b, c, cOff, ldc, ep);
        if (b.inColumns()) throw new IllegalArgumentException("B packed in column panels has no serial product");
        if (m > 0) multiplyColumns(s, transA, m, alpha, a, aOff, lda, null, false, b, beta, c, cOff, ldc, ep, 0, m, 0, b.n());
    }

    private static void checkPacked(boolean transA, int m, MemorySegment a, long aOff, long lda, PackedB b,
                                    MemorySegment c, long cOff, long ldc, Epilogue ep) {
        int n = b.n(), k = b.k();
        if (m < 0) throw new IllegalArgumentException("negative GEMM size: m " + m);
        if (ep == null) throw new IllegalArgumentException("epilogue is null; use Epilogue.NONE");
        if (m == 0) return;
        Segments.checkMatrix("A", a, aOff, transA ? k : m, transA ? m : k, lda, 1, 0);
        Segments.checkMatrix("C", c, cOff, m, n, ldc, 1, 0);
        if (ep.bias() != null) Segments.checkRange("bias", ep.bias(), ep.biasOffset(), ep.biasPerRow() ? m : n);
        if (ep.residual() != null)
            Segments.checkMatrix("residual", ep.residual(), ep.residualOffset(), m, n, ep.ldr(), 1, 0);
    }

    /**
     * Rows {@code [i0, i1)} times columns {@code [c0, c1)} of C from packed B (and packed A, A packed here, or A read
     * in place).
     */
    private static void multiplyColumns(Scratch s, boolean transA, int m, float alpha, MemorySegment a, long aOff,
                                        long lda, GemmKernel.PackedA pa, boolean aInPlace, PackedB b, float beta,
                                        MemorySegment c, long cOff, long ldc, Epilogue ep, int i0, int i1, int c0,
                                        int c1) {
        int n = b.n(), k = b.k();
        if (i0 >= i1 || c0 >= c1) return;
        boolean readAhead = b.readAhead;
        for (int jb = 0, jc = 0; jc < n; jb++, jc += GemmKernel.NC) {
            int nc = Math.min(GemmKernel.NC, n - jc);
            int jr0 = Math.max(c0, jc) - jc, jr1 = Math.min(c1, jc + nc) - jc;
            if (jr0 >= jr1) continue;
            for (int kb = 0; kb < b.kChunks; kb++) {
                int k0 = kb * GemmKernel.KCHUNK, k1 = Math.min(k, k0 + GemmKernel.KCHUNK);
                GemmKernel.multiplyPacked(s, transA, a, aOff, lda, pa, aInPlace, i0, i1, k0, k1, k, pa != null ? pa.blocks() : GemmKernel.Blocks.SHALLOW,
                        b.chunk(jb, kb), jc, nc, jr0, jr1, alpha, beta, ep, c, cOff, ldc, readAhead);
            }
        }
    }

    /** The single-threaded form, for use inside a {@link KernelPool} task with that task's scratch. */
    public static void gemmSerial(Scratch s, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  MemorySegment a, long aOff, long lda, MemorySegment b, long bOff, long ldb,
                                  float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        check(1, transA, transB, m, n, k, a, aOff, lda, 0, b, bOff, ldb, 0, c, cOff, ldc, 0, ep);
        GemmKernel.gemm(s, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, ep);
    }

    /** {@code float[]} convenience over the shared pool: dense row-major matrices, no epilogue. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b,
                            float beta, float[] c) {
        gemm(KernelPool.shared(), transA, transB, m, n, k, alpha, MemorySegment.ofArray(a), 0, transA ? m : k,
                MemorySegment.ofArray(b), 0, transB ? k : n, beta, MemorySegment.ofArray(c), 0, n, Epilogue.NONE);
    }

    /**
     * How a batched product is cut into pieces: each batch entry into {@code pm} row ranges (multiples of MR) times
     * {@code pn} column ranges (multiples of NR), cutting the longer side first, until there are about two pieces per
     * thread (so that a core slowed by other work takes fewer of them).
     */
    record Split(int pm, int pn, int mBlocks, int nBlocks, int tasks) {
        static Split of(int threads, int batch, int m, int n, int k) {
            int mBlocks = (m + GemmKernel.MR - 1) / GemmKernel.MR, nBlocks = (n + GemmKernel.NR - 1) / GemmKernel.NR;
            double flops = 2.0 * batch * m * n * Math.max(k, 1);
            if (threads == 1 || flops < SERIAL_FLOPS) return new Split(1, 1, mBlocks, nBlocks, batch);
            int want = (int) Math.min(2L * threads, (long) (flops / SERIAL_FLOPS));
            int pieces = Math.max(1, (want + batch - 1) / batch), pm = 1, pn = 1;
            while (pm * pn < pieces) {
                boolean canM = pm < mBlocks, canN = pn < nBlocks;
                if (!canM && !canN) break;
                if (canN && (!canM || (double) n / pn >= (double) m / pm)) pn++;
                else pm++;
            }
            return new Split(pm, pn, mBlocks, nBlocks, Math.multiplyExact(batch, pm * pn));
        }

        int rowStart(int piece, int m) { return Math.min(m, (int) ((long) piece * mBlocks / pm) * GemmKernel.MR); }

        int colStart(int piece, int n) { return Math.min(n, (int) ((long) piece * nBlocks / pn) * GemmKernel.NR); }
    }

    private static void check(int batch, boolean transA, boolean transB, int m, int n, int k,
                              MemorySegment a, long aOff, long lda, long strideA, MemorySegment b, long bOff, long ldb,
                              long strideB, MemorySegment c, long cOff, long ldc, long strideC, Epilogue ep) {
        if (batch < 0 || m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("negative GEMM size: batch " + batch + ", m " + m + ", n " + n + ", k " + k);
        if (ep == null) throw new IllegalArgumentException("epilogue is null; use Epilogue.NONE");
        if (batch == 0 || m == 0 || n == 0) return;
        Segments.checkMatrix("A", a, aOff, transA ? k : m, transA ? m : k, lda, batch, strideA);
        Segments.checkMatrix("B", b, bOff, transB ? n : k, transB ? k : n, ldb, batch, strideB);
        Segments.checkMatrix("C", c, cOff, m, n, ldc, batch, strideC);
        if (ep.bias() != null) Segments.checkRange("bias", ep.bias(), ep.biasOffset(), ep.biasPerRow() ? m : n);
        if (ep.residual() != null)
            Segments.checkMatrix("residual", ep.residual(), ep.residualOffset(), m, n, ep.ldr(), batch, ep.residualBatchStride());
    }
}
