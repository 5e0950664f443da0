package dev.gale.ir.text;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Tensor literals read back bit for bit, in decimal and in hex, for every element type. */
class TensorTextTest {
    static Tensor roundTrip(Tensor t, PrintOptions options) {
        Graph g = new Graph("g", List.of(), List.of(new Value("t", t.type())), List.of(), Map.of("t", t));
        String text = TextPrinter.print(Model.of(g), options);
        Tensor back = TextParser.parseUnverified(text, "t.gir").graph().initializers().get("t");
        assertEquals(t, back, text);
        if (t.dtype() != DType.STRING)
            assertArrayEquals(TensorText.littleEndianBytes(t), TensorText.littleEndianBytes(back), "bits of " + text);
        return back;
    }

    static Tensor random(DType dtype, int n, long seed) {
        Random r = new Random(seed);
        Tensor t = Tensor.zeros(dtype, n);
        for (int i = 0; i < n; i++) {
            switch (dtype) {
                case STRING -> t.setString(i, "s" + r.nextInt() + (i % 3 == 0 ? "\"\\\n" : "é"));
                case FLOAT32 -> t.floats()[i] = Float.intBitsToFloat(r.nextInt());
                case FLOAT64 -> t.doubles()[i] = Double.longBitsToDouble(r.nextLong());
                case COMPLEX64 -> { t.floats()[2 * i] = r.nextFloat(); t.floats()[2 * i + 1] = -r.nextFloat(); }
                case COMPLEX128 -> { t.doubles()[2 * i] = r.nextGaussian(); t.doubles()[2 * i + 1] = r.nextGaussian(); }
                case FLOAT16, BFLOAT16, INT16, UINT16 -> ((short[]) t.data())[i] = (short) r.nextInt();
                case BOOL -> t.setLong(i, r.nextInt(2));
                default -> t.setLong(i, r.nextLong());
            }
        }
        return t;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void smallTensorsAsDecimalsLargeAsHex(DType dtype) {
        for (long seed = 0; seed < 20; seed++) roundTrip(random(dtype, 7, seed), PrintOptions.INLINE);
        roundTrip(random(dtype, 300, 99), PrintOptions.INLINE);
        roundTrip(Tensor.zeros(dtype, 0, 3), PrintOptions.INLINE);
        roundTrip(Tensor.zeros(dtype), PrintOptions.INLINE);
    }

    @Test
    void specialFloatsAreExact() {
        float[] f = {-0.0f, 0.0f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, 1f / 3, 0.1f, 16777217f, 1e-45f};
        Tensor t = Tensor.ofFloats(new long[] {f.length}, f);
        roundTrip(t, PrintOptions.INLINE);
        String text = TextPrinter.print(Model.of(new Graph("g", List.of(), List.of(), List.of(), Map.of("t", t))));
        assertTrue(text.contains("[-0.0, 0.0, 1.4E-45, 1.1754944E-38, 3.4028235E38, inf, -inf, nan, 0.33333334, "
                + "0.1, 1.6777216E7, 1.4E-45]"), text);
    }

    @Test
    void nanPayloadsAndOddBoolBytesFallBackToHex() {
        Tensor f = Tensor.ofFloats(new long[] {2}, Float.intBitsToFloat(0x7fc00001), 1f);
        Tensor h = new Tensor(DType.FLOAT16, new long[] {1}, new short[] {(short) 0x7e01});
        Tensor b = new Tensor(DType.BOOL, new long[] {1}, new byte[] {2});
        for (Tensor t : List.of(f, h, b)) {
            String text = TextPrinter.print(new Graph("g", List.of(), List.of(), List.of(), Map.of("t", t)),
                    PrintOptions.SUMMARY);
            assertTrue(text.contains(" 0x"), text);
            roundTrip(t, PrintOptions.SUMMARY);
        }
    }

    @Test
    void integerEdgesAndUnsigned() {
        roundTrip(Tensor.vector(Long.MIN_VALUE, Long.MAX_VALUE, 0), PrintOptions.INLINE);
        Tensor u = new Tensor(DType.UINT64, new long[] {2}, new long[] {-1L, Long.MIN_VALUE});
        String text = TextPrinter.print(new Graph("g", List.of(), List.of(), List.of(), Map.of("u", u)),
                PrintOptions.INLINE);
        assertTrue(text.contains("[18446744073709551615, 9223372036854775808]"), text);
        roundTrip(u, PrintOptions.INLINE);
        roundTrip(new Tensor(DType.UINT8, new long[] {2}, new byte[] {(byte) 255, 0}), PrintOptions.INLINE);
    }

    @Test
    void decimalsAreCheckedAgainstTheType() {
        assertError("tensor<[2],i64> [1, 2.5]", "2.5", "expected an integer of type i64, got 2.5");
        assertError("tensor<[1],u8> [256]", "256", "256 is out of range for u8 (0 to 255)");
        assertError("tensor<[1],bool> [2]", "2]", "expected true or false, got 2");
        assertError("tensor<[1],f32> [\"a\"]", "\"a", "expected a number of type f32, got \"a\"");
        assertError("tensor<[1],str> [1]", "1]", "expected a quoted string, got 1");
        assertError("tensor<[2,?],f32> [1.0]", "tensor<", "a tensor literal needs a tensor type with a fixed shape");
        assertError("tensor<[1],str> 0x00", "0x", "string tensors cannot be written in hex");
        assertError("tensor<[1],f32> bogus {}", "bogus", "expected tensor data");
        assertError("tensor<[2],f32> [1.0]", "[1.0", "tensor of shape [2] needs 2 values, got 1");
    }

    /** The error names the column where {@code at} starts in the literal. */
    static void assertError(String literal, String at, String expected) {
        String text = "graph @g() -> () { init %w = " + literal + " }";
        int col = text.lastIndexOf(at) + 1;
        GaleException e = assertThrows(GaleException.class, () -> TextParser.parseUnverified(text, "t.gir"));
        assertTrue(e.getMessage().startsWith("t.gir:1:" + col + ": " + expected), e.getMessage() + "\n" + text);
    }
}
