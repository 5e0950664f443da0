package dev.gale.backends.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.gale.backends.cpu.GemmKernel.L;
import static dev.gale.backends.cpu.GemmKernel.S;

/**
 * Brings the next block of a packed B that streams from memory (an inference model's large weights) into the core's
 * L2 with a plain read loop, right before the micro-kernel multiplies it: Java has no prefetch instruction, and
 * without this the kernel's own loads wait on memory.
 *
 * <p>Why a plain read first, then the multiply, helps: a GEMM micro-kernel issues about 50 instructions per 64-byte
 * line of a weight panel it broadcasts, so its out-of-order window holds only a few lines' misses at a time, and on
 * the 2-core AVX-512 machine this was tuned on it streamed weights at about 5 GB/s per core. A read loop is one load
 * per line and keeps many misses in flight (13 GB/s per core); the multiply then reads the block from L2 at its
 * in-cache speed. Measured, the 1024-4096-4096-1024 MLP's forward: batch 32 from 10.4-10.8 to 8.2-9.0 ms, batch 64
 * from 16.4-16.6 to 14.5-15.0 ms. Blocks of about 128 KiB: 8 to 32 panels of 12 columns x 256 measured alike at batch
 * 32, 2 to 8 panels of 32 columns at batch 64. Whole packed chunks (1 MiB) or a panel group's weights read ahead
 * gained nothing: the block must stay in L2 until the multiply reaches it.
 *
 * <p>Only for weights that really come from memory: a {@link PackedB} reads ahead when it is large and its packer said
 * it streams, which the cpu runtime's plan does when all its constants together exceed {@link #MIN_STREAM_BYTES}. A
 * B that stays in the last-level cache between products lost by it (below).
 */
final class ReadAhead {
    /** Floats read ahead at once (128 KiB). */
    static final int BLOCK_FLOATS = 1 << 15;
    /**
     * The fewest floats of a packed B worth reading ahead (256 KiB, two blocks). all-MiniLM-L6-v2's 384 x 1536 and
     * 384 x 384 weights (42 MB in all, from memory on every run) gained from it: a forward of 18.8-19.9 ms without
     * read-ahead, 17.1-18.9 with it.
     */
    static final long MIN_B_FLOATS = 1L << 16;
    /**
     * Constant weights from which on they stream from memory on every run (32 MiB, about the last-level cache that is
     * effective on the machine measured). Below it they stay in that cache, where reading ahead costs more than it
     * gains: 32 x 4096 x 1024 re-read from the cache ran at 265 GFLOP/s without it and 211 with it.
     */
    static final long MIN_STREAM_BYTES = 32L << 20;
    /** {@code -Dgale.cpu.readahead=false} turns it off (for measuring what it does). */
    static final boolean ENABLED = !"false".equals(System.getProperty("gale.cpu.readahead"));

    private ReadAhead() {}

    /** Panels of {@code panelFloats} floats per read-ahead block (at least one). */
    static int panels(int panelFloats) { return Math.max(1, BLOCK_FLOATS / Math.max(1, panelFloats)); }

    /**
     * Reads {@code w[from, from + len)}, one vector per cache line, into the cache; the sum goes into the scratch so
     * that the JIT keeps the loads.
     */
    static void block(Scratch s, float[] w, int from, int len) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = from, end = from + len - 4 * L;
        for (; i <= end; i += 4 * L) {
            a0 = a0.add(FloatVector.fromArray(S, w, i));
            a1 = a1.add(FloatVector.fromArray(S, w, i + L));
            a2 = a2.add(FloatVector.fromArray(S, w, i + 2 * L));
            a3 = a3.add(FloatVector.fromArray(S, w, i + 3 * L));
        }
        float tail = 0f;
        for (; i < from + len; i += L) tail += w[i];
        s.readAhead = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD) + tail;
    }
}
