package dev.gale.bench;

import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.PackedB;
import dev.gale.backends.cpu.Sgemm;
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
 * A linear layer's product with constant weights, {@code Y[m x n] = X[m x k] W^T} with W stored n x k as PyTorch
 * holds it: the inference case, where Gale packs W once when the plan is built. {@code shape} is {@code m x n x k};
 * the default shapes are the 1024-4096-4096-1024 MLP's layers at batch 32 and 64 (their weights, 16 and 64 MB, come
 * from DRAM once they exceed the last-level cache). The {@code gflop} counter reports GFLOP/s.
 *
 * <ul>
 *   <li>{@code impl=packed}: W packed for this m ({@code PackedB.pack(..., m)}: column panels for a batch of about
 *       32 rows, GEMM panels otherwise), as the {@code cpu} backend runs a model;</li>
 *   <li>{@code impl=panels}: W packed in GEMM panels whatever m is, to compare the two layouts;</li>
 *   <li>{@code impl=gale}: no packing ahead (W packed on every call);</li>
 *   <li>{@code impl=openblas}: OpenBLAS's {@code cblas_sgemm} on the same operands, the peer in the same run.</li>
 * </ul>
 *
 * <pre>
 * bench/gale-bench LinearBench -p shape=32x4096x1024,32x4096x4096 -p impl=packed,panels,openblas -p threads=2
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class LinearBench {
    @Param({"32x4096x1024", "32x4096x4096", "64x4096x1024", "64x4096x4096"})
    public String shape;

    @Param({"2"})
    public int threads;

    /** {@code packed}, {@code panels}, {@code gale} or {@code openblas} (see the class comment). */
    @Param({"packed", "panels"})
    public String impl;

    private int m, n, k;
    private Arena arena;
    private OpenBlas blas;
    private KernelPool pool;
    private PackedB packed;
    private MemorySegment x, w, y;

    @Setup
    public void setup() {
        String[] d = shape.split("x");
        if (d.length != 3) throw new IllegalArgumentException("shape is m x n x k, e.g. 32x4096x1024, not " + shape);
        m = Integer.parseInt(d[0]);
        n = Integer.parseInt(d[1]);
        k = Integer.parseInt(d[2]);
        arena = Arena.ofShared();
        x = Data.random(arena, (long) m * k * Float.BYTES, 1);
        w = Data.random(arena, (long) n * k * Float.BYTES, 2);
        y = arena.allocate((long) m * n * Float.BYTES, 64);
        pool = new KernelPool(threads);
        switch (impl) {
            case "packed" -> packed = PackedB.pack(true, w, 0, k, k, n, m);
            case "panels" -> packed = PackedB.pack(true, w, 0, k, k, n);
            case "openblas" -> blas = OpenBlas.load(threads);
            case "gale" -> { }
            default -> throw new IllegalArgumentException("impl is packed, panels, gale or openblas, not " + impl);
        }
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public void linear(GemmBench.Flops flops) {
        if (blas != null) blas.sgemm(false, true, m, n, k, 1f, x, k, w, k, 0f, y, n);
        else if (packed != null) Sgemm.gemm(pool, false, m, 1f, x, 0, k, packed, 0f, y, 0, n, Epilogue.NONE);
        else Sgemm.gemm(pool, false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, y, 0, n, Epilogue.NONE);
        flops.gflop += 2.0 * m * n * k / 1e9;
    }
}
