package dev.gale.backends.cpu;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static dev.gale.backends.cpu.Conv2dTest.PAD;
import static dev.gale.backends.cpu.Conv2dTest.convAttrs;
import static dev.gale.backends.cpu.Conv2dTest.convRef;
import static dev.gale.backends.cpu.Conv2dTest.convShape;
import static dev.gale.backends.cpu.Conv2dTest.wShape;
import static dev.gale.backends.cpu.Conv2dTest.xShape;
import static dev.gale.backends.cpu.Conv2dTest.yShape;
import static dev.gale.backends.cpu.Reference.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link FlatConv} (convolutions with many channels, over the padded image's flat pixels, stride-2 ones split into
 * phases) against the interpreter's Conv + Add + activation and ConvGradInput, called directly so that the dispatch
 * rules of {@link Conv2d} do not narrow what is checked, on 1 and 2 threads.
 */
class FlatConvTest {
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

    /**
     * Shapes as {@link Conv2dTest#CASES}: a partial channel block (30 = 12 + 12 + 6), several bands of rows per task
     * (40 x 40), dilation 2, asymmetric pads, a 5 x 5 kernel on rows of more than two vectors, an even 2 x 4 kernel
     * with pads on one side, groups, and a ResNet-like 7 x 7 layer (a third of the flat pixels dropped).
     */
    static final int[][] FLAT = {
            {1, 40, 30, 1, 15, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 32, 24, 1, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 32, 24, 1, 20, 20, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
            {2, 36, 20, 1, 11, 17, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1},
            {1, 20, 26, 1, 23, 37, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},
            {2, 40, 25, 1, 9, 30, 2, 4, 1, 1, 1, 2, 0, 1, 1, 1},
            {2, 64, 40, 2, 13, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {3, 48, 50, 1, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    };

    /**
     * Stride-2 forwards (split into phases): a 7 x 7 / 2 stem on 3 channels, a 5 x 5 / 2 with asymmetric pads on odd
     * sizes, groups, and an even 6 x 6 / 2 kernel.
     */
    static final int[][] STRIDED = {
            {1, 3, 24, 1, 40, 40, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},
            {2, 6, 30, 1, 21, 19, 5, 5, 2, 2, 2, 0, 1, 2, 1, 1},
            {2, 8, 24, 2, 16, 16, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},
            {1, 4, 20, 1, 20, 20, 6, 6, 2, 2, 2, 2, 2, 2, 1, 1},
    };

    @Test
    void theShapesAboveTakeFlatConvAndOthersDoNot() {
        for (int[] c : FLAT) assertTrue(FlatConv.applies(convShape(c)), Arrays.toString(c));
        for (int[] c : STRIDED) {
            assertTrue(FlatConv.appliesForward(convShape(c)), Arrays.toString(c));
            assertFalse(FlatConv.applies(convShape(c)), "input gradient of " + Arrays.toString(c));
        }
        assertFalse(FlatConv.appliesForward(convShape(new int[] {1, 4, 8, 1, 16, 16, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1})),
                "a stride-2 layer with few channels");
        assertFalse(FlatConv.appliesForward(convShape(new int[] {1, 64, 64, 1, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1})),
                "a 3 x 3 / 2 layer");
        int[][] others = {
                {1, 40, 30, 1, 15, 15, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, // stride 2
                {1, 8, 16, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, // few channels: DirectConv
                {8, 64, 48, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, // 4 x 4 outputs of 6 x 6 flat pixels
                {1, 40, 30, 1, 15, 15, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1}, // 1 x 1: a plain product
                {1, 40, 30, 1, 15, 15, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1}, // pads past the kernel's reach
        };
        for (int[] c : others) assertFalse(FlatConv.applies(convShape(c)), Arrays.toString(c));
    }

    /**
     * The forward with bias + residual + ReLU, bias + GELU, the residual being the output itself (as a fused
     * {@code relu(conv(x) + y)} in place), and no epilogue; weights packed ahead and in the call.
     */
    @Test
    void forwardMatchesConvAddActivation() {
        long seed = 500;
        for (int[] c : java.util.stream.Stream.concat(Arrays.stream(FLAT), Arrays.stream(STRIDED)).toList())
            for (KernelPool pool : new KernelPool[] {one, two})
                for (int variant = 0; variant < 4; variant++) {
                    Random rnd = new Random(seed++);
                    Conv2d.Shape s = convShape(c);
                    boolean residual = variant == 0 || variant == 2, none = variant == 3, pack = variant % 2 == 0;
                    Activation act = none ? Activation.NONE : variant == 1 ? Activation.GELU : Activation.RELU;
                    Tensor x = random(rnd, xShape(s)), w = random(rnd, wShape(s));
                    Tensor b = none ? Tensor.zeros(DType.FLOAT32, s.m()) : random(rnd, s.m());
                    Tensor res = residual ? random(rnd, yShape(s)) : Tensor.zeros(DType.FLOAT32, yShape(s));
                    Tensor want = convRef(c, x, w, b, res, act);
                    Tensor mag = convRef(c, abs(x), abs(w), abs(b), abs(res), Activation.NONE);
                    try (Arena arena = Arena.ofShared()) {
                        MemorySegment sx = segment(arena, x, PAD), sw = segment(arena, w, PAD), sb = segment(arena, b, 0);
                        MemorySegment sy = segment(arena, want, PAD);
                        Epilogue ep = none ? Epilogue.NONE : Epilogue.NONE.withRowBias(sb, 0).withActivation(act);
                        if (variant == 2) { // in place: the output holds the residual
                            sy = segment(arena, res, PAD);
                            ep = ep.withResidual(sy, PAD, s.p());
                        } else {
                            sy.asSlice(PAD * 4L, want.numel() * 4L).fill((byte) 0xff); // NaN: every element must be written
                            if (residual) ep = ep.withResidual(segment(arena, res, 0), 0, s.p());
                        }
                        float[] packed = pack ? FlatConv.pack(s, sw, PAD) : null;
                        FlatConv.forward(pool, s, sx, PAD, sw, PAD, packed, sy, PAD, ep);
                        String what = "flat conv " + Arrays.toString(c) + " threads=" + pool.threads() + " variant=" + variant;
                        assertClose(what, want, mag, floats(sy, PAD, want.numel()), 1.2);
                        assertSentinels(what, sy, PAD, want.numel());
                    }
                }
    }

    @Test
    void inputGradientMatchesConvGradInput() {
        long seed = 600;
        for (int[] c : FLAT)
            for (KernelPool pool : new KernelPool[] {one, two})
                Conv2dTest.assertInputGradient(c, pool, seed++, "flat conv dX", (s, dy, w, dx) ->
                        FlatConv.backwardInput(pool, s, dy, PAD, w, PAD, dx, PAD));
    }

    /**
     * The weight gradient of these layers through {@link Conv2d#backwardWeight}: the direct loops' for those of at most
     * 64 output channels with rows that fill their vectors, im2col + GEMM for the others.
     */
    @Test
    void weightGradientMatchesConvGradWeight() {
        long seed = 800;
        for (int[] c : FLAT)
            for (KernelPool pool : new KernelPool[] {one, two}) Conv2dTest.assertWeightGradient(c, pool, seed++, true);
    }

    /** Subnormal inputs and weights count as zero, as on the other paths. */
    @Test
    void subnormalInputsCountAsZero() {
        Conv2d.Shape s = convShape(FLAT[0]);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate(s.xSize() * 4), w = arena.allocate(s.wSize() * 4);
            MemorySegment y = arena.allocate(s.ySize() * 4), dx = arena.allocate(s.xSize() * 4);
            for (long i = 0; i < s.xSize(); i++) x.setAtIndex(GemmPacking.F, i, i % 2 == 0 ? 1e-39f : -2e-41f);
            for (long i = 0; i < s.wSize(); i++) w.setAtIndex(GemmPacking.F, i, 0.25f);
            FlatConv.forward(two, s, x, 0, w, 0, null, y, 0, Epilogue.NONE);
            for (long i = 0; i < s.ySize(); i++) assertEquals(0f, y.getAtIndex(GemmPacking.F, i), "y " + i);
            for (long i = 0; i < s.ySize(); i++) y.setAtIndex(GemmPacking.F, i, 3e-40f);
            FlatConv.backwardInput(two, s, y, 0, w, 0, dx, 0);
            for (long i = 0; i < s.xSize(); i++) assertEquals(0f, dx.getAtIndex(GemmPacking.F, i), "dx " + i);
        }
    }
}
