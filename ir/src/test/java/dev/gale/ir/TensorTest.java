package dev.gale.ir;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TensorTest {
    @Test
    void conversionsRoundAndWrapLikeTheElementType() {
        Tensor f = Tensor.zeros(DType.FLOAT32, 1);
        f.setDouble(0, 0.1);
        assertEquals((float) 0.1, f.getDouble(0));
        Tensor i8 = Tensor.zeros(DType.INT8, 1);
        i8.setLong(0, 130);
        assertEquals(-126, i8.getLong(0));
        Tensor u8 = Tensor.zeros(DType.UINT8, 1);
        u8.setLong(0, 255);
        assertEquals(255, u8.getLong(0));
        Tensor b = Tensor.zeros(DType.BOOL, 1);
        b.setDouble(0, -3);
        assertTrue(b.getBool(0));
        Tensor u64 = Tensor.zeros(DType.UINT64, 1);
        u64.setLong(0, -1);
        assertEquals(1.8446744073709552E19, u64.getDouble(0));
    }

    @Test
    void halfPrecisionRoundTrips() {
        Tensor h = Tensor.zeros(DType.FLOAT16, 2);
        h.setDouble(0, 1.5);
        h.setDouble(1, 65504);
        assertEquals(1.5, h.getDouble(0));
        assertEquals(65504, h.getDouble(1));
        Tensor bf = Tensor.zeros(DType.BFLOAT16, 1);
        bf.setDouble(0, 1.00390625); // halfway between 1 and 1.0078125: rounds to even (1.0)
        assertEquals(1.0, bf.getDouble(0));
    }

    @Test
    void refusesSizeMismatchAndHugeShapes() {
        assertThrows(GaleException.class, () -> new Tensor(DType.FLOAT32, new long[] {2, 3}, new float[5]));
        GaleException e = assertThrows(GaleException.class,
                () -> Tensor.zeros(DType.FLOAT32, 100000, 100000, 100000));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    @Test
    void equalityIsStructuralAndNanAware() {
        assertEquals(Tensor.ofFloats(new long[] {2}, 1f, Float.NaN), Tensor.ofFloats(new long[] {2}, 1f, Float.NaN));
        assertNotEquals(Tensor.ofFloats(new long[] {2}, 1f, 2f), Tensor.ofFloats(new long[] {1, 2}, 1f, 2f));
    }
}
