package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.gale.backends.interp.OpHarness.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tricky semantics of the shape and indexing kernels, against hand-computed or numpy-computed values. */
class ShapeKernelsTest {
    private static Tensor iota(long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, i);
        return t;
    }

    private static Tensor vec(long... v) { return Tensor.vector(v); }

    @Test
    void sliceWithNegativeStepsAndExtremeBounds() {
        // numpy: x[::-2, 3:0:-2] of arange(12).reshape(3, 4)
        Tensor y = run1("Slice", attrs(), iota(3, 4), vec(Long.MAX_VALUE, 3), vec(Long.MIN_VALUE, 0), vec(0, 1),
                vec(-2, -2));
        assertArrayEquals(new long[] {2, 2}, y.shape());
        assertArrayEquals(new double[] {11, 9, 3, 1}, values(y));
        Tensor empty = run1("Slice", attrs(), iota(3, 0), vec(-1), vec(Long.MIN_VALUE), vec(1), vec(-1));
        assertArrayEquals(new long[] {3, 0}, empty.shape());
        assertThrows(GaleException.class, () -> run1("Slice", attrs(), iota(3), vec(0), vec(3), vec(0), vec(0)));
    }

    @Test
    void padModesMatchNumpy() {
        Tensor x = Tensor.ofLongs(new long[] {3}, 1, 2, 3);
        assertArrayEquals(new long[] {1, 2, 3, 2, 1, 2, 3, 2, 1},
                run1("Pad", attrs("mode", "reflect"), x, vec(4, 2)).toLongArray());
        // The spec's torus, not numpy 1.x's np.pad(..., 'wrap'), which gives 2 first when the pad exceeds the size.
        assertArrayEquals(new long[] {3, 1, 2, 3, 1, 2, 3, 1, 2},
                run1("Pad", attrs("mode", "wrap"), x, vec(4, 2)).toLongArray());
        assertArrayEquals(new long[] {1, 1, 2}, run1("Pad", attrs("mode", "edge"), x, vec(1, -1)).toLongArray());
        assertArrayEquals(new long[] {9, 9, 1, 2, 3},
                run1("Pad", attrs(), x, vec(2, 0), Tensor.ofLongs(new long[0], 9)).toLongArray());
        // Only axis 1 of a 2x2 is padded when axes = [-1].
        Tensor y = run1("Pad", attrs(), iota(2, 2), vec(1, 0), null, vec(-1));
        assertArrayEquals(new long[] {2, 3}, y.shape());
        assertArrayEquals(new double[] {0, 0, 1, 0, 2, 3}, values(y));
        assertThrows(GaleException.class, () -> run1("Pad", attrs("mode", "edge"), iota(0), vec(1, 1)));
    }

    @Test
    void splitReshapeAndFriends() {
        List<Object> parts = run("Split", attrs("num_outputs", 3), 3, iota(7));
        assertArrayEquals(new double[] {0, 1, 2}, values((Tensor) parts.get(0)));
        assertArrayEquals(new double[] {6}, values((Tensor) parts.get(2)));
        assertThrows(GaleException.class, () -> run("Split", attrs(), 2, iota(4), vec(1, 2)));
        assertArrayEquals(new long[] {0, 3}, run1("Reshape", attrs("allowzero", 1), iota(3, 0), vec(0, 3)).shape());
        assertArrayEquals(new long[] {3, 0}, run1("Reshape", attrs(), iota(3, 0), vec(0, 0)).shape());
        // -1 next to a non-zero product is unambiguous even for an empty tensor; next to a 0 it is not.
        assertArrayEquals(new long[] {3, 0}, run1("Reshape", attrs(), iota(3, 0), vec(3, -1)).shape());
        assertThrows(GaleException.class, () -> run1("Reshape", attrs("allowzero", 1), iota(3, 0), vec(0, -1)));
        Tensor t = run1("Tile", attrs(), iota(2, 1), vec(2, 3));
        assertArrayEquals(new double[] {0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1}, values(t));
        Tensor e = run1("Expand", attrs(), iota(3, 1), vec(2, 1, 2));
        assertArrayEquals(new long[] {2, 3, 2}, e.shape());
        assertThrows(GaleException.class, () -> run1("Expand", attrs(), iota(3), vec(2)));
        assertArrayEquals(new long[] {1, 1}, run1("Shape", attrs("start", -3, "end", -1), iota(1, 1, 2)).toLongArray());
    }

    @Test
    void rangeIsExactForIntegers() {
        Tensor y = run1("Range", attrs(), Tensor.scalarLong(DType.INT32, 10), Tensor.scalarLong(DType.INT32, -3),
                Tensor.scalarLong(DType.INT32, -4));
        assertEquals(DType.INT32, y.dtype());
        assertArrayEquals(new long[] {10, 6, 2, -2}, y.toLongArray());
        Tensor big = run1("Range", attrs(), Tensor.scalarLong(DType.INT64, Long.MAX_VALUE - 2),
                Tensor.scalarLong(DType.INT64, Long.MAX_VALUE), Tensor.scalarLong(DType.INT64, 1));
        assertArrayEquals(new long[] {Long.MAX_VALUE - 2, Long.MAX_VALUE - 1}, big.toLongArray());
        assertThrows(GaleException.class, () -> run1("Range", attrs(), Tensor.scalar(DType.FLOAT32, 0),
                Tensor.scalar(DType.FLOAT32, 1), Tensor.scalar(DType.FLOAT32, 0)));
    }

    @Test
    void cropPadAndCol2Im() {
        // Cropping 5 to 2 starts at floor(3 / 2) = 1; padding 3 to 6 puts floor(3 / 2) = 1 zero first.
        Tensor y = run1("CenterCropPad", attrs(), iota(5, 3), vec(2, 6));
        assertArrayEquals(new double[] {0, 3, 4, 5, 0, 0, 0, 6, 7, 8, 0, 0}, values(y));
        // One 1x2 block per column of a 2x2 image with stride 1: the overlapping middle of each row sums.
        Tensor cols = Tensor.ofFloats(new long[] {1, 2, 2}, 1, 2, 10, 20);
        Tensor im = run1("Col2Im", attrs(), cols, vec(1, 3), vec(1, 2));
        assertArrayEquals(new long[] {1, 1, 1, 3}, im.shape());
        assertArrayEquals(new double[] {1, 12, 20}, values(im));
    }

    @Test
    void resizeAntialiasMatchesTheOnnxReference() {
        Tensor x = Tensor.ofFloats(new long[] {1, 6}, 0, 1, 4, 9, 16, 25);
        Tensor half = Tensor.ofFloats(new long[] {2}, 1, 0.5f);
        assertArrayEquals(new double[] {0.875, 7.0, 19.625},
                values(run1("Resize", attrs("mode", "linear", "antialias", 1), x, null, half)), 1e-6);
        assertArrayEquals(new double[] {0.5, 6.5, 20.5}, values(run1("Resize", attrs("mode", "linear"), x, null, half)),
                1e-6);
        assertArrayEquals(new double[] {0.20703125, 6.1796875, 20.48046875},
                values(run1("Resize", attrs("mode", "cubic", "antialias", 1), x, null, half)), 1e-6);
        assertThrows(GaleException.class, () -> run1("Resize", attrs("antialias", 1), x, null, half));
        Tensor wide = run1("Resize", attrs("axes", new long[] {-1}), x, null, Tensor.ofFloats(new long[] {1}, 1.3f));
        assertArrayEquals(new long[] {1, 7}, wide.shape());
    }

    @Test
    void gatherAndScatterIndexChecks() {
        Tensor x = iota(2, 3);
        Tensor g = run1("Gather", attrs("axis", 1), x, Tensor.ofLongs(new long[] {2}, -1, 0));
        assertArrayEquals(new double[] {2, 0, 5, 3}, values(g));
        GaleException e = assertThrows(GaleException.class,
                () -> run1("Gather", attrs("axis", 1), x, Tensor.ofLongs(new long[] {1}, 3)));
        assertTrue(e.getMessage().contains("index 3"), e.getMessage());
        Tensor idx = Tensor.ofLongs(new long[] {1, 3}, 1, 1, -3);
        Tensor upd = Tensor.ofFloats(new long[] {1, 3}, 5, 7, -1);
        assertArrayEquals(new double[] {-1, 13, 2, 3, 4, 5},
                values(run1("ScatterElements", attrs("axis", 1, "reduction", "add"), x, idx, upd)));
        assertArrayEquals(new double[] {0, 7, 2, 3, 4, 5},
                values(run1("ScatterElements", attrs("axis", 1, "reduction", "max"), x, idx, upd)));
        assertArrayEquals(new double[] {-1, 1, 2, 3, 4, 5},
                values(run1("ScatterElements", attrs("axis", 1, "reduction", "min"), x, idx, upd)));
        Tensor nd = run1("ScatterND", attrs("reduction", "mul"), x, Tensor.ofLongs(new long[] {2, 1}, -1, 1),
                Tensor.ofFloats(new long[] {2, 3}, 2, 2, 2, 3, 3, 3));
        assertArrayEquals(new double[] {0, 1, 2, 18, 24, 30}, values(nd));
        Tensor gnd = run1("GatherND", attrs("batch_dims", 1), x, Tensor.ofLongs(new long[] {2, 2, 1}, 2, -1, 0, 1));
        assertArrayEquals(new double[] {2, 2, 3, 4}, values(gnd));
    }

    @Test
    void uniqueUnsortedWithAxis() {
        Tensor x = Tensor.ofLongs(new long[] {5, 2}, 2, 1, 0, 3, 2, 1, 0, 3, 1, 1);
        List<Object> u = run("Unique", attrs("axis", 0, "sorted", 0), 4, x);
        assertArrayEquals(new long[] {2, 1, 0, 3, 1, 1}, ((Tensor) u.get(0)).toLongArray());
        assertArrayEquals(new long[] {0, 1, 4}, ((Tensor) u.get(1)).toLongArray());
        assertArrayEquals(new long[] {0, 1, 0, 1, 2}, ((Tensor) u.get(2)).toLongArray());
        assertArrayEquals(new long[] {2, 2, 1}, ((Tensor) u.get(3)).toLongArray());
        List<Object> sorted = run("Unique", attrs("axis", 0), 4, x);
        assertArrayEquals(new long[] {0, 3, 1, 1, 2, 1}, ((Tensor) sorted.get(0)).toLongArray());
        assertArrayEquals(new long[] {1, 4, 0}, ((Tensor) sorted.get(1)).toLongArray());
        assertArrayEquals(new long[] {2, 0, 2, 0, 1}, ((Tensor) sorted.get(2)).toLongArray());
    }

    @Test
    void oneHotNonZeroTriluEye() {
        Tensor oh = run1("OneHot", attrs("axis", 0), Tensor.ofLongs(new long[] {3}, -1, 5, 0),
                Tensor.scalarLong(DType.INT64, 3), Tensor.ofFloats(new long[] {2}, 0, 1));
        assertArrayEquals(new long[] {3, 3}, oh.shape());
        assertArrayEquals(new double[] {0, 0, 1, 0, 0, 0, 1, 0, 0}, values(oh));
        Tensor nz = run1("NonZero", attrs(), Tensor.ofFloats(new long[] {2, 2}, 0, Float.NaN, 3, 0));
        assertArrayEquals(new long[] {2, 2}, nz.shape());
        assertArrayEquals(new long[] {0, 1, 1, 0}, nz.toLongArray());
        Tensor tri = run1("Trilu", attrs("upper", 0), iota(2, 3), Tensor.scalarLong(DType.INT64, -1));
        assertArrayEquals(new double[] {0, 0, 0, 3, 0, 0}, values(tri));
        Tensor eye = run1("EyeLike", attrs("k", 1, "dtype", 7L), iota(2, 3));
        assertEquals(DType.INT64, eye.dtype());
        assertArrayEquals(new long[] {0, 1, 0, 0, 0, 1}, eye.toLongArray());
    }
}
