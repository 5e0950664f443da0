package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A constant op(B) (k x n) packed once into the GEMM's panel layout, for products whose B never changes between
 * runs (an inference model's weights): each call then skips packing B, which for a short A (a batch of 1 to 64 rows)
 * is most of the work. Chunks are laid out as {@link GemmKernel#packChunk} makes them: one per NC columns and
 * KCHUNK rows of op(B).
 */
public final class PackedB {
    final int k, n;
    final int kChunks;
    private final float[][] chunks;

    private PackedB(int k, int n, int kChunks, float[][] chunks) {
        this.k = k;
        this.n = n;
        this.kChunks = kChunks;
        this.chunks = chunks;
    }

    /** Packs op(B): B[p, j] at {@code off + p * ld + j}, or {@code off + j * ld + p} when {@code transB}. */
    public static PackedB pack(boolean transB, MemorySegment b, long off, long ld, int k, int n) {
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
                GemmKernel.packChunk(source, k0, k1, jc, nc, 0, panels, pb);
                chunks[jb * kChunks + kb] = pb;
            }
        }
        return new PackedB(k, n, kChunks, chunks);
    }

    public int k() { return k; }

    public int n() { return n; }

    float[] chunk(int jBlock, int kBlock) { return chunks[jBlock * kChunks + kBlock]; }

    /** Floats held (the packing pads the last panel of each block to a full panel). */
    public long floats() {
        long f = 0;
        for (float[] c : chunks) f += c.length;
        return f;
    }
}
