package dev.gale.ir.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The little-endian byte form of a numeric tensor's backing array (float[], double[], short[], byte[], int[] or
 * long[]; a complex tensor's array holds real, imaginary pairs), as {@code .npy} files and the text IR's hex literals
 * store it.
 */
public final class LittleEndian {
    private LittleEndian() {}

    /** Writes the array's elements as little-endian bytes from dst's position on; dst's position does not move. */
    public static void put(Object data, ByteBuffer dst) {
        ByteBuffer b = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (data) {
            case float[] a -> b.asFloatBuffer().put(a);
            case double[] a -> b.asDoubleBuffer().put(a);
            case short[] a -> b.asShortBuffer().put(a);
            case byte[] a -> b.put(a);
            case int[] a -> b.asIntBuffer().put(a);
            case long[] a -> b.asLongBuffer().put(a);
            default -> throw new IllegalArgumentException("no byte form for " + data.getClass().getSimpleName());
        }
    }

    /** Fills the array from little-endian bytes at src's position on; src's position does not move. */
    public static void get(ByteBuffer src, Object data) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (data) {
            case float[] a -> b.asFloatBuffer().get(a);
            case double[] a -> b.asDoubleBuffer().get(a);
            case short[] a -> b.asShortBuffer().get(a);
            case byte[] a -> b.get(a);
            case int[] a -> b.asIntBuffer().get(a);
            case long[] a -> b.asLongBuffer().get(a);
            default -> throw new IllegalArgumentException("no byte form for " + data.getClass().getSimpleName());
        }
    }
}
