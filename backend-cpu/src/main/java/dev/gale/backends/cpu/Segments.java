package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks done once per kernel call, so that the inner loops can trust their indices: a bad size, stride or
 * offset is an {@link IllegalArgumentException} naming the operand, never an out-of-bounds access half-way through.
 */
final class Segments {
    private Segments() {}

    /** Elements {@code [off, off + count)} lie inside {@code s}. */
    static void checkRange(String what, MemorySegment s, long off, long count) {
        if (s == null) throw new IllegalArgumentException(what + " is null");
        long size = s.byteSize() / Float.BYTES;
        if (off < 0 || count < 0 || off + count > size)
            throw new IllegalArgumentException(what + ": elements [" + off + ", " + (off + count) + ") are outside its "
                    + size + "-float segment");
    }

    /** A {@code rows x cols} row-major matrix with row stride {@code ld}, {@code batch} times {@code stride} apart. */
    static void checkMatrix(String what, MemorySegment s, long off, long rows, long cols, long ld, long batch, long stride) {
        if (rows == 0 || cols == 0) return;
        if (ld < cols && rows > 1)
            throw new IllegalArgumentException(what + ": leading dimension " + ld + " is less than its " + cols + " columns");
        if (stride < 0) throw new IllegalArgumentException(what + ": negative batch stride " + stride);
        long span = Math.addExact(Math.multiplyExact(rows - 1, ld), cols);
        checkRange(what, s, off, Math.addExact(Math.multiplyExact(batch - 1, stride), span));
    }
}
