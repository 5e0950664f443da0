package dev.gale.bench;

import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.Sgemm;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * SGEMM throughput, {@code C[n x n] = A[n x n] B[n x n]} on off-heap operands. The {@code gflop} counter reports
 * GFLOP/s (2 n^3 flops per product); {@code cpuSeconds} the process CPU time per second of wall time, which shows how
 * much of the machine the run actually had.
 *
 * <p>{@code impl=openblas} runs the same product with OpenBLAS's {@code cblas_sgemm} ({@link OpenBlas}), the peer to
 * read Gale's figures against: a ratio taken in one run means more than GFLOP/s on a shared machine.
 * {@code impl=peak} runs no product: it measures the FMA peak of {@code threads} cores as they are during the run
 * ({@link FmaPeak}), the same number of flops as a product of {@code size} split over the threads, one task per
 * thread. Gale's {@code gflop} divided by the peak's, at the same {@code threads}, is the share of peak.
 *
 * <p>{@code impl=share} takes that share with the two interleaved: each invocation runs one Gale product and then the
 * peak loop for the same flops, timing each, so a change of clock or a busy neighbour during the run falls on both
 * alike (with {@code impl=gale} and {@code impl=peak} the two are seconds apart, and on a shared machine their ratio
 * moved by several percent between runs). Its counters ({@link Interleaved}): {@code share} (Gale's GFLOP/s over the
 * peak's), {@code ownRate} (Gale's GFLOP/s) and {@code referenceRate} (the peak's); the primary score counts
 * invocations.
 *
 * <pre>
 * bench/gale-bench GemmBench -p size=1024 -p threads=1,2 -p impl=gale,openblas,peak
 * bench/gale-bench GemmBench -p size=1024 -p threads=1,2 -p impl=share
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class GemmBench {
    @Param({"64", "128", "256", "512", "1024"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    /** Which operands are stored transposed: "nn", "nt" (a linear layer's x W^T), "tn", "tt". */
    @Param({"nn"})
    public String layout;

    /**
     * {@code gale} (Sgemm), {@code openblas} (cblas_sgemm through FFM), {@code peak} (the FMA peak, no product) or
     * {@code share} (Gale and the peak interleaved, see the class comment).
     */
    @Param({"gale"})
    public String impl;

    private Arena arena;
    private OpenBlas blas;
    private KernelPool pool;
    private MemorySegment a, b, c;
    /** Where each peak task leaves its result, so that its loop is kept. */
    private float[] peakSink;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        long bytes = (long) size * size * Float.BYTES;
        a = Data.random(arena, bytes, 1);
        b = Data.random(arena, bytes, 2);
        c = arena.allocate(bytes, 64);
        pool = new KernelPool(threads);
        peakSink = new float[threads];
        if (impl.equals("openblas")) blas = OpenBlas.load(threads);
        else if (!impl.equals("gale") && !impl.equals("peak") && !impl.equals("share"))
            throw new IllegalArgumentException("impl is gale, openblas, peak or share, not " + impl);
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public void gemm(Flops flops, Interleaved share) {
        boolean ta = layout.charAt(0) == 't', tb = layout.charAt(1) == 't';
        if (impl.equals("peak")) {
            flops.gflop += peak() / 1e9;
            return;
        }
        if (impl.equals("share")) {
            long t0 = System.nanoTime();
            galeProduct(ta, tb);
            long t1 = System.nanoTime();
            double peakFlops = peak();
            share.add(2.0 * size * size * size, t1 - t0, peakFlops, System.nanoTime() - t1);
            return;
        }
        if (blas != null) blas.sgemm(ta, tb, size, size, size, 1f, a, size, b, size, 0f, c, size);
        else galeProduct(ta, tb);
        flops.gflop += 2.0 * size * size * size / 1e9;
    }

    private void galeProduct(boolean ta, boolean tb) {
        Sgemm.gemm(pool, ta, tb, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size, Epilogue.NONE);
    }

    /** The peak loop for about the flops of one product, one task per thread; returns the flops it ran. */
    private double peak() {
        long steps = 2L * size * size * size / threads / FmaPeak.FLOPS_PER_STEP;
        pool.parallelFor(threads, (t, s) -> peakSink[t] += FmaPeak.run(steps, t));
        return (double) steps * threads * FmaPeak.FLOPS_PER_STEP;
    }

    /** Per-iteration counters JMH divides by the iteration's time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
        public double cpuSeconds;
        private long cpuStart;

        @Setup(Level.Iteration)
        public void start() {
            gflop = 0;
            cpuSeconds = 0;
            cpuStart = Data.processCpuNanos();
        }

        @TearDown(Level.Iteration)
        public void stop() { cpuSeconds = (Data.processCpuNanos() - cpuStart) / 1e9; }
    }
}
