package dev.gale.ir.io;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class NpyTest {
    @Test
    void roundTripsEveryNumericType() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.INT32, DType.UINT8, DType.BOOL}) {
            Tensor x = Tensor.zeros(t, 2, 3);
            for (int i = 0; i < 6; i++) x.setLong(i, i % 2 == 0 ? i : 1);
            assertEquals(x, Npy.read(Npy.write(x), "x.npy"), t.toString());
        }
        Tensor s = Tensor.scalar(DType.FLOAT32, 2.5);
        assertEquals(s, Npy.read(Npy.write(s), "s.npy"));
    }

    @Test
    void refusesTruncatedData() {
        byte[] bytes = Npy.write(Tensor.zeros(DType.FLOAT32, 100));
        GaleException e = assertThrows(GaleException.class,
                () -> Npy.read(Arrays.copyOf(bytes, bytes.length - 8), "t.npy"));
        assertTrue(e.getMessage().startsWith("t.npy: shape"), e.getMessage());
        assertThrows(GaleException.class, () -> Npy.read(new byte[] {1, 2, 3}, "junk.npy"));
    }
}
