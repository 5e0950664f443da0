package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tricky semantics of the elementwise kernels, against hand-computed or numpy-computed values. */
class ElementwiseKernelsTest {
    // ---- integer arithmetic ---------------------------------------------------------------------------------------

    @Test
    void integerDivTruncatesTowardZeroAndRefusesZero() {
        assertArrayEquals(new long[] {-3, -3, 3, 3}, run1("Div", i64(-7, 7, 7, -7), i64(2, -2, 2, -2)).toLongArray());
        Tensor wrapped = run1("Div", typed(DType.INT8, -128), typed(DType.INT8, -1));
        assertEquals(-128, wrapped.getLong(0));
        GaleException e = assertThrows(GaleException.class, () -> run1("Div", i64(1), i64(0)));
        assertTrue(e.getMessage().contains("division by zero"), e.getMessage());
    }

    @Test
    void modFollowsPythonSignsUnlessFmod() {
        Tensor x = typed(DType.INT32, -4, 7, 5, 4, -7, 8), y = typed(DType.INT32, 2, -3, 8, -2, 3, 5);
        assertArrayEquals(new long[] {0, -2, 5, 0, 2, 3}, run1("Mod", x, y).toLongArray());
        assertArrayEquals(new long[] {0, 1, 5, 0, -1, 3}, run1("Mod", attrs("fmod", 1), x, y).toLongArray());
        // float with fmod=0: numpy's np.mod(-4.5, 2.0) = 1.5; fmod keeps the dividend's sign
        assertEquals(1.5, run1("Mod", f64(-4.5), f64(2)).getDouble(0));
        assertEquals(-0.5, run1("Mod", attrs("fmod", 1), f64(-4.5), f64(2)).getDouble(0));
    }

    @Test
    void uint64UsesUnsignedDivisionAndComparison() {
        long big = -2L; // 2^64 - 2
        Tensor a = typed(DType.UINT64, big), b = typed(DType.UINT64, 2);
        assertEquals(Long.divideUnsigned(big, 2), run1("Div", a, b).getLong(0));
        assertEquals(1, run1("Greater", a, b).getLong(0));
        assertEquals(big, run1("Max", a, b).getLong(0));
        assertEquals(2, run1("Min", a, b).getLong(0));
        assertEquals(big, run1("Clip", a, typed(DType.UINT64, 1), null).getLong(0));
    }

    @Test
    void powKeepsTheBaseTypeAndIsExactForIntegers() {
        assertEquals(4052555153018976267L, run1("Pow", i64(3), i64(39)).getLong(0)); // beyond 2^53
        Tensor intBaseFloatExp = run1("Pow", typed(DType.INT32, 2, 3), f32(0.5f, 2));
        assertEquals(DType.INT32, intBaseFloatExp.dtype());
        assertArrayEquals(new long[] {1, 9}, intBaseFloatExp.toLongArray()); // 1.414 truncates to 1
        Tensor floatBaseIntExp = run1("Pow", f32(2, -2), typed(DType.UINT64, 10, 3));
        assertEquals(DType.FLOAT32, floatBaseIntExp.dtype());
        assertArrayEquals(new double[] {1024, -8}, floatBaseIntExp.toDoubleArray());
        assertArrayEquals(new long[] {0, 1, -1}, run1("Pow", i64(2, 1, -1), i64(-1, -5, -3)).toLongArray());
    }

    @Test
    void bitShiftDropsBitsPastTheWidth() {
        Tensor x = typed(DType.UINT8, 255, 1, 128);
        assertArrayEquals(new long[] {254, 0, 0}, run1("BitShift", attrs("direction", "LEFT"), x,
                typed(DType.UINT8, 1, 8, 200)).toLongArray());
        Tensor u64 = typed(DType.UINT64, -1L);
        Tensor right = run1("BitShift", attrs("direction", "RIGHT"), u64, typed(DType.UINT64, 1));
        assertEquals(Long.MAX_VALUE, right.getLong(0));
        assertThrows(GaleException.class, () -> run1("BitShift", attrs("direction", "UP"), x, x));
    }

    @Test
    void absAndNegWrapLikeTheElementType() {
        assertEquals(-128, run1("Abs", typed(DType.INT8, -128)).getLong(0));
        assertEquals(-128, run1("Neg", typed(DType.INT8, -128)).getLong(0));
        assertEquals(Long.MAX_VALUE, run1("Abs", i64(-Long.MAX_VALUE)).getLong(0));
    }

    // ---- float rules ----------------------------------------------------------------------------------------------

    @Test
    void roundIsHalfToEven() {
        assertArrayEquals(new double[] {0, 2, 2, -0.0, -2, 3}, run1("Round", f32(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.51f))
                .toDoubleArray());
    }

    @Test
    void comparisonsTreatSignedZerosAsEqualAndNanAsUnordered() {
        Tensor a = f32(-0.0f, Float.NaN, 1), b = f32(0.0f, Float.NaN, Float.NaN);
        assertArrayEquals(new long[] {1, 0, 0}, run1("GreaterOrEqual", a, b).toLongArray());
        assertArrayEquals(new long[] {1, 0, 0}, run1("Equal", a, b).toLongArray());
        assertEquals(DType.BOOL, run1("Less", a, b).dtype());
        assertArrayEquals(new long[] {1, 0}, run1("Equal", strings("a", "b"), strings("a", "c")).toLongArray());
    }

    @Test
    void variadicOpsBroadcastAndPropagateNan() {
        Tensor a = Tensor.ofFloats(s(2, 1), 1, 5), b = f32(3, Float.NaN), c = Tensor.ofFloats(s(), 4);
        Tensor max = run1("Max", a, b, c);
        assertArrayEquals(s(2, 2), max.shape());
        assertArrayEquals(new double[] {4, Double.NaN, 5, Double.NaN}, max.toDoubleArray());
        assertArrayEquals(new double[] {8, 11}, run1("Sum", f32(1, 2), f32(3, 4), f32(4, 5)).toDoubleArray());
        assertArrayEquals(new double[] {2, 3}, run1("Mean", f32(1, 2), f32(3, 4)).toDoubleArray());
    }

    @Test
    void clipBoundsAreOptionalAndMaxWins() {
        Tensor x = typed(DType.INT8, -5, 0, 5);
        assertArrayEquals(new long[] {-1, 0, 5}, run1("Clip", x, Tensor.scalarLong(DType.INT8, -1), null).toLongArray());
        assertArrayEquals(new long[] {-5, 0, 2}, run1("Clip", x, null, Tensor.scalarLong(DType.INT8, 2)).toLongArray());
        // min > max: every element becomes max (numpy's clip)
        Tensor lo = Tensor.scalar(DType.FLOAT32, 3), hi = Tensor.scalar(DType.FLOAT32, 1);
        assertArrayEquals(new double[] {1, 1, Double.NaN}, run1("Clip", f32(0, 5, Float.NaN), lo, hi).toDoubleArray());
    }

    @Test
    void whereBroadcastsAnyElementType() {
        Tensor cond = Tensor.ofBools(s(2, 1), true, false);
        Tensor y = run1("Where", cond, strings("a", "b"), Tensor.ofStrings(s(), "z"));
        assertArrayEquals(s(2, 2), y.shape());
        assertArrayEquals(new String[] {"a", "b", "z", "z"}, stringsOf(y));
    }

    @Test
    void preluSlopeBroadcastsOneWayOnly() {
        Tensor x = Tensor.ofFloats(s(2, 2), -1, 2, -3, 4);
        assertArrayEquals(new double[] {-0.5, 2, -1.5, 4}, run1("PRelu", x, f32(0.5f, 0.25f)).toDoubleArray());
        assertThrows(GaleException.class, () -> run1("PRelu", f32(-1), f32(0.5f, 0.25f)));
    }

    @Test
    void specialFunctionsMatchHighPrecisionValues() {
        double[][] erf = {{0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
                {3.5, 0.9999992569016276}, {-0.1, -0.1124629160182849}, {1e-10, 1.1283791670955126e-10}};
        for (double[] p : erf) assertEquals(p[1], ScalarMath.erf(p[0]), Math.abs(p[1]) * 4e-16, "erf " + p[0]);
        assertEquals(2.088487583762545e-45, ScalarMath.erfc(10), 2.088487583762545e-45 * 1e-13);
        assertEquals(0.881373587019543, ScalarMath.asinh(1), 1e-15);
        assertEquals(-1e-20, ScalarMath.asinh(-1e-20), 1e-35);
        assertEquals(1.3169578969248166, ScalarMath.acosh(2), 1e-15);
        assertEquals(0.5493061443340549, ScalarMath.atanh(0.5), 1e-15);
        assertEquals(Double.POSITIVE_INFINITY, ScalarMath.atanh(1));
    }

    @Test
    void geluExactAndTanh() {
        assertEquals(0.8413447460685429, run1("Gelu", f64(1)).getDouble(0), 1e-15);
        assertEquals(-7.619853024160527e-23, run1("Gelu", f64(-10)).getDouble(0), 1e-36);
        assertEquals(0.8411919906082768, run1("Gelu", attrs("approximate", "tanh"), f64(1)).getDouble(0), 1e-15);
        assertThrows(GaleException.class, () -> run1("Gelu", attrs("approximate", "erf"), f64(1)));
    }

    @Test
    void activationsFollowTheOnnxFormulas() {
        Tensor x = f64(-1, 0, 2);
        assertArrayEquals(new double[] {-0.1, 0, 2}, run1("LeakyRelu", attrs("alpha", 0.1f), x).toDoubleArray(), 1e-8);
        assertArrayEquals(new double[] {Math.expm1(-1), 0, 2}, run1("Elu", x).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0, 0, 2}, run1("ThresholdedRelu", x).toDoubleArray());
        assertArrayEquals(new double[] {-1, 0, 2}, run1("Shrink", x).toDoubleArray());
        assertArrayEquals(new double[] {-0.5, 0, 1.5}, run1("Shrink", attrs("bias", 0.5f), x).toDoubleArray());
        assertArrayEquals(new double[] {-1 / 3.0, 0, 5 / 3.0}, run1("HardSwish", x).toDoubleArray(),
                1e-15);
        assertArrayEquals(new long[] {0, 1, 0}, run1("IsInf", attrs("detect_positive", 0),
                f32(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN)).toLongArray());
        assertEquals(2 * Math.tanh(Math.log1p(Math.exp(2))), run1("Mish", x).getDouble(2), 1e-15);
        assertEquals(1000.0, run1("Softplus", f64(1000)).getDouble(0)); // no overflow
    }

    // ---- casts ----------------------------------------------------------------------------------------------------

    @Test
    void floatToStringMatchesNumpyStr() {
        Tensor x = f32(0.039187793f, 1, 1e-5f, 1e-4f, 1.5e16f, 123456f, -0.0f, Float.NaN, Float.NEGATIVE_INFINITY,
                0.1f);
        assertArrayEquals(new String[] {"0.039187793", "1.0", "1e-05", "1e-04", "1.5e+16", "123456.0", "-0.0", "nan",
                "-inf", "0.1"}, stringsOf(Casts.cast(x, DType.STRING)));
        assertArrayEquals(new String[] {"0.1", "1e+100", "0.30000000000000004"},
                stringsOf(Casts.cast(f64(0.1, 1e100, 0.1 + 0.2), DType.STRING)));
        Tensor half = Casts.cast(f32(0.1f, 1e-4f, 65504, 2049, 0.333f), DType.FLOAT16);
        assertArrayEquals(new String[] {"0.1", "0.0001", "65500.0", "2048.0", "0.333"},
                stringsOf(Casts.cast(half, DType.STRING)));
        assertArrayEquals(new String[] {"True", "False"},
                stringsOf(Casts.cast(Tensor.ofBools(s(2), true, false), DType.STRING)));
        assertArrayEquals(new String[] {"18446744073709551615"},
                stringsOf(Casts.cast(typed(DType.UINT64, -1L), DType.STRING)));
    }

    @Test
    void stringToNumbers() {
        Tensor x = strings("NaN", "INF", "+INF", "-inf", " 1e3 ", "0.47892547");
        assertArrayEquals(new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, 1000, 0.47892547f}, Casts.cast(x, DType.FLOAT32).toDoubleArray());
        assertEquals(9007199254740993L, Casts.cast(strings("9007199254740993"), DType.INT64).getLong(0));
        assertEquals(2, Casts.cast(strings("2.7"), DType.INT32).getLong(0));
        assertArrayEquals(new long[] {1, 0, 1}, Casts.cast(strings("true", "0", "2"), DType.BOOL).toLongArray());
        assertThrows(GaleException.class, () -> Casts.cast(strings("hello"), DType.FLOAT32));
    }

    @Test
    void floatToIntegerTruncatesAndWraps() {
        assertArrayEquals(new long[] {44, -1, 0}, Casts.cast(f32(300.7f, -1.5f, Float.NaN), DType.INT8).toLongArray());
        assertArrayEquals(new long[] {1, 0, 1}, Casts.cast(f32(0.1f, 0, Float.NaN), DType.BOOL).toLongArray());
    }

    @Test
    void narrowFloatsRoundOnceToNearestEven() {
        // 1 + 2^-11 + 2^-40 lies just above the float16 midpoint of 1 and 1 + 2^-10; rounding through a nearest
        // float32 would land exactly on the midpoint and round down to 1.
        double d = 1 + Math.scalb(1.0, -11) + Math.scalb(1.0, -40);
        assertEquals(1 + Math.scalb(1.0, -10), Casts.cast(f64(d), DType.FLOAT16).getDouble(0));
        assertEquals(1 + Math.scalb(1.0, -7), Casts.cast(f64(1 + Math.scalb(1.0, -8) + Math.scalb(1.0, -40)),
                DType.BFLOAT16).getDouble(0));
        // float32 to bfloat16: 0.48033667 -> 0x3ef6 (0.48046875), to nearest rather than truncated
        assertEquals(0.48046875, Casts.cast(f32(0.48033667f), DType.BFLOAT16).getDouble(0));
        assertEquals(1.8446744073709552E19, Casts.cast(typed(DType.UINT64, -1L), DType.FLOAT32).getDouble(0));
        assertEquals(9.223372036854775807E18, Casts.cast(typed(DType.UINT64, Long.MIN_VALUE + 1), DType.FLOAT64)
                .getDouble(0));
    }

    @Test
    void castLikeTakesTheSecondInputsType() {
        Tensor y = run1("CastLike", f32(1.9f, -1.9f), typed(DType.INT16));
        assertEquals(DType.INT16, y.dtype());
        assertArrayEquals(new long[] {1, -1}, y.toLongArray());
        Tensor z = run1("Cast", attrs("to", (long) DType.FLOAT64.onnxCode()), typed(DType.UINT8, 255));
        assertEquals(255.0, z.getDouble(0));
    }
}
