package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * Element type conversion for Cast and CastLike, between every pair of non-complex element types, following numpy's
 * {@code astype} (what the ONNX tests are generated with):
 * <ul>
 *   <li>float to float rounds once, to nearest even (float64 to float16 or bfloat16 goes through a round-to-odd
 *       float32, which makes the two roundings equal one);</li>
 *   <li>float to integer truncates toward zero and wraps to the type's width; NaN becomes 0; anything nonzero
 *       (NaN included) is {@code true};</li>
 *   <li>integer to float rounds to nearest even (exact for magnitudes below 2^53);</li>
 *   <li>numbers to strings are numpy's {@code str()}: the shortest decimal that reads back as the same value of the
 *       source type, positional between 1e-4 and 1e16 ({@code 0.039187793}, {@code 1.0}), else scientific
 *       ({@code 1e-05}, {@code 3.4e+38}); {@code nan}, {@code inf}, {@code -inf}; bools are {@code True} and
 *       {@code False};</li>
 *   <li>strings to numbers parse decimal and scientific notation and, in any letter case, {@code NaN}, {@code INF},
 *       {@code +INF}, {@code -INF}; a string that is not a number is an error.</li>
 * </ul>
 */
public final class Casts {
    private Casts() {}

    /** {@code x} converted to element type {@code to}; {@code x} itself when it already has that type. */
    public static Tensor cast(Tensor x, DType to) {
        if (isComplex(x.dtype()) || isComplex(to))
            throw new GaleException("cannot cast " + x.dtype() + " to " + to + ": complex types are not supported");
        if (x.dtype() == to) return x;
        Tensor y = Tensor.zeros(to, x.shape());
        DType from = x.dtype();
        for (int i = 0; i < x.numel(); i++) {
            if (to == DType.STRING) y.setString(i, toText(x, i));
            else if (from == DType.STRING) fromText(x.getString(i), y, i);
            else if (from.isFloat()) storeDouble(y, i, x.getDouble(i));
            else storeInteger(y, i, x.getLong(i), from == DType.UINT64);
        }
        return y;
    }

    private static boolean isComplex(DType t) { return t == DType.COMPLEX64 || t == DType.COMPLEX128; }

    /** Stores {@code v} in element {@code i} of {@code y}, rounding once to nearest even for float16 and bfloat16. */
    static void storeDouble(Tensor y, int i, double v) {
        switch (y.dtype()) {
            case FLOAT16 -> ((short[]) y.data())[i] = Float.floatToFloat16(roundToOddFloat(v));
            case BFLOAT16 -> ((short[]) y.data())[i] = Tensor.floatToBf16(roundToOddFloat(v));
            default -> y.setDouble(i, v);
        }
    }

    /**
     * {@code v} rounded to float32 with "round to odd": truncated toward zero, with the last bit set when inexact. A
     * second rounding to a format at least two bits narrower then gives the correctly rounded result.
     */
    static float roundToOddFloat(double v) {
        float f = (float) v;
        if (Double.isNaN(v) || (double) f == v) return f;
        int bits = Float.floatToRawIntBits(f);
        if (Math.abs((double) f) > Math.abs(v)) bits -= 1; // rounded away from zero: step back one ulp
        return Float.intBitsToFloat(bits | 1);
    }

    private static void storeInteger(Tensor y, int i, long v, boolean unsigned) {
        switch (y.dtype()) {
            case FLOAT64 -> y.setDouble(i, unsigned ? unsignedToDouble(v) : (double) v);
            case FLOAT32 -> y.setDouble(i, unsigned ? (float) unsignedToDouble(v) : (float) v);
            case FLOAT16, BFLOAT16 -> storeDouble(y, i, unsigned ? unsignedToDouble(v) : (double) v);
            default -> y.setLong(i, v);
        }
    }

    /** The uint64 whose bits are {@code v}, as the nearest double. */
    static double unsignedToDouble(long v) {
        if (v >= 0) return v;
        // Halve with the lost bit kept as a sticky bit, so the one rounding in the conversion is the right one.
        return (double) ((v >>> 1) | (v & 1)) * 2.0;
    }

    // ---- numbers to text ------------------------------------------------------------------------------------------

    static String toText(Tensor x, int i) {
        DType t = x.dtype();
        if (t == DType.BOOL) return x.getBool(i) ? "True" : "False";
        if (t == DType.UINT64) return Long.toUnsignedString(x.getLong(i));
        if (t.isInteger()) return Long.toString(x.getLong(i));
        return formatFloat(x.getDouble(i), t);
    }

    /** numpy's {@code str()} of a float of type {@code t} whose value is {@code v}. */
    public static String formatFloat(double v, DType t) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return Double.doubleToRawLongBits(v) < 0 ? "-0.0" : "0.0";
        BigDecimal d = shortestDecimal(v, t).stripTrailingZeros();
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e16) {
            String s = d.toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - d.scale();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (v < 0 ? "-" : "") + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "")
                + Math.abs(exp);
    }

    /** The shortest decimal that reads back as {@code v} in type {@code t}; the closest one among equally short. */
    static BigDecimal shortestDecimal(double v, DType t) {
        switch (t) {
            case FLOAT64 -> { return new BigDecimal(Double.toString(v)); }
            case FLOAT32 -> { return new BigDecimal(Float.toString((float) v)); }
            default -> {
                BigDecimal exact = new BigDecimal(v);
                for (int p = 1; p <= 17; p++) {
                    BigDecimal best = null;
                    for (RoundingMode m : new RoundingMode[] {RoundingMode.HALF_EVEN, RoundingMode.FLOOR,
                            RoundingMode.CEILING}) {
                        BigDecimal c = exact.round(new MathContext(p, m));
                        if (!readsBackAs(c, v, t)) continue;
                        if (best == null || c.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)
                            best = c;
                    }
                    if (best != null) return best;
                }
                return exact;
            }
        }
    }

    private static boolean readsBackAs(BigDecimal c, double v, DType t) {
        Tensor probe = Tensor.zeros(t);
        storeDouble(probe, 0, c.doubleValue());
        return probe.getDouble(0) == v;
    }

    // ---- text to numbers ------------------------------------------------------------------------------------------

    private static void fromText(String s, Tensor y, int i) {
        DType t = y.dtype();
        String trimmed = s.strip();
        if (t == DType.FLOAT32) {
            y.setDouble(i, parseFloat32(trimmed, t));
        } else if (t.isFloat()) {
            storeDouble(y, i, parseDouble(trimmed, t));
        } else if (t == DType.BOOL && (trimmed.equalsIgnoreCase("true") || trimmed.equalsIgnoreCase("false"))) {
            y.setLong(i, trimmed.equalsIgnoreCase("true") ? 1 : 0);
        } else {
            Long exact = parseInteger(trimmed, t == DType.UINT64);
            if (exact != null) y.setLong(i, exact);
            else storeDouble(y, i, parseDouble(trimmed, t));
        }
    }

    private static Long parseInteger(String s, boolean unsigned) {
        try {
            String digits = s.startsWith("+") ? s.substring(1) : s;
            return unsigned && !digits.startsWith("-") ? Long.parseUnsignedLong(digits) : Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static float parseFloat32(String s, DType t) {
        Double special = special(s);
        if (special != null) return special.floatValue();
        try {
            return Float.parseFloat(s); // rounds the decimal once, straight to float32
        } catch (NumberFormatException e) {
            throw notANumber(s, t);
        }
    }

    private static double parseDouble(String s, DType t) {
        Double special = special(s);
        if (special != null) return special;
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw notANumber(s, t);
        }
    }

    /** NaN and the infinities, spelled as ONNX and numpy accept them, in any letter case. */
    private static Double special(String s) {
        String u = s.toLowerCase(Locale.ROOT);
        boolean neg = u.startsWith("-");
        if (u.startsWith("+") || neg) u = u.substring(1);
        return switch (u) {
            case "nan" -> Double.NaN;
            case "inf", "infinity" -> neg ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            default -> null;
        };
    }

    private static GaleException notANumber(String s, DType t) {
        return new GaleException("cannot cast the string '" + s + "' to " + t + ": it is not a number");
    }
}
