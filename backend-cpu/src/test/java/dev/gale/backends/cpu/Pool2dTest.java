package dev.gale.backends.cpu;

import dev.gale.ir.Attr;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.ConvGeometry;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static dev.gale.backends.cpu.Reference.*;

/**
 * Max and average pooling, forward and backward, against the interpreter's MaxPool, AveragePool, MaxPoolGrad and
 * AveragePoolGrad: strides, asymmetric pads, dilations, ceil_mode windows that run past the padding,
 * count_include_pad, odd sizes and NaN inputs, on 1 and 2 threads.
 */
class Pool2dTest {
    static KernelPool one, two;

    @BeforeAll
    static void pools() {
        one = new KernelPool(1);
        two = new KernelPool(2);
    }

    @AfterAll
    static void close() {
        one.close();
        two.close();
    }

    /** n, c, h, w, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, ceil. */
    static final int[][] CASES = {
            {2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0},
            // 2 x 2 / 2 (the vectorized path): several lane chunks per row, odd sizes, a partial last chunk
            {2, 3, 28, 28, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0},
            {1, 2, 9, 35, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0},
            {1, 1, 64, 66, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0},
            {1, 2, 9, 35, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1},
            {1, 4, 17, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0},
            {1, 2, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0},
            {2, 2, 17, 13, 3, 2, 2, 3, 1, 0, 2, 1, 1, 1, 1},
            {1, 3, 33, 7, 5, 3, 3, 2, 2, 1, 2, 1, 1, 1, 1},
            {1, 2, 15, 15, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 0},
            {3, 5, 1, 255, 1, 7, 1, 4, 0, 3, 0, 3, 1, 1, 1},
            {1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0},
            {1, 7, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0},
            // rows of several vectors for the row-buffer max: stride 1 and 2, a ceil_mode window past the padding
            {1, 2, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0},
            {2, 2, 12, 70, 3, 4, 2, 2, 1, 2, 1, 1, 1, 1, 1},
    };

    static final int PAD = 3;

    static Map<String, Attr> poolAttrs(int[] c, Boolean includePad) {
        return attrs("kernel_shape", new long[] {c[4], c[5]}, "strides", new long[] {c[6], c[7]},
                "pads", new long[] {c[8], c[9], c[10], c[11]}, "dilations", new long[] {c[12], c[13]}, "ceil_mode", c[14],
                "count_include_pad", includePad == null ? null : includePad ? 1 : 0);
    }

    static Window2d window(int[] c) {
        ConvGeometry g = ConvGeometry.forward(new long[] {c[2], c[3]}, new long[] {c[4], c[5]}, new long[] {c[6], c[7]},
                new long[] {c[12], c[13]}, new long[] {c[8], c[9], c[10], c[11]}, ConvGeometry.AutoPad.NOTSET, c[14] != 0,
                IllegalArgumentException::new);
        return Window2d.of(c[2], c[3], g);
    }

    /** Random input; with {@code ties}, ReLU'd and rounded to halves, so windows often hold equal maxima. */
    static Tensor input(Random rnd, int[] c, boolean withNaN, boolean ties) {
        Tensor x = random(rnd, c[0], c[1], c[2], c[3]);
        if (ties) {
            float[] f = x.floats();
            for (int i = 0; i < f.length; i++) f[i] = Math.max(0f, Math.round(f[i] * 2) / 2f);
        }
        if (withNaN) {
            x.floats()[x.numel() / 3] = Float.NaN;
            x.floats()[Math.min(x.numel() - 1, x.numel() / 3 + 1)] = Float.NaN;
        }
        return x;
    }

    @Test
    void maxPoolForwardAndBackward() {
        long seed = 0;
        for (int[] c : CASES)
            for (KernelPool pool : new KernelPool[] {one, two})
                for (int mode = 0; mode < 4; mode++) {
                    boolean nan = (mode & 1) != 0, ties = (mode & 2) != 0;
                    Random rnd = new Random(seed++);
                    Window2d g = window(c);
                    int planes = c[0] * c[1];
                    Tensor x = input(rnd, c, nan, ties);
                    Tensor want = run("MaxPool", poolAttrs(c, null), x);
                    Tensor dy = random(rnd, want.shape());
                    Tensor dxWant = run(GaleOps.DOMAIN, "MaxPoolGrad", poolAttrs(c, null), dy, x);
                    Tensor dxMag = run(GaleOps.DOMAIN, "MaxPoolGrad", poolAttrs(c, null), abs(dy), x);
                    String what = "maxpool " + Arrays.toString(c) + " threads=" + pool.threads() + " nan=" + nan + " ties=" + ties;
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment sx = segment(arena, x, PAD), sy = segment(arena, want, PAD);
                        MemorySegment sdy = segment(arena, dy, PAD), sdx = segment(arena, x, PAD);
                        Pool2d.maxForward(pool, planes, g, sx, PAD, sy, PAD);
                        assertClose(what, want, zeros(want), floats(sy, PAD, want.numel()));
                        assertSentinels(what, sy, PAD, want.numel());
                        Pool2d.maxBackward(pool, planes, g, sdy, PAD, sx, PAD, sdx, PAD);
                        assertClose(what + " dX", dxWant, dxMag, floats(sdx, PAD, x.numel()));
                        assertSentinels(what + " dX", sdx, PAD, x.numel());
                    }
                }
    }

    @Test
    void averagePoolForwardAndBackward() {
        long seed = 100;
        for (int[] c : CASES)
            for (KernelPool pool : new KernelPool[] {one, two})
                for (boolean includePad : new boolean[] {false, true}) {
                    Random rnd = new Random(seed++);
                    Window2d g = window(c);
                    int planes = c[0] * c[1];
                    Tensor x = input(rnd, c, false, false);
                    Map<String, Attr> at = poolAttrs(c, includePad);
                    Tensor want = run("AveragePool", at, x), mag = run("AveragePool", at, abs(x));
                    Tensor dy = random(rnd, want.shape()), xs = shape(x.shape());
                    Tensor dxWant = run(GaleOps.DOMAIN, "AveragePoolGrad", at, dy, xs);
                    Tensor dxMag = run(GaleOps.DOMAIN, "AveragePoolGrad", at, abs(dy), xs);
                    String what = "avgpool " + Arrays.toString(c) + " threads=" + pool.threads() + " includePad=" + includePad;
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment sx = segment(arena, x, PAD), sy = segment(arena, want, PAD);
                        MemorySegment sdy = segment(arena, dy, PAD), sdx = segment(arena, x, PAD);
                        Pool2d.averageForward(pool, planes, g, includePad, sx, PAD, sy, PAD);
                        assertClose(what, want, mag, floats(sy, PAD, want.numel()));
                        assertSentinels(what, sy, PAD, want.numel());
                        Pool2d.averageBackward(pool, planes, g, includePad, sdy, PAD, sdx, PAD);
                        assertClose(what + " dX", dxWant, dxMag, floats(sdx, PAD, x.numel()));
                        assertSentinels(what + " dX", sdx, PAD, x.numel());
                    }
                }
    }

    static Tensor zeros(Tensor like) { return Tensor.zeros(like.dtype(), like.shape()); }
}
