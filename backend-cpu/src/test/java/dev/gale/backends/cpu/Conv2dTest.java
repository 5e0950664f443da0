package dev.gale.backends.cpu;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.backends.cpu.Reference.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Convolution forward, input gradient and weight gradient against the interpreter's Conv, ConvGradInput and
 * ConvGradWeight: strides, asymmetric pads, dilations, groups (depthwise included), 1x1 and 1-D shapes, odd sizes,
 * and depths past the GEMM's KC block, on 1 and 2 threads.
 */
class Conv2dTest {
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

    /** n, c, m, groups, h, w, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW. */
    static final int[][] CASES = {
            {5, 1, 8, 1, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, // one input channel: the weight gradient splits images
            {2, 3, 8, 1, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 4, 6, 1, 17, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
            {2, 4, 6, 2, 9, 11, 3, 3, 1, 2, 0, 1, 2, 0, 1, 1},
            {1, 8, 8, 8, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 3, 5, 1, 17, 13, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
            {2, 33, 17, 1, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
            {1, 16, 7, 1, 9, 9, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},
            {1, 5, 7, 1, 8, 33, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1},
            {3, 2, 4, 1, 17, 13, 5, 5, 3, 2, 2, 1, 0, 2, 1, 1},
            {1, 64, 32, 1, 15, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 2, 3, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {2, 4, 4, 1, 1, 255, 1, 5, 1, 2, 0, 2, 0, 2, 1, 1},
            {1, 3, 16, 1, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {2, 6, 9, 3, 12, 10, 2, 4, 2, 3, 1, 0, 0, 3, 2, 1},
            {1, 130, 20, 1, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, // K = 1170: the unfolding splits a channel between KC blocks
            // stride 1 with few channels (the direct loops): the bench CNN's layers, 5 x 5, unpadded and asymmetric
            // pads, a 2 x 4 kernel, rows of more than one vector, a partial channel block, groups
            {3, 8, 16, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {2, 1, 8, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {2, 3, 11, 1, 19, 37, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},
            {1, 4, 9, 1, 10, 21, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},
            {2, 2, 5, 1, 9, 17, 2, 4, 1, 1, 0, 3, 1, 0, 1, 1},
            {2, 6, 20, 2, 8, 8, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1},
            // rows of 5 pixels: a slot stored whole runs over the next two rows
            {2, 2, 8, 1, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            // horizontal stride 2 with rows of more than one vector (the interleaved fold of the input gradient):
            // an even kernel (ConvTranspose 4x4 / 2's), 2x2 / 2 unpadded, an odd kernel whose last column pairs with
            // zeros at the row's end, asymmetric pads
            {2, 3, 5, 1, 10, 70, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1},
            {2, 4, 6, 2, 5, 40, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},
            {1, 2, 3, 1, 6, 67, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
            {1, 3, 4, 1, 7, 53, 5, 3, 1, 2, 2, 0, 1, 2, 1, 1},
    };

    static Conv2d.Shape convShape(int[] c) {
        return new Conv2d.Shape(c[0], c[1], c[2], c[3],
                Window2d.of(c[4], c[5], c[6], c[7], c[8], c[9], c[14], c[15], c[10], c[11], c[12], c[13]));
    }

    static Map<String, Attr> convAttrs(int[] c) {
        return attrs("kernel_shape", new long[] {c[6], c[7]}, "strides", new long[] {c[8], c[9]},
                "pads", new long[] {c[10], c[11], c[12], c[13]}, "dilations", new long[] {c[14], c[15]}, "group", c[3]);
    }

    static long[] xShape(Conv2d.Shape s) { return new long[] {s.n(), s.c(), s.window().h(), s.window().w()}; }

    static long[] wShape(Conv2d.Shape s) { return new long[] {s.m(), s.c() / s.groups(), s.window().kh(), s.window().kw()}; }

    static long[] yShape(Conv2d.Shape s) { return new long[] {s.n(), s.m(), s.window().oh(), s.window().ow()}; }

    @Test
    void forwardMatchesConv() {
        long seed = 0;
        for (int[] c : CASES)
            for (KernelPool pool : new KernelPool[] {one, two})
                for (boolean direct : new boolean[] {true, false}) {
                Random rnd = new Random(seed++);
                Conv2d.Shape s = convShape(c);
                Tensor x = random(rnd, xShape(s)), w = random(rnd, wShape(s));
                Tensor want = run("Conv", convAttrs(c), x, w), mag = run("Conv", convAttrs(c), abs(x), abs(w));
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment sx = segment(arena, x, PAD), sw = segment(arena, w, PAD), sy = segment(arena, want, PAD);
                    sy.asSlice(PAD * 4L, want.numel() * 4L).fill((byte) 0xff); // NaN: every element must be written
                    Conv2d.forward(pool, s, sx, PAD, sw, PAD, sy, PAD, Epilogue.NONE, direct);
                    String what = "conv " + java.util.Arrays.toString(c) + " threads=" + pool.threads() + " direct=" + direct;
                    assertClose(what, want, mag, floats(sy, PAD, want.numel()));
                    assertSentinels(what, sy, PAD, want.numel());
                }
            }
    }

    static final int PAD = 3;

    @Test
    void forwardEpilogueMatchesConvAddActivation() {
        long seed = 100;
        // with a residual, and (the direct loops' whole-vector stores) without one
        for (int[] c : new int[][] {CASES[0], CASES[2], CASES[5], CASES[9], CASES[17], CASES[19], CASES[22]})
            for (boolean withResidual : new boolean[] {true, false})
            for (Activation act : new Activation[] {Activation.RELU, Activation.GELU, Activation.SIGMOID}) {
                Random rnd = new Random(seed++);
                Conv2d.Shape s = convShape(c);
                Tensor x = random(rnd, xShape(s)), w = random(rnd, wShape(s)), b = random(rnd, s.m());
                Tensor res = withResidual ? random(rnd, yShape(s)) : Tensor.zeros(DType.FLOAT32, yShape(s));
                Tensor want = convRef(c, x, w, b, res, act), mag = convRef(c, abs(x), abs(w), abs(b), abs(res), Activation.NONE);
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment sx = segment(arena, x, 0), sw = segment(arena, w, 0), sb = segment(arena, b, 0);
                    MemorySegment sres = segment(arena, res, 0), sy = arena.allocate(want.numel() * 4L);
                    Epilogue ep = Epilogue.NONE.withRowBias(sb, 0).withActivation(act);
                    if (withResidual) ep = ep.withResidual(sres, 0, s.p());
                    Conv2d.forward(two, s, sx, 0, sw, 0, sy, 0, ep);
                    assertClose("conv+" + act + (withResidual ? "+residual " : " ") + java.util.Arrays.toString(c), want, mag, floats(sy, 0, want.numel()), 1.2);
                }
            }
    }

    /**
     * Late CNN layers (many channels, few pixels), none the direct loops take: outputs of 1 x 1 to 5 x 5 at batches of
     * 1 to 8, stride 2, groups, 300 output channels in four row blocks, K past several KC blocks, and a grouped
     * 13 x 13 one (past {@link Conv2d#IMAGES_MAX_PIXELS}).
     */
    static final int[][] LATE_LAYERS = {
            {8, 64, 48, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {3, 40, 30, 1, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {1, 40, 300, 1, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
            {2, 300, 20, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {2, 64, 40, 2, 13, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {8, 64, 48, 1, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {3, 80, 40, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
            {5, 33, 20, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    };

    /**
     * The im2col products of CNN-like layers with the epilogue, W packed ahead ({@link Conv2d#packWeights}, as the
     * runtime does for constant weights, also as weights read ahead from memory) or packed in the call, against
     * Conv + Add + activation: outputs of fewer
     * than {@link Conv2d#IMAGES_MAX_PIXELS} pixels, where one product covers several images (2 x 2 to 5 x 5,
     * stride 2, 300 output channels in four row blocks, K past several KC blocks), and a grouped 13 x 13 one taken
     * image by image.
     */
    @Test
    void imageProductsAndPackedWeightsMatchConvAddActivation() {
        long seed = 300;
        for (int[] c : LATE_LAYERS)
            for (KernelPool pool : new KernelPool[] {one, two})
                for (boolean pack : new boolean[] {true, false})
                    for (boolean withResidual : new boolean[] {true, false}) {
                        Random rnd = new Random(seed++);
                        Conv2d.Shape s = convShape(c);
                        Activation act = withResidual ? Activation.RELU : Activation.GELU;
                        Tensor x = random(rnd, xShape(s)), w = random(rnd, wShape(s)), b = random(rnd, s.m());
                        Tensor res = withResidual ? random(rnd, yShape(s)) : Tensor.zeros(DType.FLOAT32, yShape(s));
                        Tensor want = convRef(c, x, w, b, res, act);
                        Tensor mag = convRef(c, abs(x), abs(w), abs(b), abs(res), Activation.NONE);
                        try (Arena arena = Arena.ofShared()) {
                            MemorySegment sx = segment(arena, x, PAD), sw = segment(arena, w, PAD), sb = segment(arena, b, 0);
                            MemorySegment sres = segment(arena, res, 0), sy = segment(arena, want, PAD);
                            sy.asSlice(PAD * 4L, want.numel() * 4L).fill((byte) 0xff); // NaN: every element must be written
                            Epilogue ep = Epilogue.NONE.withRowBias(sb, 0).withActivation(act);
                            if (withResidual) ep = ep.withResidual(sres, 0, s.p());
                            // W packed as weights that stream from memory (read ahead into L2 block by block) in
                            // half the cases
                            Conv2d.PackedWeights packed = pack ? Conv2d.packWeights(s, sw, PAD, withResidual) : null;
                            if (pack) assertNotNull(packed, "the direct loops took " + java.util.Arrays.toString(c));
                            if (pack && packed.groups != null)
                                assertEquals(withResidual && ReadAhead.ENABLED
                                                && packed.groups[0].panels().length >= ReadAhead.MIN_B_FLOATS,
                                        packed.groups[0].readAhead(), java.util.Arrays.toString(c));
                            Conv2d.forward(pool, s, sx, PAD, sw, PAD, sy, PAD, ep, packed);
                            String what = "conv " + java.util.Arrays.toString(c) + " threads=" + pool.threads() + " packed="
                                    + pack + " residual=" + withResidual;
                            assertClose(what, want, mag, floats(sy, PAD, want.numel()), 1.2);
                            assertSentinels(what, sy, PAD, want.numel());
                        }
                    }
    }

    /**
     * The input gradient of the {@link #LATE_LAYERS} with outputs of at most {@link Conv2d#INPUT_IMAGES_MAX_PIXELS}
     * pixels an image (one product over many images, then each image's fold, a gather per input element), against
     * ConvGradInput; and of the largest outputs it takes, 8 x 8 and 7 x 7 dilated, with the direct loops kept out.
     */
    @Test
    void inputGradientOfFewPixelsMatchesConvGradInput() {
        long seed = 400;
        int checked = 0;
        for (int[] c : LATE_LAYERS) {
            Conv2d.Shape s = convShape(c);
            if (s.p() > Conv2d.INPUT_IMAGES_MAX_PIXELS || DirectConv.preferred(s)) continue;
            for (KernelPool pool : new KernelPool[] {one, two}) assertInputGradient(c, pool, seed++, true, Conv2d.MAX_FOLD);
            checked++;
        }
        assertTrue(checked >= 4, "only " + checked + " shapes of at most " + Conv2d.INPUT_IMAGES_MAX_PIXELS + " pixels");
        for (int[] c : new int[][] {{3, 24, 136, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
                {2, 20, 24, 1, 7, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2}})
            for (KernelPool pool : new KernelPool[] {one, two}) assertInputGradient(c, pool, seed++, false, Conv2d.MAX_FOLD);
    }

    static Tensor convRef(int[] c, Tensor x, Tensor w, Tensor b, Tensor res, Activation act) {
        GraphBuilder g = Graph.builder("conv");
        Value y = g.op("Conv", List.of(g.initializer("x", x), g.initializer("w", w), g.initializer("b", b)), convAttrs(c));
        y = g.add(y, g.initializer("res", res));
        y = switch (act) {
            case RELU -> g.relu(y);
            case GELU -> g.op("Gelu", List.of(y), Map.of());
            case SIGMOID -> g.op("Sigmoid", List.of(y), Map.of());
            default -> y;
        };
        g.output(y);
        return (Tensor) Interpreter.run(g.buildModel(), Map.of()).get(0);
    }

    @Test
    void inputGradientMatchesConvGradInput() {
        long seed = 200;
        for (int[] c : CASES)
            for (KernelPool pool : new KernelPool[] {one, two})
                for (boolean direct : new boolean[] {true, false})
                    // im2col (direct false) folds one plane at a time: the blocks a large dX is cut into
                    assertInputGradient(c, pool, seed++, direct, direct ? Conv2d.MAX_FOLD : 1);
    }

    /** Conv2d.backwardInput against ConvGradInput on random dY and W; every element of dX must be written. */
    private static void assertInputGradient(int[] c, KernelPool pool, long seed, boolean direct, int maxFold) {
        assertInputGradient(c, pool, seed, "conv dX direct=" + direct, (s, dy, w, dx) ->
                Conv2d.backwardInput(pool, s, dy, PAD, w, PAD, dx, PAD, direct, maxFold));
    }

    /** An input-gradient kernel under test: dX at {@link #PAD} in dx from dY and W at {@link #PAD}. */
    interface InputGradient {
        void run(Conv2d.Shape s, MemorySegment dy, MemorySegment w, MemorySegment dx);
    }

    /** {@code kernel} against ConvGradInput on random dY and W; every element of dX must be written. */
    static void assertInputGradient(int[] c, KernelPool pool, long seed, String name, InputGradient kernel) {
        Random rnd = new Random(seed);
        Conv2d.Shape s = convShape(c);
        Tensor dy = random(rnd, yShape(s)), w = random(rnd, wShape(s)), xs = shape(xShape(s));
        Tensor want = run(GaleOps.DOMAIN, "ConvGradInput", convAttrs(c), dy, w, xs);
        Tensor mag = run(GaleOps.DOMAIN, "ConvGradInput", convAttrs(c), abs(dy), abs(w), xs);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment sdy = segment(arena, dy, PAD), sw = segment(arena, w, PAD), sdx = segment(arena, want, PAD);
            sdx.asSlice(PAD * 4L, want.numel() * 4L).fill((byte) 0xff);
            kernel.run(s, sdy, sw, sdx);
            String what = name + " " + java.util.Arrays.toString(c) + " threads=" + pool.threads();
            assertClose(what, want, mag, floats(sdx, PAD, want.numel()));
            assertSentinels(what, sdx, PAD, want.numel());
        }
    }

    @Test
    void weightGradientMatchesConvGradWeight() {
        long seed = 300;
        for (int[] c : CASES)
            for (KernelPool pool : new KernelPool[] {one, two})
                for (boolean direct : new boolean[] {true, false}) assertWeightGradient(c, pool, seed++, direct);
    }

    /**
     * The weight gradient of the {@link #LATE_LAYERS}: those of several images with at most
     * {@link Conv2d#WEIGHT_IMAGES_MAX_PIXELS} pixels an image take one product over the images' gathered dY and
     * unfolded inputs; the shape in rounds needs three rounds of images (K = 4608: nine images fill the
     * buffer).
     */
    @Test
    void weightGradientOfFewPixelsMatchesConvGradWeight() {
        long seed = 700;
        int[][] rounds = {{20, 512, 20, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}};
        // the largest outputs it takes: 8 x 8, and 7 x 7 dilated
        int[][] largest = {{3, 24, 136, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
                {2, 20, 24, 1, 7, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2}};
        for (int[][] list : new int[][][] {LATE_LAYERS, rounds, largest})
            for (int[] c : list)
                for (KernelPool pool : new KernelPool[] {one, two})
                    for (boolean direct : new boolean[] {true, false}) assertWeightGradient(c, pool, seed++, direct);
    }

    /** Conv2d.backwardWeight against ConvGradWeight on random dY and X; every element of dW must be written. */
    static void assertWeightGradient(int[] c, KernelPool pool, long seed, boolean direct) {
        Random rnd = new Random(seed);
        Conv2d.Shape s = convShape(c);
        Tensor dy = random(rnd, yShape(s)), x = random(rnd, xShape(s)), ws = shape(wShape(s));
        Tensor want = run(GaleOps.DOMAIN, "ConvGradWeight", convAttrs(c), dy, x, ws);
        Tensor mag = run(GaleOps.DOMAIN, "ConvGradWeight", convAttrs(c), abs(dy), abs(x), ws);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment sdy = segment(arena, dy, PAD), sx = segment(arena, x, PAD), sdw = segment(arena, want, PAD);
            sdw.asSlice(PAD * 4L, want.numel() * 4L).fill((byte) 0xff);
            Conv2d.backwardWeight(pool, s, sdy, PAD, sx, PAD, sdw, PAD, direct);
            String what = "conv dW " + java.util.Arrays.toString(c) + " threads=" + pool.threads() + " direct=" + direct;
            assertClose(what, want, mag, floats(sdw, PAD, want.numel()));
            assertSentinels(what, sdw, PAD, want.numel());
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new Conv2d.Shape(1, 3, 4, 2, Window2d.of(5, 5, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> Window2d.of(2, 2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0));
        Conv2d.Shape s = new Conv2d.Shape(1, 2, 2, 1, Window2d.of(4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
        MemorySegment small = MemorySegment.ofArray(new float[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv2d.forward(one, s, small, 0, small, 0, small, 0, Epilogue.NONE));
        assertTrue(e.getMessage().startsWith("X: elements [0, 32)"), e.getMessage());
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment big = confined.allocate(1024);
            e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(two, s, big, 0, big, 0, big, 0, Epilogue.NONE));
            assertTrue(e.getMessage().contains("confined arena"), e.getMessage());
        }
    }

    /** Subnormal inputs count as zero on the direct and the im2col paths (forward, input and weight gradients). */
    @Test
    void subnormalInputsCountAsZero() {
        for (int[] c : new int[][] {CASES[16], CASES[17], CASES[2]})
            for (boolean direct : new boolean[] {true, false}) {
                Conv2d.Shape s = convShape(c);
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment x = arena.allocate(s.xSize() * 4), w = arena.allocate(s.wSize() * 4), y = arena.allocate(s.ySize() * 4);
                    for (long i = 0; i < s.xSize(); i++) x.setAtIndex(GemmPacking.F, i, i % 2 == 0 ? 1e-39f : -2e-41f);
                    for (long i = 0; i < s.wSize(); i++) w.setAtIndex(GemmPacking.F, i, 0.25f);
                    for (long i = 0; i < s.ySize(); i++) y.setAtIndex(GemmPacking.F, i, 0.5f);
                    String what = java.util.Arrays.toString(c) + " direct=" + direct;
                    MemorySegment out = arena.allocate(Math.max(s.ySize(), s.wSize()) * 4);
                    Conv2d.forward(two, s, x, 0, w, 0, out, 0, Epilogue.NONE, direct);
                    assertZero("conv " + what, out, s.ySize());
                    Conv2d.backwardWeight(two, s, y, 0, x, 0, out, 0, direct);
                    assertZero("conv dW " + what, out, s.wSize());
                    for (long i = 0; i < s.ySize(); i++) y.setAtIndex(GemmPacking.F, i, 3e-40f);
                    MemorySegment dx = arena.allocate(s.xSize() * 4);
                    Conv2d.backwardInput(two, s, y, 0, w, 0, dx, 0, direct);
                    assertZero("conv dX " + what, dx, s.xSize());
                }
            }
    }

    private static void assertZero(String what, MemorySegment m, long count) {
        for (long i = 0; i < count; i++)
            assertEquals(0f, m.getAtIndex(GemmPacking.F, i), what + ": element " + i);
    }

    /**
     * The direct loops' pooled convolution (each register block pooled as it is made) against the same convolution
     * stored whole, then pooled: bit for bit, NaN sentinels around the output intact. 3 x 3 layers the direct loops
     * take, with odd heights and widths (a dropped last row and column), widths below, at and past one vector, a
     * last vector with no pooled pair, channel counts that leave a block part-full, and a 5 x 5 unpadded window.
     */
    @Test
    void pooledConvolutionMatchesPoolingTheStoredResult() {
        int[][] shapes = { // n, c, m, h, w, k, pad
                {3, 1, 8, 28, 28, 3, 1}, {2, 8, 16, 14, 14, 3, 1}, {2, 3, 12, 13, 27, 3, 1}, {1, 2, 5, 6, 6, 3, 1},
                {2, 1, 9, 9, 17, 3, 1}, {1, 4, 8, 7, 33, 3, 1}, {2, 3, 7, 12, 21, 5, 0}};
        long seed = 500;
        for (int[] c : shapes)
            for (boolean max : new boolean[] {true, false})
                for (Activation act : new Activation[] {Activation.NONE, Activation.RELU, Activation.SIGMOID})
                    for (KernelPool pool : new KernelPool[] {one, two}) {
                        Random rnd = new Random(seed++);
                        Window2d g = Window2d.of(c[3], c[4], c[5], c[5], 1, 1, 1, 1, c[6], c[6], c[6], c[6]);
                        Conv2d.Shape s = new Conv2d.Shape(c[0], c[1], c[2], 1, g);
                        assertTrue(Conv2d.poolsInPlace(s), "the direct loops take " + java.util.Arrays.toString(c));
                        Tensor x = random(rnd, xShape(s)), w = random(rnd, wShape(s)), b = random(rnd, s.m());
                        int planes = s.n() * s.m(), pooled = planes * (g.oh() / 2) * (g.ow() / 2);
                        Window2d halving = Window2d.of(g.oh(), g.ow(), 2, 2, 2, 2, 1, 1, 0, 0, 0, 0);
                        try (Arena arena = Arena.ofShared()) {
                            MemorySegment sx = segment(arena, x, PAD), sw = segment(arena, w, PAD), sb = segment(arena, b, 0);
                            // without a bias on NONE, so that a -0 result stays -0 (the bias path adds -0)
                            Epilogue ep = act == Activation.NONE ? Epilogue.NONE
                                    : Epilogue.NONE.withRowBias(sb, 0).withActivation(act);
                            MemorySegment full = arena.allocate((long) planes * g.outSize() * Float.BYTES, 64);
                            MemorySegment want = arena.allocate((long) pooled * Float.BYTES, 64);
                            Conv2d.forward(pool, s, sx, PAD, sw, PAD, full, 0, ep, true);
                            if (max) Pool2d.maxForward(pool, planes, halving, full, 0, want, 0);
                            else Pool2d.averageForward(pool, planes, halving, false, full, 0, want, 0);
                            MemorySegment got = segment(arena, Tensor.zeros(DType.FLOAT32, pooled), PAD);
                            got.asSlice(PAD * 4L, pooled * 4L).fill((byte) 0xff);
                            Conv2d.forwardPooled(pool, s, max, 2, 2, sx, PAD, sw, PAD, got, PAD, ep, null);
                            String what = (max ? "max" : "average") + "-pooled conv+" + act + " "
                                    + java.util.Arrays.toString(c) + " threads=" + pool.threads();
                            float[] wf = floats(want, 0, pooled), gf = floats(got, PAD, pooled);
                            for (int i = 0; i < pooled; i++)
                                if (Float.floatToRawIntBits(wf[i]) != Float.floatToRawIntBits(gf[i]))
                                    fail(what + ": element " + i + " is " + gf[i] + ", expected " + wf[i]);
                            assertSentinels(what, got, PAD, pooled);
                        }
                    }
    }
}
