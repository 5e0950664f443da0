package dev.gale.backends.cpu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static dev.gale.backends.cpu.GemmKernel.NR;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The packing of a transposed B against its definition, element by element: {@code pb[at + jr * kc + p * NR + j]} is
 * B[p0 + p, j0 + jr + j] (B stored n x k, so that element is at {@code off + (j0 + jr + j) * ld + p0 + p}) with
 * subnormals as zero, and zero past the last column. Depths around the 16 x 16 register transpose's tiles (a tail of
 * 1 to 15), partial panels of 1 to 31 columns, a padded row stride and an offset, and nothing written outside the
 * panels packed.
 */
class GemmPackingTest {
    @Test
    void transposedPanelsHoldBColumnByColumn() {
        Random rnd = new Random(5);
        int[] depths = {1, 15, 16, 17, 33, 300};
        int[] widths = {1, 5, 16, 17, 31, 32, 33, 64, 70};
        try (Arena arena = Arena.ofConfined()) {
            for (int kc : depths)
                for (int nc : widths) {
                    int p0 = 3, j0 = 2, k = p0 + kc + 4, n = j0 + nc + 1;
                    long ld = k + 7, off = 11;
                    MemorySegment b = arena.allocate((off + (long) n * ld) * Float.BYTES);
                    float[] src = new float[(int) (off + n * ld)];
                    for (int i = 0; i < src.length; i++)
                        src[i] = switch (rnd.nextInt(8)) {
                            case 0 -> Float.MIN_VALUE * (1 + rnd.nextInt(1000)); // subnormal
                            case 1 -> -1e-39f;
                            default -> (float) rnd.nextGaussian();
                        };
                    MemorySegment.copy(src, 0, b, GemmPacking.F, 0, src.length);
                    int panels = (nc + NR - 1) / NR, at = 9;
                    float[] pb = new float[at + panels * NR * kc + 13];
                    Arrays.fill(pb, Float.NaN);
                    GemmPacking.packB(true, b, off, ld, p0, kc, j0, nc, 0, panels * NR, pb, at);
                    String what = "kc=" + kc + " nc=" + nc;
                    for (int i = 0; i < at; i++) assertTrue(Float.isNaN(pb[i]), what + ": wrote before the panels");
                    for (int i = at + panels * NR * kc; i < pb.length; i++)
                        assertTrue(Float.isNaN(pb[i]), what + ": wrote past the panels");
                    for (int jr = 0; jr < panels * NR; jr += NR)
                        for (int p = 0; p < kc; p++)
                            for (int j = 0; j < NR; j++) {
                                int col = jr + j;
                                float want = col < nc ? GemmPacking.flush(src[(int) (off + (j0 + col) * ld + p0 + p)]) : 0f;
                                float got = pb[at + jr * kc + p * NR + j];
                                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                                        what + ": column " + col + ", k " + p + ": " + got + " instead of " + want);
                            }
                }
        }
    }
}
