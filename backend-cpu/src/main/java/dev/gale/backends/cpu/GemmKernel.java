package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * The single-threaded GEMM of one block of C, after Goto and van de Geijn ("Anatomy of high-performance matrix
 * multiplication", 2008) as BLIS arranges it:
 *
 * <pre>
 * for jc in n step NC                      B block (KC x NC) packed in NR-wide panels
 *   for pc in k step KC
 *     pack B[pc:pc+KC, jc:jc+NC]
 *     for ic in m step MC                  A block (MC x KC) packed in MR-tall panels, lives in L2
 *       pack A[ic:ic+MC, pc:pc+KC]
 *       for jr in NC step NR               one B panel (KC x NR) is reused across the ir loop
 *         for ir in MC step MR
 *           micro-kernel: MR x NR tile += A panel x B panel (rank-1 updates, MR x NR/L accumulators in registers)
 *           store the tile into C (TileStore): scale, beta, and after the last KC block the epilogue
 * </pre>
 *
 * Packing pads partial panels with zeros, so the micro-kernel always computes a full tile and only the store knows
 * about edges. MR x NR is 12 rows x 2 vectors (BLIS's 32 x 12 for AVX-512, transposed): 24 accumulators, 2 B vectors
 * and 1 broadcast of the 32 vector registers, 24 FMAs per 14 loads; alone on L1-resident panels it runs at the
 * core's FMA peak.
 *
 * <p>Block sizes were chosen by measurement on a 2-core AVX-512 machine (48 KiB L1, 2 MiB L2), in GFLOP per CPU-second
 * at 1024^3: KC = 256 keeps a B panel (32 KiB) and an A panel (12 KiB) in L1 (about 134; KC = 1024, with one pass over
 * C but panels streamed from L2, about 122). B can be packed several KC blocks at a time (KCHUNK) with those blocks
 * innermost, to keep a block of C in L2 while it accumulates; on that machine it measured no better, so one block it
 * is. The system properties {@code gale.gemm.kc}, {@code gale.gemm.mc}, {@code gale.gemm.nc} and
 * {@code gale.gemm.kchunk} override the sizes for tuning.
 *
 * <p>Deep blocks ({@link Blocks#DEEP}) for products of depth past KC with DEEP_MIN_ROWS rows or more: with KC = 256
 * each KC block reads and writes the product's C again, and once C outgrows L2 (1 MiB on the Zen 5 of 2026-11-27)
 * every pass comes from L3. Deep blocks are 1024 deep, so a product up to that depth passes over C once; the KC x NR
 * B panels (128 KiB) then stream from L2 instead of staying in L1, and the A blocks are 96 rows (384 KiB, in L2).
 * Medians on that machine, GFLOP/s, shallow and deep blocks alternating in one JVM: 1024^3 on 2 threads 259 against
 * 293 (A or B transposed alike), on 1 thread 150 against 166; 2048^3 261 against 308; 512^3 289 against 310; a
 * 256-row product of depth 512 with B transposed 245 against 268. Products of 64 rows measured within the noise
 * either way (about 5%), of 32 rows alike, so the rows threshold is 4 row blocks ({@code gale.gemm.deepkc},
 * {@code gale.gemm.deepmc}, {@code gale.gemm.deeprows} tune them). Only where a core's L2 is too small for a shallow
 * block's C ({@link #DEEP_PAYS}).
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 12;
    static final int NR = 2 * L;
    /** Depth of one packed block. */
    static final int KC = Integer.getInteger("gale.gemm.kc", 256);
    /** Rows of one packed A block, a multiple of MR (gale.gemm.mc). */
    static final int MC = Integer.getInteger("gale.gemm.mc", 264) / MR * MR;
    /** Rows of op(B) packed at once, a multiple of KC (gale.gemm.kchunk). */
    static final int KCHUNK = Math.max(1, Integer.getInteger("gale.gemm.kchunk", 256) / KC) * KC;
    /** Columns of one packed B block, a multiple of NR (gale.gemm.nc). */
    static final int NC = Integer.getInteger("gale.gemm.nc", 1024) / NR * NR;
    /** Depth of a deep block, a multiple of KC (gale.gemm.deepkc). */
    static final int DEEP_KC = Math.max(1, Integer.getInteger("gale.gemm.deepkc", 1024) / KC) * KC;
    /** Rows of a deep A block, a multiple of MR (gale.gemm.deepmc). */
    static final int DEEP_MC = Math.max(MR, Integer.getInteger("gale.gemm.deepmc", 96) / MR * MR);
    /** Fewest rows of C a product needs for deep blocks (gale.gemm.deeprows). */
    static final int DEEP_MIN_ROWS = Integer.getInteger("gale.gemm.deeprows", 48);
    /**
     * Whether deep blocks pay on this machine: when a shallow block's part of C and its A block (MC x NC plus MC x KC
     * floats, 1.3 MiB) would not fit in three quarters of a core's L2 ({@link CacheSizes}), so that every KC pass over
     * C comes from L3. With a 1 MiB L2 (the Zen 5) deep blocks were faster (class comment); with the 2 MiB L2 of an
     * Intel Xeon (family 6, model 207) shallow ones were: 1024^3 on 2 threads at 0.82-0.83 of the FMA peak against
     * 0.78 with deep blocks ({@code GemmBench -p impl=share}, two runs each), 512^3 and 2048^3 and 1 thread alike
     * within 0.02. {@code gale.gemm.deep=true|false} overrides.
     */
    static final boolean DEEP_PAYS = Boolean.parseBoolean(System.getProperty("gale.gemm.deep",
            String.valueOf(4L * (MC * (long) NC + (long) MC * KC) > CacheSizes.L2_BYTES * 3 / 4)));
    /** From this many floats (1 MiB), a block of C written in one KC block is written row block by row block. */
    static final long STREAMED_C_FLOATS = 1L << 18;

    private GemmKernel() {}

    /**
     * The block sizes of one product: depth {@code kc} of a KC block, {@code chunk} rows of op(B) packed at once (a
     * multiple of kc), {@code mc} rows of a packed A block. Shallow ones unless the product is deep and tall.
     */
    record Blocks(int kc, int chunk, int mc) {
        static final Blocks SHALLOW = new Blocks(KC, KCHUNK, MC);
        static final Blocks DEEP = new Blocks(DEEP_KC, Math.max(DEEP_KC, KCHUNK / DEEP_KC * DEEP_KC), DEEP_MC);

        /** The blocks for a product of {@code m} rows (of the piece one thread computes) and depth {@code k}. */
        static Blocks of(int m, int k) { return DEEP_PAYS && m >= DEEP_MIN_ROWS && k > KC ? DEEP : SHALLOW; }
    }

    /**
     * C[m x n] = alpha op(A) op(B) + beta C, then the epilogue; indices are elements, {@code ld*} row strides. The
     * epilogue's bias and residual are positioned at this block's (0, 0).
     */
    static void gemm(Scratch s, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, long lda, MemorySegment b, long bOff, long ldb,
                     float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        gemm(s, transA, m, n, k, alpha, a, aOff, lda, new PanelSource.Matrix(transB, b, bOff, ldb), beta, c, cOff, ldc, ep);
    }

    /** The same with B's panels from {@code b}. */
    static void gemm(Scratch s, boolean transA, int m, int n, int k, float alpha, MemorySegment a, long aOff, long lda,
                     PanelSource b, float beta, MemorySegment c, long cOff, long ldc, Epilogue ep) {
        gemm(s, transA, a, aOff, lda, null, Blocks.of(m, k), m, n, k, alpha, b, beta, c, cOff, ldc, ep);
    }

    /**
     * C[m x n] = alpha A B + beta C, then the epilogue, with A packed ahead ({@link PackedA#pack}) and B's panels
     * from {@code b}, on the calling thread.
     */
    static void gemm(Scratch s, PackedA a, int n, float alpha, PanelSource b, float beta, MemorySegment c, long cOff,
                     long ldc, Epilogue ep) {
        gemm(s, false, null, 0, 0, a, a.blocks(), a.m(), n, a.k(), alpha, b, beta, c, cOff, ldc, ep);
    }

    /** The blocked loops over B's chunks, with op(A) packed here block by block, or packed ahead in {@code preA}. */
    private static void gemm(Scratch s, boolean transA, MemorySegment a, long aOff, long lda, PackedA preA, Blocks bl,
                             int m, int n, int k, float alpha, PanelSource b, float beta, MemorySegment c, long cOff,
                             long ldc, Epilogue ep) {
        if (m <= 0 || n <= 0) return;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc), panels = (nc + NR - 1) / NR;
            for (int k0 = 0; k0 == 0 || k0 < k; k0 += bl.chunk()) {
                int k1 = Math.min(k, k0 + bl.chunk());
                float[] pb = s.packB(chunkSize(k1 - k0, nc));
                packChunk(b, k0, k1, bl.kc(), jc, nc, 0, panels, pb);
                multiplyPacked(s, transA, a, aOff, lda, preA, GemmInPlace.suits(s, transA, a, lda, preA, panels), 0, m, k0, k1, k, bl,
                        pb, jc, nc, 0, nc, alpha, beta, ep, c, cOff, ldc, false);
            }
        }
    }

    /** Floats of a packed chunk of {@code rows} rows of op(B) by {@code nc} columns. */
    static int chunkSize(int rows, int nc) { return Math.max(1, rows) * roundUp(nc, NR); }

    /**
     * Packs panels {@code [panel0, panel1)} of every {@code kc}-deep block of op(B)[k0:k1, jc:jc+nc]; block
     * {@code pc} starts at {@code (pc - k0) * roundUp(nc, NR)} in {@code pb}.
     */
    static void packChunk(PanelSource b, int k0, int k1, int kc, int jc, int nc, int panel0, int panel1, float[] pb) {
        int width = roundUp(nc, NR);
        for (int pc = k0; pc == k0 || pc < k1; pc += kc)
            b.pack(pc, Math.min(kc, k1 - pc), jc, nc, panel0 * NR, Math.min(nc, panel1 * NR), pb, (pc - k0) * width);
    }

    /** {@link #multiplyPacked} with op(A) packed ahead ({@code preA}) or packed here block by block. */
    static void multiplyPacked(Scratch s, boolean transA, MemorySegment a, long aOff, long lda, PackedA preA, int i0,
                               int i1, int k0, int k1, int k, Blocks bl, float[] pb, int jc, int nc, int jr0, int jr1,
                               float alpha, float beta, Epilogue ep, MemorySegment c, long cOff, long ldc,
                               boolean readAhead) {
        multiplyPacked(s, transA, a, aOff, lda, preA, false, i0, i1, k0, k1, k, bl, pb, jc, nc, jr0, jr1, alpha, beta,
                ep, c, cOff, ldc, readAhead);
    }

    /**
     * Rows {@code [i0, i1)} and block columns {@code [jr0, jr1)} (multiples of NR) of {@code C += op(A) x B-chunk},
     * where {@code pb} holds op(B)[k0:k1, jc:jc+nc] packed by {@link #packChunk}. For each MC block of rows the KC
     * blocks go innermost, so that the block's part of C (MC x NC) stays in L2 while it accumulates; C is scaled by
     * beta at k = 0 and gets the epilogue after k = {@code k} (positions are C's). op(A) is packed ahead by
     * {@link PackedA#packAll} into {@code preA} (rows {@code [i0, i1)} must then start at an MC block), or, when
     * {@code preA} is null, packed here block by block, or with {@code aInPlace} (from a native segment, on a thread
     * that flushes subnormals) read where it lies by {@link GemmInPlace#micro}. With {@code readAhead} (a packed B
     * that streams from memory), the first MC block reads B's panels into L2 a block at a time ({@link ReadAhead})
     * before multiplying them.
     */
    static void multiplyPacked(Scratch s, boolean transA, MemorySegment a, long aOff, long lda, PackedA preA,
                               boolean aInPlace, int i0, int i1, int k0, int k1, int k, Blocks bl, float[] pb, int jc,
                               int nc, int jr0, int jr1, float alpha, float beta, Epilogue ep, MemorySegment c,
                               long cOff, long ldc, boolean readAhead) {
        if (preA != null && (bl.kc() != KC || bl.mc() != preA.mc()))
            throw new IllegalArgumentException("packed A comes in blocks of " + preA.mc() + " x " + KC);
        if (aInPlace && (preA != null || !GemmInPlace.readable(transA, a)))
            throw new IllegalArgumentException("a packed A, or an A outside native memory, is not read in place");
        int kcb = bl.kc(), mcb = bl.mc();
        float[] pa = preA != null ? preA.panels() : aInPlace ? null : s.packA(mcb * Math.max(Math.min(kcb, k1 - k0), 1));
        float[] tile = s.tile;
        long ldaBytes = lda * Float.BYTES;
        // A in place: from one row of the tile to the next, and from one k to the next, in bytes
        long rowStep = transA ? Float.BYTES : ldaBytes, depthStep = transA ? ldaBytes : Float.BYTES;
        int width = roundUp(nc, NR), ahead = ReadAhead.panels(NR * kcb);
        for (int ic = i0; ic < i1; ic += mcb) {
            int mc = Math.min(mcb, i1 - ic);
            for (int pc = k0; pc == k0 || pc < k1; pc += kcb) {
                int kc = Math.min(kcb, k1 - pc), base = (pc - k0) * width, at = 0;
                float cScale = pc == 0 ? beta : 1f;
                Epilogue e = pc + kc >= k ? ep : null;
                long rowAt = aInPlace ? (aOff + (transA ? pc * lda + ic : ic * lda + pc)) * Float.BYTES : 0;
                if (preA != null) {
                    at = preA.offset(ic, pc);
                    if (preA.readAhead()) ReadAhead.block(s, pa, at, roundUp(mc, MR) * kc);
                }
                else if (!aInPlace) GemmPacking.packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
                if (kc >= k && !readAhead && (long) mc * (jr1 - jr0) >= STREAMED_C_FLOATS) {
                    // One KC block for the whole product and a block of C beyond L2: each tile of C is written once,
                    // from memory. Row blocks outermost, so that the 12 rows being written advance along themselves
                    // (streams the prefetcher follows) rather than hopping over MC rows; the B panels, kc x NR each,
                    // come from L2 instead of L1. A 4096 x 4096 product of depth 64 (a weight gradient at batch 64)
                    // went from 109-145 to 219-248 GFLOP/s on 2 threads, depth 128-256 5-30% faster; with C in cache
                    // either order measures alike, and small blocks (a convolution's few output channels) keep the
                    // B panel in L1 across their row blocks.
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = Math.min(MR, mc - ir);
                        for (int jr = jr0; jr < jr1; jr += NR) {
                            int cols = Math.min(NR, nc - jr), pbOff = base + jr * kc;
                            if (aInPlace)
                                GemmInPlace.micro(rows, kc, a, rowAt + ir * rowStep, rowStep, depthStep, pb, pbOff, tile);
                            else micro(rows, kc, pa, at + ir * kc, pb, pbOff, tile);
                            TileStore.store(tile, rows, cols, alpha, cScale, e, c, cOff, ldc, ic + ir, jc + jr);
                        }
                    }
                    continue;
                }
                for (int jr = jr0; jr < jr1; jr += NR) {
                    int cols = Math.min(NR, nc - jr), pbOff = base + jr * kc;
                    if (readAhead && ic == i0 && (jr - jr0) % (ahead * NR) == 0)
                        ReadAhead.block(s, pb, pbOff, Math.min(ahead, (jr1 - jr + NR - 1) / NR) * NR * kc);
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = Math.min(MR, mc - ir);
                        if (aInPlace)
                            GemmInPlace.micro(rows, kc, a, rowAt + ir * rowStep, rowStep, depthStep, pb, pbOff, tile);
                        else micro(rows, kc, pa, at + ir * kc, pb, pbOff, tile);
                        TileStore.store(tile, rows, cols, alpha, cScale, e, c, cOff, ldc, ic + ir, jc + jr);
                    }
                }
            }
        }
    }

    /**
     * All of op(A) [m x k] packed once, MC x KC block by block, for pieces that share it: block (ic, pc) starts at
     * {@link #offset}. The blocks are packed in parallel, one task per block.
     */
    record PackedA(float[] panels, int m, int k, int mc, int blockSize, int mBlocks, boolean readAhead) {
        /** Floats the packed copy takes (a long: for large m and k the product passes int's range). */
        static long size(int m, int k) { return size(m, k, MC); }

        private static long size(int m, int k, int mc) {
            return (long) blocks(m, mc) * blocks(Math.max(k, 1), KC) * roundUp(Math.min(mc, m), MR) * KC;
        }

        static PackedA packAll(KernelPool pool, boolean transA, MemorySegment a, long aOff, long lda, int m, int k,
                               float[] into) {
            int mBlocks = blocks(m, MC), kBlocks = blocks(Math.max(k, 1), KC);
            PackedA p = new PackedA(into, m, k, MC, roundUp(Math.min(MC, m), MR) * KC, mBlocks, false);
            pool.parallelFor(mBlocks * kBlocks, (t, s) -> {
                int ic = t % mBlocks * MC, pc = t / mBlocks * KC;
                GemmPacking.packA(transA, a, aOff, lda, ic, Math.min(MC, m - ic), pc, Math.min(KC, k - pc), into, p.offset(ic, pc));
            });
            return p;
        }

        /**
         * op(A) [m x k] packed once into an array of its own, in blocks of {@code mc} rows (a multiple of MR) by KC:
         * a constant operand (a convolution's weights) packed when the plan is built. With {@code streams} (it is
         * part of weights larger than the last-level cache, {@link PackedB#streams}) a large one is read into L2
         * block by block ahead of each block's multiply ({@link ReadAhead}).
         */
        static PackedA pack(boolean transA, MemorySegment a, long aOff, long lda, int m, int k, int mc, boolean streams) {
            long size = size(m, k, mc);
            if (size > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("packed A too large: " + m + " x " + k);
            int mBlocks = blocks(m, mc), kBlocks = blocks(Math.max(k, 1), KC);
            boolean readAhead = streams && ReadAhead.ENABLED && size >= ReadAhead.MIN_B_FLOATS;
            PackedA p = new PackedA(new float[(int) size], m, k, mc, roundUp(Math.min(mc, m), MR) * KC, mBlocks, readAhead);
            for (int t = 0; t < mBlocks * kBlocks; t++) {
                int ic = t % mBlocks * mc, pc = t / mBlocks * KC;
                GemmPacking.packA(transA, a, aOff, lda, ic, Math.min(mc, m - ic), pc, Math.min(KC, k - pc), p.panels,
                        p.offset(ic, pc));
            }
            return p;
        }

        /** The blocks a product with this packed A runs in: KC deep, {@code mc} rows. */
        Blocks blocks() { return new Blocks(KC, KCHUNK, mc); }

        int offset(int ic, int pc) { return (pc / KC * mBlocks + ic / mc) * blockSize; }

        private static int blocks(int x, int b) { return (x + b - 1) / b; }
    }

    static int roundUp(int x, int to) { return (x + to - 1) / to * to; }

    /**
     * tile[rows x NR] = A panel (kc x MR, k-major, the first {@code rows} used) times B panel (kc x NR, k-major): the
     * full 12-row kernel, or the 8- and 4-row ones for a short last panel (64 output channels are 5 x 12 + 4), so
     * that padding rows cost no FMAs.
     */
    static void micro(int rows, int kc, float[] pa, int ia, float[] pb, int ib, float[] tile) {
        if (rows > 8) micro12(kc, pa, ia, pb, ib, tile);
        else if (rows > 4) micro8(kc, pa, ia, pb, ib, tile);
        else micro4(kc, pa, ia, pb, ib, tile);
    }

    /** The 12 x 2-vector kernel: 24 accumulators, 24 FMAs per 14 loads. */
    static void micro12(int kc, float[] pa, int ia, float[] pb, int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
        FloatVector c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
        FloatVector c8a = z, c8b = z, c9a = z, c9b = z, c10a = z, c10b = z, c11a = z, c11b = z;
        for (int p = 0; p < kc; p++) {
            int ao = ia + p * MR, bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, pa[ao]);
            c0a = a.fma(b0, c0a);
            c0b = a.fma(b1, c0b);
            a = FloatVector.broadcast(S, pa[ao + 1]);
            c1a = a.fma(b0, c1a);
            c1b = a.fma(b1, c1b);
            a = FloatVector.broadcast(S, pa[ao + 2]);
            c2a = a.fma(b0, c2a);
            c2b = a.fma(b1, c2b);
            a = FloatVector.broadcast(S, pa[ao + 3]);
            c3a = a.fma(b0, c3a);
            c3b = a.fma(b1, c3b);
            a = FloatVector.broadcast(S, pa[ao + 4]);
            c4a = a.fma(b0, c4a);
            c4b = a.fma(b1, c4b);
            a = FloatVector.broadcast(S, pa[ao + 5]);
            c5a = a.fma(b0, c5a);
            c5b = a.fma(b1, c5b);
            a = FloatVector.broadcast(S, pa[ao + 6]);
            c6a = a.fma(b0, c6a);
            c6b = a.fma(b1, c6b);
            a = FloatVector.broadcast(S, pa[ao + 7]);
            c7a = a.fma(b0, c7a);
            c7b = a.fma(b1, c7b);
            a = FloatVector.broadcast(S, pa[ao + 8]);
            c8a = a.fma(b0, c8a);
            c8b = a.fma(b1, c8b);
            a = FloatVector.broadcast(S, pa[ao + 9]);
            c9a = a.fma(b0, c9a);
            c9b = a.fma(b1, c9b);
            a = FloatVector.broadcast(S, pa[ao + 10]);
            c10a = a.fma(b0, c10a);
            c10b = a.fma(b1, c10b);
            a = FloatVector.broadcast(S, pa[ao + 11]);
            c11a = a.fma(b0, c11a);
            c11b = a.fma(b1, c11b);
        }
        c0a.intoArray(tile, 0);
        c0b.intoArray(tile, L);
        c1a.intoArray(tile, NR);
        c1b.intoArray(tile, NR + L);
        c2a.intoArray(tile, 2 * NR);
        c2b.intoArray(tile, 2 * NR + L);
        c3a.intoArray(tile, 3 * NR);
        c3b.intoArray(tile, 3 * NR + L);
        c4a.intoArray(tile, 4 * NR);
        c4b.intoArray(tile, 4 * NR + L);
        c5a.intoArray(tile, 5 * NR);
        c5b.intoArray(tile, 5 * NR + L);
        c6a.intoArray(tile, 6 * NR);
        c6b.intoArray(tile, 6 * NR + L);
        c7a.intoArray(tile, 7 * NR);
        c7b.intoArray(tile, 7 * NR + L);
        c8a.intoArray(tile, 8 * NR);
        c8b.intoArray(tile, 8 * NR + L);
        c9a.intoArray(tile, 9 * NR);
        c9b.intoArray(tile, 9 * NR + L);
        c10a.intoArray(tile, 10 * NR);
        c10b.intoArray(tile, 10 * NR + L);
        c11a.intoArray(tile, 11 * NR);
        c11b.intoArray(tile, 11 * NR + L);
    }

    /** Rows 0..7 of a panel. */
    static void micro8(int kc, float[] pa, int ia, float[] pb, int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
        FloatVector c4a = z, c4b = z, c5a = z, c5b = z, c6a = z, c6b = z, c7a = z, c7b = z;
        for (int p = 0; p < kc; p++) {
            int ao = ia + p * MR, bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, pa[ao]);
            c0a = a.fma(b0, c0a);
            c0b = a.fma(b1, c0b);
            a = FloatVector.broadcast(S, pa[ao + 1]);
            c1a = a.fma(b0, c1a);
            c1b = a.fma(b1, c1b);
            a = FloatVector.broadcast(S, pa[ao + 2]);
            c2a = a.fma(b0, c2a);
            c2b = a.fma(b1, c2b);
            a = FloatVector.broadcast(S, pa[ao + 3]);
            c3a = a.fma(b0, c3a);
            c3b = a.fma(b1, c3b);
            a = FloatVector.broadcast(S, pa[ao + 4]);
            c4a = a.fma(b0, c4a);
            c4b = a.fma(b1, c4b);
            a = FloatVector.broadcast(S, pa[ao + 5]);
            c5a = a.fma(b0, c5a);
            c5b = a.fma(b1, c5b);
            a = FloatVector.broadcast(S, pa[ao + 6]);
            c6a = a.fma(b0, c6a);
            c6b = a.fma(b1, c6b);
            a = FloatVector.broadcast(S, pa[ao + 7]);
            c7a = a.fma(b0, c7a);
            c7b = a.fma(b1, c7b);
        }
        c0a.intoArray(tile, 0);
        c0b.intoArray(tile, L);
        c1a.intoArray(tile, NR);
        c1b.intoArray(tile, NR + L);
        c2a.intoArray(tile, 2 * NR);
        c2b.intoArray(tile, 2 * NR + L);
        c3a.intoArray(tile, 3 * NR);
        c3b.intoArray(tile, 3 * NR + L);
        c4a.intoArray(tile, 4 * NR);
        c4b.intoArray(tile, 4 * NR + L);
        c5a.intoArray(tile, 5 * NR);
        c5b.intoArray(tile, 5 * NR + L);
        c6a.intoArray(tile, 6 * NR);
        c6b.intoArray(tile, 6 * NR + L);
        c7a.intoArray(tile, 7 * NR);
        c7b.intoArray(tile, 7 * NR + L);
    }

    /** Rows 0..3 of a panel. */
    static void micro4(int kc, float[] pa, int ia, float[] pb, int ib, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z, c3a = z, c3b = z;
        for (int p = 0; p < kc; p++) {
            int ao = ia + p * MR, bo = ib + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo), b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector a = FloatVector.broadcast(S, pa[ao]);
            c0a = a.fma(b0, c0a);
            c0b = a.fma(b1, c0b);
            a = FloatVector.broadcast(S, pa[ao + 1]);
            c1a = a.fma(b0, c1a);
            c1b = a.fma(b1, c1b);
            a = FloatVector.broadcast(S, pa[ao + 2]);
            c2a = a.fma(b0, c2a);
            c2b = a.fma(b1, c2b);
            a = FloatVector.broadcast(S, pa[ao + 3]);
            c3a = a.fma(b0, c3a);
            c3b = a.fma(b1, c3b);
        }
        c0a.intoArray(tile, 0);
        c0b.intoArray(tile, L);
        c1a.intoArray(tile, NR);
        c1b.intoArray(tile, NR + L);
        c2a.intoArray(tile, 2 * NR);
        c2b.intoArray(tile, 2 * NR + L);
        c3a.intoArray(tile, 3 * NR);
        c3b.intoArray(tile, 3 * NR + L);
    }
}
