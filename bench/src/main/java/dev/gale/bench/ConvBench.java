package dev.gale.bench;

import dev.gale.backends.cpu.Conv2d;
import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.Window2d;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Convolution throughput on ResNet-like layers (batch 8): forward with bias and ReLU fused, and both gradients.
 * GFLOP/s counts 2 n m (c / groups) kh kw oh ow flops per pass.
 *
 * <pre>
 * bench/gale-bench ConvBench -p layer=3x3 -p threads=2
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class ConvBench {
    /**
     * 3x3: 64 -> 64 channels at 56x56, pad 1; 1x1: 256 -> 64 at 56x56; 3x3s2: 128 -> 128 at 56x56, stride 2;
     * cnn1 and cnn2: the bench CNN's layers at batch 32 (1 -> 8 channels at 28x28 and 8 -> 16 at 14x14, 3x3, pad 1),
     * which {@code forwardPooled} follows with their 2x2 max pooling; r18stem, r18l2, r18l3, r18l4: the bench ResNet-18's
     * (3 x 64 x 64 images, batch 8) 7x7 stride-2 stem (3 -> 64 channels) and the 3x3 convolutions of its second,
     * third and fourth stages (128 channels at 8x8, 256 at 4x4, 512 at 2x2), few pixels an image and many channels.
     */
    @Param({"3x3", "1x1", "3x3s2", "cnn1", "cnn2", "r18stem", "r18l2", "r18l3", "r18l4"})
    public String layer;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private KernelPool pool;
    private Conv2d.Shape shape;
    private MemorySegment x, w, y, bias, tmp;
    private double gflopPerPass;

    @Setup
    public void setup() {
        shape = switch (layer) {
            case "3x3" -> new Conv2d.Shape(8, 64, 64, 1, Window2d.of(56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
            case "1x1" -> new Conv2d.Shape(8, 256, 64, 1, Window2d.of(56, 56, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0));
            case "3x3s2" -> new Conv2d.Shape(8, 128, 128, 1, Window2d.of(56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1));
            case "cnn1" -> new Conv2d.Shape(32, 1, 8, 1, Window2d.of(28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
            case "cnn2" -> new Conv2d.Shape(32, 8, 16, 1, Window2d.of(14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
            case "r18stem" -> new Conv2d.Shape(8, 3, 64, 1, Window2d.of(64, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3));
            case "r18l2" -> new Conv2d.Shape(8, 128, 128, 1, Window2d.of(8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
            case "r18l3" -> new Conv2d.Shape(8, 256, 256, 1, Window2d.of(4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
            case "r18l4" -> new Conv2d.Shape(8, 512, 512, 1, Window2d.of(2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1));
            default -> throw new IllegalArgumentException("unknown layer " + layer);
        };
        Window2d g = shape.window();
        arena = Arena.ofShared();
        x = Data.random(arena, 4L * shape.n() * shape.c() * g.inSize(), 1);
        w = Data.random(arena, 4L * shape.m() * shape.c() / shape.groups() * g.kernelSize(), 2);
        bias = Data.random(arena, 4L * shape.m(), 3);
        y = Data.random(arena, 4L * shape.n() * shape.m() * g.outSize(), 4);
        tmp = Conv2d.poolsInPlace(shape) ? null : arena.allocate(4L * shape.n() * shape.m() * g.outSize(), 64);
        gflopPerPass = 2.0 * shape.n() * shape.m() * shape.c() / shape.groups() * g.kernelSize() * g.outSize() / 1e9;
        pool = new KernelPool(threads);
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public void forward(GemmBench.Flops flops) {
        Conv2d.forward(pool, shape, x, 0, w, 0, y, 0, Epilogue.NONE.withRowBias(bias, 0)
                .withActivation(dev.gale.backends.cpu.Activation.RELU));
        flops.gflop += gflopPerPass;
    }

    /**
     * The forward pass followed by a 2x2 max pooling, fused ({@code Conv2d.forwardPooled}: the direct loops pool each
     * block while it is in cache; other layers convolve into {@code tmp} first). Compare with {@code forward}, which
     * writes the whole result; GFLOP/s counts the convolution only.
     */
    @Benchmark
    public void forwardPooled(GemmBench.Flops flops) {
        Conv2d.forwardPooled(pool, shape, true, 2, 2, x, 0, w, 0, y, 0, Epilogue.NONE.withRowBias(bias, 0)
                .withActivation(dev.gale.backends.cpu.Activation.RELU), tmp);
        flops.gflop += gflopPerPass;
    }

    @Benchmark
    public void backwardInput(GemmBench.Flops flops) {
        Conv2d.backwardInput(pool, shape, y, 0, w, 0, x, 0);
        flops.gflop += gflopPerPass;
    }

    private MemorySegment[] coldW;
    private int coldAt;

    /**
     * {@code backwardWeight} into a dW that is not in any cache, as in a training step, where the optimizer's sweep
     * over all the parameters comes between two writes of one layer's dW: each call writes the next of as many dW
     * buffers as fill 512 MiB, more than the L3. ResNet-18's 512-channel layer (9.4 MB of dW): 143 GFLOP/s into a warm
     * dW, 87 into a cold one.
     */
    @Benchmark
    public void backwardWeightCold(GemmBench.Flops flops) {
        if (coldW == null) {
            int copies = (int) Math.max(2, (512L << 20) / w.byteSize());
            coldW = new MemorySegment[copies];
            for (int i = 0; i < copies; i++) coldW[i] = Data.random(arena, w.byteSize(), 5 + i);
        }
        MemorySegment dw = coldW[coldAt++ % coldW.length];
        Conv2d.backwardWeight(pool, shape, y, 0, x, 0, dw, 0);
        flops.gflop += gflopPerPass;
    }

    @Benchmark
    public void backwardWeight(GemmBench.Flops flops) {
        Conv2d.backwardWeight(pool, shape, y, 0, x, 0, w, 0);
        flops.gflop += gflopPerPass;
    }
}
