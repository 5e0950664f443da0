package dev.gale.backends.interp.planned;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Moves tensors between the interpreter's Java arrays and an arena: each element in its type's little-endian
 * (native order on every platform Gale runs on) bytes, packed, as a compiled kernel would see it. Complex numbers
 * are (re, im) pairs; strings have no fixed size and never reach the arena.
 */
final class ArenaTensors {
    private ArenaTensors() {}

    /** Bytes the tensor's elements take in the arena. */
    static long bytes(Tensor t) {
        return switch (t.data()) {
            case float[] a -> 4L * a.length;
            case double[] a -> 8L * a.length;
            case long[] a -> 8L * a.length;
            case int[] a -> 4L * a.length;
            case short[] a -> 2L * a.length;
            case byte[] a -> a.length;
            default -> throw new GaleException("a tensor of " + t.dtype() + " has no fixed-size bytes");
        };
    }

    /** Copies the tensor's elements to {@code arena} at {@code offset}. */
    static void store(Tensor t, MemorySegment arena, long offset) {
        switch (t.data()) {
            case float[] a -> MemorySegment.copy(a, 0, arena, ValueLayout.JAVA_FLOAT_UNALIGNED, offset, a.length);
            case double[] a -> MemorySegment.copy(a, 0, arena, ValueLayout.JAVA_DOUBLE_UNALIGNED, offset, a.length);
            case long[] a -> MemorySegment.copy(a, 0, arena, ValueLayout.JAVA_LONG_UNALIGNED, offset, a.length);
            case int[] a -> MemorySegment.copy(a, 0, arena, ValueLayout.JAVA_INT_UNALIGNED, offset, a.length);
            case short[] a -> MemorySegment.copy(a, 0, arena, ValueLayout.JAVA_SHORT_UNALIGNED, offset, a.length);
            case byte[] a -> MemorySegment.copy(a, 0, arena, ValueLayout.JAVA_BYTE, offset, a.length);
            default -> throw new GaleException("a tensor of " + t.dtype() + " has no fixed-size bytes");
        }
    }

    /** A new tensor of the given type and shape whose elements are read from {@code arena} at {@code offset}. */
    static Tensor load(DType dtype, long[] shape, MemorySegment arena, long offset) {
        int numel = Tensor.checkedNumel(shape);
        boolean complex = dtype == DType.COMPLEX64 || dtype == DType.COMPLEX128;
        Object data = Tensor.allocate(dtype, numel);
        int n = complex ? 2 * numel : numel;
        switch (data) {
            case float[] a -> MemorySegment.copy(arena, ValueLayout.JAVA_FLOAT_UNALIGNED, offset, a, 0, n);
            case double[] a -> MemorySegment.copy(arena, ValueLayout.JAVA_DOUBLE_UNALIGNED, offset, a, 0, n);
            case long[] a -> MemorySegment.copy(arena, ValueLayout.JAVA_LONG_UNALIGNED, offset, a, 0, n);
            case int[] a -> MemorySegment.copy(arena, ValueLayout.JAVA_INT_UNALIGNED, offset, a, 0, n);
            case short[] a -> MemorySegment.copy(arena, ValueLayout.JAVA_SHORT_UNALIGNED, offset, a, 0, n);
            case byte[] a -> MemorySegment.copy(arena, ValueLayout.JAVA_BYTE, offset, a, 0, n);
            default -> throw new GaleException("a tensor of " + dtype + " has no fixed-size bytes");
        }
        return new Tensor(dtype, shape, data);
    }
}
