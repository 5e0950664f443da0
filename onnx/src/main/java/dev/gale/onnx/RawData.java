package dev.gale.onnx;

import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * The little-endian byte form of numeric tensors that ONNX {@code raw_data} and external data files use, moved in
 * bounded chunks so that a tensor larger than 2 GiB of bytes (the limit of one Java buffer) reads and writes too.
 */
final class RawData {
    private RawData() {}

    private static final int CHUNK_BYTES = 1 << 24;

    /** Bytes per stored array element: complex tensors store two floats or doubles per element. */
    static int width(Object data) {
        return switch (data) {
            case float[] a -> 4;
            case double[] a -> 8;
            case short[] a -> 2;
            case byte[] a -> 1;
            case int[] a -> 4;
            case long[] a -> 8;
            default -> throw new GaleException("no raw byte form for " + data.getClass().getSimpleName());
        };
    }

    static long byteSize(Tensor t) {
        Object data = t.data();
        return (long) java.lang.reflect.Array.getLength(data) * width(data);
    }

    /** Array elements {@code [from, from + count)} as little-endian bytes in {@code buf} (which must fit them). */
    private static void put(Object data, int from, int count, ByteBuffer buf) {
        switch (data) {
            case float[] a -> buf.asFloatBuffer().put(a, from, count);
            case double[] a -> buf.asDoubleBuffer().put(a, from, count);
            case short[] a -> buf.asShortBuffer().put(a, from, count);
            case byte[] a -> buf.duplicate().put(a, from, count);
            case int[] a -> buf.asIntBuffer().put(a, from, count);
            case long[] a -> buf.asLongBuffer().put(a, from, count);
            default -> throw new IllegalStateException();
        }
    }

    private static void get(Object data, int from, int count, ByteBuffer buf) {
        switch (data) {
            case float[] a -> buf.asFloatBuffer().get(a, from, count);
            case double[] a -> buf.asDoubleBuffer().get(a, from, count);
            case short[] a -> buf.asShortBuffer().get(a, from, count);
            case byte[] a -> buf.duplicate().get(a, from, count);
            case int[] a -> buf.asIntBuffer().get(a, from, count);
            case long[] a -> buf.asLongBuffer().get(a, from, count);
            default -> throw new IllegalStateException();
        }
    }

    /** The tensor's bytes in one array; only for tensors under 2 GiB (inline {@code raw_data}). */
    static byte[] bytes(Tensor t) {
        long size = byteSize(t);
        if (size > Integer.MAX_VALUE - 8)
            throw new GaleException("tensor of shape " + java.util.Arrays.toString(t.shape()) + " has " + size
                    + " bytes, too many to store inline; use external data");
        ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        Object data = t.data();
        put(data, 0, java.lang.reflect.Array.getLength(data), buf);
        return buf.array();
    }

    /** Fills a freshly allocated tensor from little-endian bytes. */
    static void fill(Tensor t, ByteBuffer src) {
        Object data = t.data();
        get(data, 0, java.lang.reflect.Array.getLength(data), src.duplicate().order(ByteOrder.LITTLE_ENDIAN));
    }

    /** Writes the tensor's bytes to a channel, a chunk at a time. */
    static void write(Tensor t, WritableByteChannel ch) throws IOException {
        Object data = t.data();
        int w = width(data), len = java.lang.reflect.Array.getLength(data), per = CHUNK_BYTES / w;
        ByteBuffer buf = ByteBuffer.allocate(Math.min(len, per) * w).order(ByteOrder.LITTLE_ENDIAN);
        for (int from = 0; from < len; from += per) {
            int count = Math.min(per, len - from);
            buf.clear();
            put(data, from, count, buf);
            buf.limit(count * w);
            while (buf.hasRemaining()) ch.write(buf);
        }
    }

    /** Fills a freshly allocated tensor from {@code ch} starting at byte {@code offset}, a chunk at a time. */
    static void read(FileChannel ch, long offset, Tensor t, String what) throws IOException {
        Object data = t.data();
        int w = width(data), len = java.lang.reflect.Array.getLength(data), per = CHUNK_BYTES / w;
        ByteBuffer buf = ByteBuffer.allocate(Math.min(len, per) * w).order(ByteOrder.LITTLE_ENDIAN);
        long pos = offset;
        for (int from = 0; from < len; from += per) {
            int count = Math.min(per, len - from);
            buf.clear().limit(count * w);
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) throw new GaleException(what + ": external file ended early");
                pos += n;
            }
            buf.flip();
            get(data, from, count, buf);
        }
    }
}
