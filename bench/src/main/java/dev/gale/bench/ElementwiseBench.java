package dev.gale.bench;

import dev.gale.backends.Backends;
import dev.gale.backends.Session;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
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

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Fused elementwise kernels against a plain copy of the same bytes. Each {@code kernel} is a small graph whose
 * elementwise chain the cpu backend's passes fuse into one {@code gale::Kernel}; the session is opened on the
 * {@code cpu} backend and the benchmark runs the steps of its execution plan directly (the feeds were copied into the
 * arena once, in setup), so what is timed is the kernel as the runtime runs it, without the copies in and out that
 * {@code Session.run} adds. {@code impl}:
 * <ul>
 *   <li>{@code copy}: {@code MemorySegment.copy} of {@code (k + 1) n / 2} floats, split over {@code threads} like the
 *       kernel, i.e. the same bytes read plus written (and the same working set) as a kernel reading {@code k} arrays
 *       of {@code n} floats and writing one;</li>
 *   <li>{@code vcopy}: the same copy as a Vector API load/store loop, i.e. with ordinary stores as the kernels
 *       make them ({@code MemorySegment.copy} of large blocks may use streaming stores that skip reading the
 *       destination's cache lines first);</li>
 *   <li>{@code ops}: the runtime's op-by-op steps ({@code -Dgale.cpu.codegen=false});</li>
 *   <li>{@code codegen}: the generated kernel ({@code -Dgale.cpu.codegen=true});</li>
 *   <li>{@code share}: the generated kernel and {@code vcopy} interleaved, one after the other in every invocation,
 *       each timed ({@link Interleaved}): {@code share} is the kernel's GB/s over the copy's, {@code ownRate} and
 *       {@code referenceRate} the two GB/s. The copy moves the same bytes within the plan's arena, from its first
 *       half (the kernel's inputs) to its second (the other inputs and the output), so that the two share one
 *       working set: a copy between buffers of its own would evict the kernel's operands from the cache before
 *       each kernel run, and its own from the kernel's (at 1M floats, chain6's copy ran at 58 GB/s that way against
 *       102 alone).</li>
 * </ul>
 * The {@code gbs} counter is GB/s of the kernel's inputs read plus outputs written (for {@code copy}, bytes read plus
 * written); divide a kernel's by the copy's at the same {@code n} and {@code threads} for the ratio.
 *
 * <pre>
 * bench/gale-bench ElementwiseBench -p n=65536,1048576,16777216 -p threads=1,2
 * bench/gale-bench ElementwiseBench -p impl=share -p kernel=bias_gelu -p n=1048576,16777216 -p threads=1,2
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class ElementwiseBench {
    /** Elements of each full-size operand (a multiple of {@link #COLS}). */
    @Param({"65536", "1048576", "16777216"})
    public int n;

    /**
     * {@code bias_gelu}: y = gelu(x + b), b[1024] broadcast over rows; {@code mul_add_relu}: z = relu(a * b + c);
     * {@code chain6}: y = tanh(relu(x + b) * x - 0.5) + x (six ops).
     */
    @Param({"bias_gelu", "mul_add_relu", "chain6"})
    public String kernel;

    @Param({"copy", "vcopy", "ops", "codegen", "share"})
    public String impl;

    @Param({"1", "2"})
    public int threads;

    static final int COLS = 1024;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Session session;
    private MethodHandle[] steps;
    private Arena arena;
    private KernelPool pool;
    private MemorySegment src, dst;
    private long copyFloats;
    private long bytes, copyBytes;

    @Setup
    public void setup() throws ReflectiveOperationException {
        System.setProperty("gale.threads", Integer.toString(threads));
        if (!List.of("copy", "vcopy", "ops", "codegen", "share").contains(impl))
            throw new IllegalArgumentException("impl is copy, vcopy, ops, codegen or share, not " + impl);
        System.setProperty("gale.cpu.codegen", Boolean.toString(!impl.equals("ops")));
        Graph g = graph(kernel, n);
        int bigInputs = (int) g.runtimeInputs().stream().filter(v -> numel(v) == n).count();
        copyFloats = (long) (bigInputs + 1) * n / 2;
        copyBytes = 2 * copyFloats * Float.BYTES;
        if (impl.endsWith("copy")) pool = new KernelPool(threads);
        if (impl.endsWith("copy")) {
            arena = Arena.ofShared();
            src = Data.random(arena, copyFloats * Float.BYTES, 1);
            dst = arena.allocate(copyFloats * Float.BYTES, 64);
            dst.fill((byte) 0);
            bytes = copyBytes;
            return;
        }
        session = Backends.get("cpu").open(Model.of(g));
        Map<String, Object> feeds = new HashMap<>();
        SplittableRandom r = new SplittableRandom(7);
        for (Value v : g.runtimeInputs()) {
            float[] data = new float[Math.toIntExact(numel(v))];
            for (int i = 0; i < data.length; i++) data[i] = (float) (r.nextDouble() * 4 - 2);
            feeds.put(v.name(), new Tensor(DType.FLOAT32, v.tensorType().shape().sizes(), data));
        }
        session.run(feeds); // builds the plan and copies the feeds into its arena, where they stay
        steps = steps(session);
        if (impl.equals("share")) {
            // the copy over the arena the kernel works in (see the class comment)
            MemorySegment mem = (MemorySegment) field(((List<?>) field(session, "plans")).getFirst(), "mem");
            if (mem.byteSize() < copyBytes) throw new IllegalStateException("arena of " + mem.byteSize()
                    + " bytes, smaller than the " + copyBytes + " bytes the copy moves");
            src = mem.asSlice(0, copyFloats * Float.BYTES);
            dst = mem.asSlice(copyFloats * Float.BYTES, copyFloats * Float.BYTES);
            // and over the session's own threads: with a pool of its own, its idle worker yielded on the core the
            // kernel's worker needed (and the other way round), and the 2-thread share at 1M floats swung between
            // 0.5 and 0.97 from one iteration to the next
            pool = (KernelPool) field(session, "pool");
        }
        bytes = 0;
        for (Value v : g.runtimeInputs()) bytes += numel(v) * Float.BYTES;
        for (Value v : g.outputs()) bytes += numel(v) * Float.BYTES;
        System.out.println("\n" + kernel + " " + impl + ": " + steps.length + " steps; "
                + session.getClass().getMethod("describePlans").invoke(session));
    }

    @TearDown
    public void tearDown() throws Exception {
        if (session != null) session.close();
        if (pool != null && impl.endsWith("copy")) pool.close(); // with share it is the session's
        if (arena != null) arena.close();
    }

    @Benchmark
    public void run(Bandwidth bw, Interleaved share) throws Throwable {
        if (impl.equals("share")) {
            long t0 = System.nanoTime();
            for (MethodHandle s : steps) s.invokeExact();
            long t1 = System.nanoTime();
            copy(true);
            share.add(bytes, t1 - t0, copyBytes, System.nanoTime() - t1);
        } else if (steps == null) {
            copy(impl.equals("vcopy"));
        } else {
            for (MethodHandle s : steps) s.invokeExact();
        }
        bw.gbs += bytes / 1e9;
    }

    /** Copies {@code copyFloats} floats from src to dst over the pool, by {@code MemorySegment.copy} or vectors. */
    private void copy(boolean vector) {
        int tasks = threads == 1 ? 1 : 4 * threads;
        long chunk = (copyFloats + tasks - 1) / tasks;
        pool.parallelFor(tasks, (i, s) -> {
            long lo = i * chunk, hi = Math.min(copyFloats, lo + chunk);
            if (lo >= hi) return;
            if (!vector) {
                MemorySegment.copy(src, lo << 2, dst, lo << 2, (hi - lo) << 2);
                return;
            }
            long k = lo;
            for (long end = hi - (hi - lo) % F.length(); k < end; k += F.length())
                FloatVector.fromMemorySegment(F, src, k << 2, ByteOrder.nativeOrder())
                        .intoMemorySegment(dst, k << 2, ByteOrder.nativeOrder());
            for (; k < hi; k++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, k, src.getAtIndex(ValueLayout.JAVA_FLOAT, k));
        });
    }

    static Graph graph(String kernel, int n) {
        GraphBuilder b = Graph.builder(kernel);
        long rows = n / COLS;
        switch (kernel) {
            case "bias_gelu" -> {
                Value x = b.input("x", DType.FLOAT32, rows, (long) COLS);
                Value bias = b.input("b", DType.FLOAT32, (long) COLS);
                b.output(b.op("Gelu", List.of(b.add(x, bias)), Map.of("approximate", Attr.of("none"))));
            }
            case "mul_add_relu" -> {
                Value x = b.input("a", DType.FLOAT32, rows, (long) COLS);
                Value y = b.input("b", DType.FLOAT32, rows, (long) COLS);
                Value z = b.input("c", DType.FLOAT32, rows, (long) COLS);
                b.output(b.relu(b.add(b.mul(x, y), z)));
            }
            case "chain6" -> {
                Value x = b.input("x", DType.FLOAT32, rows, (long) COLS);
                Value bias = b.input("b", DType.FLOAT32, (long) COLS);
                Value half = b.initializer("half", Tensor.scalar(DType.FLOAT32, 0.5));
                b.output(b.add(b.tanh(b.sub(b.mul(b.relu(b.add(x, bias)), x), half)), x));
            }
            default -> throw new IllegalArgumentException("unknown kernel " + kernel);
        }
        return b.build();
    }

    private static long numel(Value v) {
        long k = 1;
        for (long d : v.tensorType().shape().sizes()) k *= d;
        return k;
    }

    /** The steps of the session's plan, as handles that run them (the runtime's classes are package-private). */
    private static MethodHandle[] steps(Session session) throws ReflectiveOperationException {
        Object plan = ((List<?>) field(session, "plans")).getFirst();
        Object[] steps = (Object[]) field(plan, "steps");
        Class<?> stepType = steps.getClass().getComponentType();
        Method run = stepType.getDeclaredMethod("run");
        run.setAccessible(true);
        MethodHandle h = MethodHandles.lookup().unreflect(run);
        MethodHandle[] r = new MethodHandle[steps.length];
        for (int i = 0; i < steps.length; i++)
            r[i] = h.bindTo(steps[i]).asType(java.lang.invoke.MethodType.methodType(void.class));
        return r;
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    /** GB moved per second: the counter JMH divides by the iteration's time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bandwidth {
        public double gbs;

        @Setup(Level.Iteration)
        public void start() { gbs = 0; }
    }
}
