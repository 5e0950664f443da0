package dev.gale.ir.op;

import dev.gale.ir.GaleException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ConvGeometryTest {
    private static final long U = ConvGeometry.UNKNOWN;

    private static GaleException err(String m) { return new GaleException(m); }

    @Test
    void sameUpperPutsTheOddPadAtTheEndAndSameLowerAtTheBeginning() {
        // in 5, k 4, s 2: out 3, total pad (3-1)*2 + 4 - 5 = 3
        ConvGeometry up = ConvGeometry.forward(new long[] {5}, new long[] {4}, new long[] {2}, null, null,
                ConvGeometry.AutoPad.SAME_UPPER, false, ConvGeometryTest::err);
        assertArrayEquals(new long[] {3}, up.out());
        assertArrayEquals(new long[] {1}, up.padsBegin());
        assertArrayEquals(new long[] {2}, up.padsEnd());
        ConvGeometry low = ConvGeometry.forward(new long[] {5}, new long[] {4}, new long[] {2}, null, null,
                ConvGeometry.AutoPad.SAME_LOWER, false, ConvGeometryTest::err);
        assertArrayEquals(new long[] {2}, low.padsBegin());
        assertArrayEquals(new long[] {1}, low.padsEnd());
    }

    @Test
    void dilationWidensTheWindowAndUnknownSizesStayUnknown() {
        // effective kernel (3-1)*2+1 = 5; in 9 + pads 1+1 -> (11-5)/3 + 1 = 3; second axis unknown
        ConvGeometry g = ConvGeometry.forward(new long[] {9, U}, new long[] {3, 3}, new long[] {3, 1},
                new long[] {2, 1}, new long[] {1, 0, 1, 0}, ConvGeometry.AutoPad.NOTSET, false, ConvGeometryTest::err);
        assertArrayEquals(new long[] {3, U}, g.out());
    }

    @Test
    void valueErrorsNameTheProblem() {
        GaleException e = assertThrows(GaleException.class, () -> ConvGeometry.forward(new long[] {2},
                new long[] {5}, null, null, null, ConvGeometry.AutoPad.NOTSET, false, ConvGeometryTest::err));
        assertTrue(e.getMessage().contains("larger than the padded input"), e.getMessage());
        e = assertThrows(GaleException.class, () -> ConvGeometry.forward(new long[] {8, 8}, new long[] {3, 3},
                new long[] {1}, null, null, ConvGeometry.AutoPad.NOTSET, false, ConvGeometryTest::err));
        assertTrue(e.getMessage().contains("strides has 1 values, expected 2"), e.getMessage());
        e = assertThrows(GaleException.class, () -> ConvGeometry.autoPad("SAME", ConvGeometryTest::err));
        assertTrue(e.getMessage().contains("auto_pad 'SAME'"), e.getMessage());
    }

    @Test
    void transposedSizesFromPadsOutputShapeAndSame() {
        // full = 3*(3-1) + 1 + 3 = 10; pads 1,2 leave 7
        ConvGeometry p = ConvGeometry.transposed(new long[] {3}, new long[] {3}, new long[] {3}, null,
                new long[] {1, 2}, ConvGeometry.AutoPad.NOTSET, new long[] {1}, null, ConvGeometryTest::err);
        assertArrayEquals(new long[] {7}, p.out());
        // output_shape 8 of a full 9: total pad 1, NOTSET puts the odd element first
        ConvGeometry s = ConvGeometry.transposed(new long[] {3}, new long[] {3}, new long[] {3}, null, null,
                ConvGeometry.AutoPad.NOTSET, null, new long[] {1, 1, 8}, ConvGeometryTest::err);
        assertArrayEquals(new long[] {8}, s.out());
        assertArrayEquals(new long[] {1}, s.padsBegin());
        assertArrayEquals(new long[] {0}, s.padsEnd());
        // a requested size past the full result extends it with zeros at the end
        ConvGeometry big = ConvGeometry.transposed(new long[] {3}, new long[] {3}, new long[] {3}, null, null,
                ConvGeometry.AutoPad.NOTSET, null, new long[] {11}, ConvGeometryTest::err);
        assertArrayEquals(new long[] {0}, big.padsBegin());
        assertArrayEquals(new long[] {-2}, big.padsEnd());
        ConvGeometry same = ConvGeometry.transposed(new long[] {3}, new long[] {3}, new long[] {2}, null, null,
                ConvGeometry.AutoPad.SAME_UPPER, null, null, ConvGeometryTest::err);
        assertArrayEquals(new long[] {6}, same.out());
        assertArrayEquals(new long[] {0}, same.padsBegin());
    }
}
