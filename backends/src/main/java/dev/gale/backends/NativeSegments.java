package dev.gale.backends;

import java.lang.foreign.MemorySegment;

/**
 * The class of native segments, for hot loops that read or write a backend's buffers through the Vector API or
 * {@code MemorySegment.get}/{@code set}.
 *
 * <p>Why loops cast to it: those JDK methods ask the segment for its heap base through a virtual call whose type
 * profile belongs to the JDK method, and so is shared by every caller in the process. Once any code has passed a heap
 * segment ({@code MemorySegment.ofArray}) through them, C2 compiles that call in every loop compiled afterwards as a
 * type switch, and the loop slows down: a 25M-parameter Adam update took 21-23 ms on one thread after another
 * method's heap loads against 12.7-13.5 ms without them (probe, 2026-11-27), and the 784-256-10 MLP's training step
 * in half the {@code gale bench} workers ran 30-180x slower, with the in-place GEMM's loads of A among the suspects.
 * Cast to {@link #CLASS}, the call resolves to the native segment's method whatever the profile says.
 */
public final class NativeSegments {
    private NativeSegments() {}

    /** The class of native segments ({@link java.lang.foreign.Arena} allocations; a mapped file's is a subclass). */
    public static final Class<? extends MemorySegment> CLASS = MemorySegment.NULL.getClass();

    /** {@code s} is native (an arena's allocation, or a mapped file), so that {@code CLASS.cast(s)} succeeds. */
    public static boolean isNative(MemorySegment s) { return CLASS.isInstance(s); }

    /** {@code s} is exactly an arena's native segment (not a mapped file, whose class is a subclass). */
    public static boolean isPlainNative(MemorySegment s) { return s != null && s.getClass() == CLASS; }
}
