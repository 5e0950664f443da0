package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * One thread's working memory for the kernels: GEMM packing panels, the micro-kernel's output tile and a general
 * float buffer (im2col columns). Buffers grow to the largest size asked for and are then reused, so steady-state
 * calls allocate nothing. A scratch belongs to one thread at a time: {@link KernelPool} hands each participant its own.
 */
public final class Scratch {
    private float[] packA = new float[0];
    private float[] packB = new float[0];
    private float[] work = new float[0];
    private float[] fold = new float[0];
    private int[] ints = new int[0];
    private MemorySegment workSegment = MemorySegment.ofArray(work);
    /** The micro-kernel's MR x NR accumulator tile. */
    final float[] tile = new float[GemmKernel.MR * GemmKernel.NR];
    /** Where {@link ReadAhead} leaves the sum of what it read, so that its loads are kept. */
    float readAhead;

    /**
     * True when the thread using this scratch runs with subnormals flushed (a participant of a {@link KernelPool} that
     * {@link KernelPool#flushesDenormals}), so kernels may read operands unpacked ({@link GemmInPlace#micro}).
     */
    final boolean flushes;

    public Scratch() { this(false); }

    Scratch(boolean flushes) { this.flushes = flushes; }

    float[] packA(int size) {
        if (packA.length < size) packA = new float[size];
        return packA;
    }

    float[] packB(int size) {
        if (packB.length < size) packB = new float[size];
        return packB;
    }

    /** A buffer of at least {@code floats} floats (contents undefined); {@link #workSegment()} views the same memory. */
    float[] work(long floats) {
        if (floats > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("a work buffer of " + floats + " floats is too large; use smaller chunks");
        if (work.length < floats) {
            work = new float[(int) floats];
            workSegment = MemorySegment.ofArray(work);
        }
        return work;
    }

    /** A second float buffer, beside {@link #work}, of at least {@code floats} floats (contents undefined). */
    float[] fold(int floats) {
        if (fold.length < floats) fold = new float[floats];
        return fold;
    }

    /** An int buffer of at least {@code n} ints (contents undefined): index tables. */
    int[] ints(int n) {
        if (ints.length < n) ints = new int[n];
        return ints;
    }

    private MemorySegment offHeap = MemorySegment.NULL;

    /**
     * Off-heap memory of at least {@code floats} floats (contents undefined), allocated once and reused while big
     * enough. For results that kernels write and read through {@code MemorySegment} accesses: a heap segment there
     * would give those call sites a second segment class and slow them for every caller (the arena's segments are
     * native).
     */
    MemorySegment offHeap(long floats) {
        if (offHeap.byteSize() < floats * Float.BYTES)
            offHeap = java.lang.foreign.Arena.ofAuto().allocate(Math.max(1, floats) * Float.BYTES, 64);
        return offHeap;
    }

    /** The buffer last returned by {@link #work(long)}, as a heap segment. */
    MemorySegment workSegment() { return workSegment; }
}
