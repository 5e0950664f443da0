package dev.gale.ir.text;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.LittleEndian;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

/**
 * Tensor data in the text IR: decimal lists (exact: each element reads back to the same bits), hex of the raw
 * little-endian bytes, and the {@code elided} summary. The tensor type is printed by the caller.
 */
final class TensorText {
    private TensorText() {}

    /** A bad element in a literal; {@code index} is the element's position (-1: the literal as a whole). */
    static final class ElementError extends RuntimeException {
        final int index;

        ElementError(int index, String message) {
            super(message);
            this.index = index;
        }
    }

    private static final int SUMMARY_VALUES = 4;

    /** The data part of a tensor literal, chosen by {@code options} (see {@link PrintOptions}). */
    static void appendData(StringBuilder sb, Tensor t, PrintOptions options) {
        boolean small = t.numel() <= options.maxDecimalElements();
        if (t.dtype() == DType.STRING) {
            if (small || options.inlineWeights()) appendDecimals(sb, t, t.numel());
            else appendSummary(sb, t);
        } else if (small && decimalIsExact(t)) {
            appendDecimals(sb, t, t.numel());
        } else if (small || options.inlineWeights()) {
            sb.append("0x").append(HexFormat.of().formatHex(littleEndianBytes(t)));
        } else {
            appendSummary(sb, t);
        }
    }

    private static void appendDecimals(StringBuilder sb, Tensor t, int count) {
        sb.append('[');
        int n = complex(t.dtype()) ? 2 * count : count;
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(", ");
            sb.append(element(t, i));
        }
        sb.append(']');
    }

    /** Element {@code i} of the backing array as text (complex tensors: component {@code i}). */
    private static String element(Tensor t, int i) {
        return switch (t.dtype()) {
            case FLOAT32, COMPLEX64 -> TextSyntax.f32(t.floats()[i]);
            case FLOAT64, COMPLEX128 -> TextSyntax.f64(t.doubles()[i]);
            case FLOAT16, BFLOAT16 -> TextSyntax.f32((float) t.getDouble(i));
            case BOOL -> t.getLong(i) != 0 ? "true" : "false";
            case UINT64 -> Long.toUnsignedString(t.getLong(i));
            case STRING -> TextSyntax.quote(t.getString(i));
            default -> Long.toString(t.getLong(i));
        };
    }

    /** Whether printing and parsing each element keeps its bits (NaN payloads and odd bool bytes do not survive). */
    private static boolean decimalIsExact(Tensor t) {
        Object data = t.data();
        int n = java.lang.reflect.Array.getLength(data);
        for (int i = 0; i < n; i++) {
            boolean ok = switch (t.dtype()) {
                case FLOAT32, COMPLEX64 -> {
                    float v = t.floats()[i];
                    yield !Float.isNaN(v) || Float.floatToRawIntBits(v) == Float.floatToRawIntBits(Float.NaN);
                }
                case FLOAT64, COMPLEX128 -> {
                    double v = t.doubles()[i];
                    yield !Double.isNaN(v) || Double.doubleToRawLongBits(v) == Double.doubleToRawLongBits(Double.NaN);
                }
                case FLOAT16 -> halfBits(TextSyntax.parseF32(element(t, i))) == ((short[]) data)[i];
                case BFLOAT16 -> Tensor.floatToBf16(TextSyntax.parseF32(element(t, i))) == ((short[]) data)[i];
                case BOOL -> (((byte[]) data)[i] & 0xfe) == 0;
                default -> true;
            };
            if (!ok) return false;
        }
        return true;
    }

    private static short halfBits(float f) { return Float.floatToFloat16(f); }

    private static boolean complex(DType t) { return t == DType.COMPLEX64 || t == DType.COMPLEX128; }

    private static void appendSummary(StringBuilder sb, Tensor t) {
        sb.append("elided {");
        if (t.dtype() != DType.STRING && t.numel() > 0) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < t.numel(); i++) {
                double v = t.getDouble(i);
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
            }
            sb.append("min = ").append(stat(t.dtype(), min)).append(", max = ").append(stat(t.dtype(), max))
                    .append(", mean = ").append(TextSyntax.f32((float) (sum / t.numel()))).append(", ");
        }
        sb.append("first = ");
        appendDecimals(sb, t, Math.min(SUMMARY_VALUES, t.numel()));
        sb.append('}');
    }

    private static String stat(DType t, double v) {
        if (t.isFloat() || complex(t)) return TextSyntax.f32((float) v);
        return t == DType.UINT64 && v >= 0x1p63 ? TextSyntax.f64(v) : Long.toString((long) v);
    }

    static byte[] littleEndianBytes(Tensor t) {
        Object data = t.data();
        int n = java.lang.reflect.Array.getLength(data);
        int width = t.dtype().byteSize() / (complex(t.dtype()) ? 2 : 1);
        ByteBuffer b = ByteBuffer.allocate(n * width);
        LittleEndian.put(data, b);
        return b.array();
    }

    /** A tensor from hex digits of its little-endian bytes (without the {@code 0x}). */
    static Tensor fromHex(DType dtype, long[] shape, String digits) {
        if (dtype == DType.STRING)
            throw new ElementError(-1, "string tensors cannot be written in hex; list the strings: [\"a\", ...]");
        int numel = Tensor.checkedNumel(shape);
        int n = complex(dtype) ? 2 * numel : numel;
        int width = dtype.byteSize() / (complex(dtype) ? 2 : 1);
        long expected = 2L * n * width;
        if (digits.length() != expected)
            throw new ElementError(-1, "hex data for " + shapeText(shape) + " " + dtype + " needs " + expected
                    + " hex digits (" + n * (long) width + " bytes), got " + digits.length());
        Object data = Tensor.allocate(dtype, numel);
        LittleEndian.get(ByteBuffer.wrap(HexFormat.of().parseHex(digits)), data);
        return new Tensor(dtype, shape, data);
    }

    /** A tensor from element tokens as written (numbers, {@code inf}/{@code nan}, true/false, quoted strings). */
    static Tensor fromDecimals(DType dtype, long[] shape, List<String> elems) {
        int numel = Tensor.checkedNumel(shape);
        int n = complex(dtype) ? 2 * numel : numel;
        if (elems.size() != n)
            throw new ElementError(-1, "tensor of shape " + shapeText(shape) + " needs " + n + " values"
                    + (complex(dtype) ? " (real, imaginary pairs)" : "") + ", got " + elems.size());
        Tensor t = Tensor.zeros(dtype, shape);
        Object data = t.data();
        for (int i = 0; i < n; i++) {
            String s = elems.get(i);
            try {
                switch (dtype) {
                    case FLOAT32, COMPLEX64 -> ((float[]) data)[i] = TextSyntax.parseF32(number(s));
                    case FLOAT64, COMPLEX128 -> ((double[]) data)[i] = TextSyntax.parseF64(number(s));
                    case FLOAT16 -> ((short[]) data)[i] = halfBits(TextSyntax.parseF32(number(s)));
                    case BFLOAT16 -> ((short[]) data)[i] = Tensor.floatToBf16(TextSyntax.parseF32(number(s)));
                    case BOOL -> ((byte[]) data)[i] = switch (s) {
                        case "true", "1" -> (byte) 1;
                        case "false", "0" -> (byte) 0;
                        default -> throw new ElementError(i, "expected true or false, got " + s);
                    };
                    case STRING -> {
                        if (!s.startsWith("\"")) throw new ElementError(i, "expected a quoted string, got " + s);
                        t.setString(i, TextSyntax.unquote(s));
                    }
                    default -> t.setLong(i, integer(s, dtype, i));
                }
            } catch (NumberFormatException e) {
                throw new ElementError(i, "expected a number of type " + dtype + ", got " + s);
            }
        }
        return t;
    }

    private static String number(String s) {
        if (s.startsWith("\"") || s.equals("true") || s.equals("false")) throw new NumberFormatException(s);
        return s;
    }

    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static long integer(String s, DType t, int i) {
        if (!s.matches("-?[0-9]+")) throw new ElementError(i, "expected an integer of type " + t + ", got " + s);
        BigInteger v = new BigInteger(s);
        BigInteger min, max;
        switch (t) {
            case INT8 -> { min = BigInteger.valueOf(Byte.MIN_VALUE); max = BigInteger.valueOf(Byte.MAX_VALUE); }
            case INT16 -> { min = BigInteger.valueOf(Short.MIN_VALUE); max = BigInteger.valueOf(Short.MAX_VALUE); }
            case INT32 -> { min = BigInteger.valueOf(Integer.MIN_VALUE); max = BigInteger.valueOf(Integer.MAX_VALUE); }
            case INT64 -> { min = BigInteger.valueOf(Long.MIN_VALUE); max = BigInteger.valueOf(Long.MAX_VALUE); }
            case UINT8 -> { min = BigInteger.ZERO; max = BigInteger.valueOf(255); }
            case UINT16 -> { min = BigInteger.ZERO; max = BigInteger.valueOf(65535); }
            case UINT32 -> { min = BigInteger.ZERO; max = BigInteger.valueOf(0xffffffffL); }
            default -> { min = BigInteger.ZERO; max = U64_MAX; }
        }
        if (v.compareTo(min) < 0 || v.compareTo(max) > 0)
            throw new ElementError(i, s + " is out of range for " + t + " (" + min + " to " + max + ")");
        return v.longValue();
    }

    static String shapeText(long[] shape) { return dev.gale.ir.Shape.of(shape).toString(); }
}
