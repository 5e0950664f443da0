package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A constant op(B) (k x n) packed once, for products whose B never changes between runs (an inference model's
 * weights): each call then skips packing B, which for a short A (a batch of 1 to 64 rows) is most of the work.
 *
 * <p>Two layouts. GEMM panels: chunks as {@link GemmKernel#packChunk} makes them, one per NC columns and KCHUNK rows
 * of op(B). Column panels, for an A of at most {@link ShortAGemm#MAX_ROWS} rows: MR columns of op(B) each, k-major
 * (the micro-kernel's A-panel layout), all panels of one KC block of k after another, so that {@link ShortAGemm}
 * reads them in storage order.
 */
public final class PackedB {
    final int k, n;
    final int kChunks;
    /** Products read this B into L2 a block ahead of the micro-kernel ({@link ReadAhead}). */
    final boolean readAhead;
    private final float[][] chunks;
    private final float[][] columns;

    private PackedB(int k, int n, int kChunks, float[][] chunks, float[][] columns, boolean streams) {
        this.readAhead = streams && ReadAhead.ENABLED && (long) n * k >= ReadAhead.MIN_B_FLOATS;
        this.k = k;
        this.n = n;
        this.kChunks = kChunks;
        this.chunks = chunks;
        this.columns = columns;
    }

    /**
     * Packs op(B) for products whose A has {@code rowsOfA} rows: in column panels when {@link ShortAGemm#suits} them,
     * else in GEMM panels. Either layout serves any A; the choice is about speed.
     */
    public static PackedB pack(boolean transB, MemorySegment b, long off, long ld, int k, int n, long rowsOfA) {
        return pack(transB, b, off, ld, k, n, rowsOfA, streamsAlone(k, n));
    }

    /**
     * The same, saying whether B will come from memory on every product ({@code streams}: it is part of weights
     * larger than the last-level cache, {@link #streams(long)}); a large B that does is read ahead into L2 block by
     * block ({@link ReadAhead}), which costs time when it would have come from the cache.
     */
    public static PackedB pack(boolean transB, MemorySegment b, long off, long ld, int k, int n, long rowsOfA,
                               boolean streams) {
        if (!ShortAGemm.suits(rowsOfA, n, k)) return pack(transB, b, off, ld, k, n, streams);
        return packColumns(transB, b, off, ld, k, n, streams);
    }

    /** Whether constant weights of {@code bytes} in all are re-read from memory on every run (beyond the cache). */
    public static boolean streams(long bytes) { return bytes >= ReadAhead.MIN_STREAM_BYTES; }

    private static boolean streamsAlone(int k, int n) { return streams(4L * k * n); }

    /** Packs op(B) in column panels, whatever A will meet it (tests reach the column path with small B through it). */
    static PackedB packColumns(boolean transB, MemorySegment b, long off, long ld, int k, int n, boolean streams) {
        if (k < 0 || n < 1) throw new IllegalArgumentException("bad packed B size " + k + " x " + n);
        int panels = (n + GemmKernel.MR - 1) / GemmKernel.MR, kBlocks = Math.max(1, (k + GemmKernel.KC - 1) / GemmKernel.KC);
        if ((long) panels * GemmKernel.MR * GemmKernel.KC > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("packed B too wide: n " + n);
        float[][] columns = new float[kBlocks][];
        for (int kb = 0; kb < kBlocks; kb++) {
            int p0 = kb * GemmKernel.KC, kc = Math.min(GemmKernel.KC, k - p0);
            columns[kb] = new float[panels * GemmKernel.MR * kc];
            // op(B) transposed is A-shaped (n x k): its MR-row panels are B's MR-column panels.
            GemmPacking.packA(!transB, b, off, ld, 0, n, p0, kc, columns[kb], 0);
        }
        return new PackedB(k, n, 0, null, columns, streams);
    }

    /** Packs op(B) in GEMM panels: B[p, j] at {@code off + p * ld + j}, or {@code off + j * ld + p} when {@code transB}. */
    public static PackedB pack(boolean transB, MemorySegment b, long off, long ld, int k, int n) {
        return pack(transB, b, off, ld, k, n, streamsAlone(k, n));
    }

    /** The same, saying whether B will come from memory on every product (see {@link #pack(boolean, MemorySegment, long, long, int, int, long, boolean)}). */
    public static PackedB pack(boolean transB, MemorySegment b, long off, long ld, int k, int n, boolean streams) {
        if (k < 0 || n < 1) throw new IllegalArgumentException("bad packed B size " + k + " x " + n);
        PanelSource source = new PanelSource.Matrix(transB, b, off, ld);
        int kChunks = Math.max(1, (k + GemmKernel.KCHUNK - 1) / GemmKernel.KCHUNK);
        int jBlocks = (n + GemmKernel.NC - 1) / GemmKernel.NC;
        float[][] chunks = new float[jBlocks * kChunks][];
        for (int jb = 0; jb < jBlocks; jb++) {
            int jc = jb * GemmKernel.NC, nc = Math.min(GemmKernel.NC, n - jc), panels = (nc + GemmKernel.NR - 1) / GemmKernel.NR;
            for (int kb = 0; kb < kChunks; kb++) {
                int k0 = kb * GemmKernel.KCHUNK, k1 = Math.min(k, k0 + GemmKernel.KCHUNK);
                float[] pb = new float[GemmKernel.chunkSize(k1 - k0, nc)];
                GemmKernel.packChunk(source, k0, k1, GemmKernel.KC, jc, nc, 0, panels, pb);
                chunks[jb * kChunks + kb] = pb;
            }
        }
        return new PackedB(k, n, kChunks, chunks, null, streams);
    }

    public int k() { return k; }

    public int n() { return n; }

    /** True when packed in column panels, for {@link ShortAGemm}. */
    boolean inColumns() { return columns != null; }

    float[] chunk(int jBlock, int kBlock) { return chunks[jBlock * kChunks + kBlock]; }

    /**
     * Rows {@code [kb * KC, kb * KC + kc)} of op(B) in column panels: columns {@code [q * MR, q * MR + MR)} at
     * {@code q * MR * kc}, k-major, zeros past column n.
     */
    float[] columnBlock(int kb) { return columns[kb]; }

    /** KC blocks of k in column panels (one when k is 0). */
    int columnBlocks() { return columns.length; }

    /** Floats held (the packing pads the last panel of each block to a full panel). */
    public long floats() {
        long f = 0;
        for (float[] c : columns != null ? columns : chunks) f += c.length;
        return f;
    }
}
