package dev.gale.ir;

import java.util.Arrays;

/**
 * A dense, row-major tensor held in a Java array chosen by element type:
 * {@code float[]} (f32; c64 interleaved re/im), {@code double[]} (f64; c128 interleaved), {@code short[]} (f16 and
 * bf16 as raw bits, i16, u16), {@code byte[]} (i8, u8, bool), {@code int[]} (i32, u32), {@code long[]} (i64, u64),
 * {@code String[]} (str).
 *
 * <p>Element access through {@link #getDouble}/{@link #setDouble} and {@link #getLong}/{@link #setLong} converts to and
 * from every type with the usual rounding (float32 rounding, integer truncation and wrap-around, bool as 0/1), which
 * keeps the reference interpreter short. A tensor is written only by the code that created it, before it is shared;
 * after that it is treated as immutable.
 */
public final class Tensor {
    /** Java arrays stop at 2^31-1 elements; larger tensors are refused before any allocation. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final DType dtype;
    private final long[] shape;
    private final Object data;
    private final int numel;

    public Tensor(DType dtype, long[] shape, Object data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = checkedNumel(this.shape);
        int expected = numel * (dtype == DType.COMPLEX64 || dtype == DType.COMPLEX128 ? 2 : 1);
        int actual = java.lang.reflect.Array.getLength(data);
        if (actual != expected || !storageClass(dtype).isInstance(data))
            throw new GaleException("tensor of type " + dtype + " and shape " + Arrays.toString(shape) + " needs "
                    + expected + " " + storageClass(dtype).getComponentType() + " elements, got " + actual + " "
                    + data.getClass().getComponentType());
        this.data = data;
    }

    public static Class<?> storageClass(DType t) {
        return switch (t) {
            case FLOAT32, COMPLEX64 -> float[].class;
            case FLOAT64, COMPLEX128 -> double[].class;
            case FLOAT16, BFLOAT16, INT16, UINT16 -> short[].class;
            case INT8, UINT8, BOOL -> byte[].class;
            case INT32, UINT32 -> int[].class;
            case INT64, UINT64 -> long[].class;
            case STRING -> String[].class;
        };
    }

    /** Element count of {@code shape}, refusing negative sizes and tensors too large to hold. */
    public static int checkedNumel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new GaleException("negative dimension in shape " + Arrays.toString(shape));
            if (d != 0 && n > MAX_ELEMENTS / d)
                throw new GaleException("tensor of shape " + Arrays.toString(shape) + " is too large ("
                        + "more than " + MAX_ELEMENTS + " elements)");
            n *= d;
        }
        return (int) n;
    }

    public static Object allocate(DType t, int numel) {
        return switch (t) {
            case FLOAT32 -> new float[numel];
            case COMPLEX64 -> new float[2 * numel];
            case FLOAT64 -> new double[numel];
            case COMPLEX128 -> new double[2 * numel];
            case FLOAT16, BFLOAT16, INT16, UINT16 -> new short[numel];
            case INT8, UINT8, BOOL -> new byte[numel];
            case INT32, UINT32 -> new int[numel];
            case INT64, UINT64 -> new long[numel];
            case STRING -> {
                String[] s = new String[numel];
                Arrays.fill(s, "");
                yield s;
            }
        };
    }

    public static Tensor zeros(DType t, long... shape) {
        return new Tensor(t, shape, allocate(t, checkedNumel(shape)));
    }

    public static Tensor ofFloats(long[] shape, float... v) { return new Tensor(DType.FLOAT32, shape, v.clone()); }

    public static Tensor ofDoubles(long[] shape, double... v) { return new Tensor(DType.FLOAT64, shape, v.clone()); }

    public static Tensor ofLongs(long[] shape, long... v) { return new Tensor(DType.INT64, shape, v.clone()); }

    public static Tensor ofInts(long[] shape, int... v) { return new Tensor(DType.INT32, shape, v.clone()); }

    public static Tensor ofStrings(long[] shape, String... v) { return new Tensor(DType.STRING, shape, v.clone()); }

    public static Tensor ofBools(long[] shape, boolean... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) (v[i] ? 1 : 0);
        return new Tensor(DType.BOOL, shape, b);
    }

    /** A 1-D int64 tensor, the form shape and axes operands take. */
    public static Tensor vector(long... v) { return ofLongs(new long[] {v.length}, v); }

    public static Tensor scalar(DType t, double v) {
        Tensor s = zeros(t);
        s.setDouble(0, v);
        return s;
    }

    public static Tensor scalarLong(DType t, long v) {
        Tensor s = zeros(t);
        s.setLong(0, v);
        return s;
    }

    public DType dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    public long dim(int i) { return shape[i]; }

    public int rank() { return shape.length; }

    public int numel() { return numel; }

    /** The backing array; see the class comment for its type. */
    public Object data() { return data; }

    public float[] floats() { return (float[]) data; }

    public double[] doubles() { return (double[]) data; }

    public long[] longs() { return (long[]) data; }

    public Type.TensorType type() { return Type.tensor(dtype, shape); }

    /** The same data under another shape with the same element count. */
    public Tensor reshape(long... newShape) {
        if (checkedNumel(newShape) != numel)
            throw new GaleException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        return new Tensor(dtype, newShape, data);
    }

    public double getDouble(int i) {
        return switch (dtype) {
            case FLOAT32 -> ((float[]) data)[i];
            case FLOAT64 -> ((double[]) data)[i];
            case FLOAT16 -> Float.float16ToFloat(((short[]) data)[i]);
            case BFLOAT16 -> Float.intBitsToFloat((((short[]) data)[i] & 0xffff) << 16);
            case INT16 -> ((short[]) data)[i];
            case UINT16 -> ((short[]) data)[i] & 0xffff;
            case INT8 -> ((byte[]) data)[i];
            case UINT8, BOOL -> ((byte[]) data)[i] & 0xff;
            case INT32 -> ((int[]) data)[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) data)[i]);
            case INT64 -> ((long[]) data)[i];
            case UINT64 -> {
                long v = ((long[]) data)[i];
                yield v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
            }
            case COMPLEX64 -> ((float[]) data)[2 * i];
            case COMPLEX128 -> ((double[]) data)[2 * i];
            case STRING -> throw new GaleException("string tensor read as a number");
        };
    }

    public void setDouble(int i, double v) {
        switch (dtype) {
            case FLOAT32 -> ((float[]) data)[i] = (float) v;
            case FLOAT64 -> ((double[]) data)[i] = v;
            case FLOAT16 -> ((short[]) data)[i] = Float.floatToFloat16((float) v);
            case BFLOAT16 -> ((short[]) data)[i] = floatToBf16((float) v);
            case BOOL -> ((byte[]) data)[i] = (byte) (v != 0 ? 1 : 0);
            case COMPLEX64 -> ((float[]) data)[2 * i] = (float) v;
            case COMPLEX128 -> ((double[]) data)[2 * i] = v;
            case UINT64 -> setLong(i, v >= 9.223372036854775807E18 ? (long) (v - 9.223372036854775807E18) + Long.MIN_VALUE
                    : (long) v);
            case STRING -> throw new GaleException("number written into a string tensor");
            default -> setLong(i, Double.isNaN(v) ? 0 : (long) v);
        }
    }

    public long getLong(int i) {
        return switch (dtype) {
            case INT64, UINT64 -> ((long[]) data)[i];
            case INT32 -> ((int[]) data)[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) data)[i]);
            case INT16 -> ((short[]) data)[i];
            case UINT16 -> ((short[]) data)[i] & 0xffff;
            case INT8 -> ((byte[]) data)[i];
            case UINT8, BOOL -> ((byte[]) data)[i] & 0xff;
            default -> (long) getDouble(i);
        };
    }

    /** Stores {@code v} with wrap-around to the element type's width (bool stores {@code v != 0}). */
    public void setLong(int i, long v) {
        switch (dtype) {
            case INT64, UINT64 -> ((long[]) data)[i] = v;
            case INT32, UINT32 -> ((int[]) data)[i] = (int) v;
            case INT16, UINT16 -> ((short[]) data)[i] = (short) v;
            case INT8, UINT8 -> ((byte[]) data)[i] = (byte) v;
            case BOOL -> ((byte[]) data)[i] = (byte) (v != 0 ? 1 : 0);
            default -> setDouble(i, dtype == DType.UINT64 ? v : (double) v);
        }
    }

    public boolean getBool(int i) { return getLong(i) != 0; }

    public String getString(int i) { return ((String[]) data)[i]; }

    public void setString(int i, String s) { ((String[]) data)[i] = s; }

    /** Copies element {@code si} of {@code src} (same dtype) to element {@code di} of this tensor, bit for bit. */
    public void copyElement(int di, Tensor src, int si) {
        if (dtype == DType.COMPLEX64 || dtype == DType.COMPLEX128) {
            System.arraycopy(src.data, 2 * si, data, 2 * di, 2);
        } else {
            switch (data) {
                case float[] a -> a[di] = ((float[]) src.data)[si];
                case double[] a -> a[di] = ((double[]) src.data)[si];
                case short[] a -> a[di] = ((short[]) src.data)[si];
                case byte[] a -> a[di] = ((byte[]) src.data)[si];
                case int[] a -> a[di] = ((int[]) src.data)[si];
                case long[] a -> a[di] = ((long[]) src.data)[si];
                case String[] a -> a[di] = ((String[]) src.data)[si];
                default -> throw new IllegalStateException();
            }
        }
    }

    public long[] toLongArray() {
        long[] r = new long[numel];
        for (int i = 0; i < numel; i++) r[i] = getLong(i);
        return r;
    }

    public double[] toDoubleArray() {
        double[] r = new double[numel];
        for (int i = 0; i < numel; i++) r[i] = getDouble(i);
        return r;
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Row-major strides (in elements) of a shape. */
    public static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Same type, shape and bits (so NaN equals NaN): the structural equality graph comparison needs. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && Arrays.deepEquals(new Object[] {data}, new Object[] {t.data});
    }

    @Override
    public int hashCode() { return 31 * dtype.hashCode() + Arrays.hashCode(shape); }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("tensor<").append(Shape.of(shape)).append(',').append(dtype).append(">");
        if (numel <= 8) {
            sb.append('{');
            for (int i = 0; i < numel; i++) {
                if (i > 0) sb.append(", ");
                sb.append(dtype == DType.STRING ? getString(i) : dtype.isFloat() ? Double.toString(getDouble(i))
                        : Long.toString(getLong(i)));
            }
            sb.append('}');
        }
        return sb.toString();
    }
}
