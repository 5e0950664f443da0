package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.DenormalFlush;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph compiled for one set of input shapes: one off-heap arena holding every float32 tensor of static shape at
 * its planned offset (allocated and touched once, when the plan is built), the boxes holding everything else, and
 * the steps in execution order. {@link #run} copies the feeds in, runs the steps and copies the outputs out; the
 * steps themselves allocate nothing except in nodes that fall back to the interpreter. Values in bound regions
 * ({@link dev.gale.backends.Session#bind}) are not copied at all: the caller reads and writes them in place, so a
 * plan with its float32 inputs and outputs bound runs with no allocation proportional to the model.
 */
final class ExecutionPlan implements AutoCloseable {
    /** How a graph input was given when the plan was built: its tensor type, or not a tensor, or absent. */
    record InputKind(DType dtype, long[] shape, boolean present) {
        static InputKind of(Object v) {
            if (v instanceof Tensor t) return new InputKind(t.dtype(), t.shape(), true);
            return new InputKind(null, null, v != null);
        }

        /** A tensor of this static type, given. */
        static InputKind of(dev.gale.ir.Type type) {
            var t = (dev.gale.ir.Type.TensorType) type;
            return new InputKind(t.dtype(), t.shape().sizes(), true);
        }

        boolean matches(Object v) {
            if (!(v instanceof Tensor t)) return dtype == null && present == (v != null);
            if (t.dtype() != dtype || t.rank() != shape.length) return false;
            for (int i = 0; i < shape.length; i++) if (t.dim(i) != shape[i]) return false;
            return true;
        }
    }

    /** A graph input; a bound one lives in a caller's region and may be left out of the feeds. */
    record Input(String name, Slot slot, Tensor defaultValue, InputKind kind, boolean bound) {}

    private final Arena arena;
    private final MemorySegment mem;
    private final Object[] boxes;
    private final Step[] steps;
    private final Node[] nodes;
    private final Input[] inputs;
    private final boolean[] overridden;
    private final Slot[] outputs;
    private final boolean[] outputBound;
    private final List<MemorySegment> regions;
    private final Set<Object> owned;
    private final List<FallbackStep> fallbacks;
    private final Map<String, Integer> nativeOps, fallbackOps;
    private final long arenaBytes;
    private final int planned;
    private final KernelPool pool;
    /**
     * Whether runs use the pool's workers or the calling thread alone ({@code -Dgale.cpu.threadChoice=false}: always
     * the workers). The mode stays set on the pool after a run, so that the optimizer's update that follows a
     * training step's plan runs the same way.
     */
    private final ThreadChoice threadChoice;
    /** The caller's floating-point environment while a run flushes subnormals ({@link KernelPool#beginFlush}). */
    private final MemorySegment callerEnvironment;

    ExecutionPlan(KernelPool pool, Arena arena, MemorySegment mem, Object[] boxes, List<Step> steps, List<Node> nodes,
                  List<Input> inputs, List<Slot> outputs, boolean[] outputBound, List<MemorySegment> regions,
                  List<FallbackStep> fallbacks, Map<String, Integer> nativeOps, Map<String, Integer> fallbackOps,
                  int planned) {
        this.planned = planned;
        this.pool = pool;
        this.threadChoice = new ThreadChoice(pool.threads(),
                Boolean.parseBoolean(System.getProperty("gale.cpu.threadChoice", "true")));
        this.arena = arena;
        this.callerEnvironment = DenormalFlush.newEnvironment(arena);
        this.mem = mem;
        this.boxes = boxes;
        this.steps = steps.toArray(Step[]::new);
        this.nodes = nodes.toArray(Node[]::new);
        this.inputs = inputs.toArray(Input[]::new);
        this.overridden = new boolean[this.inputs.length];
        this.outputs = outputs.toArray(Slot[]::new);
        this.outputBound = outputBound.clone();
        this.regions = List.copyOf(regions);
        this.fallbacks = List.copyOf(fallbacks);
        this.nativeOps = Collections.unmodifiableMap(nativeOps);
        this.fallbackOps = Collections.unmodifiableMap(fallbackOps);
        this.arenaBytes = mem.byteSize();
        this.profile = Boolean.getBoolean("gale.cpu.profile") ? new long[this.steps.length] : null;
        Set<Object> own = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Object b : boxes) if (b != null) own.add(b);
        for (Input in : this.inputs) if (in.defaultValue() != null) own.remove(in.defaultValue());
        this.owned = own;
    }

    /**
     * True when these feeds have the element types and shapes this plan was built for (a bound input may be absent,
     * or given with its shape).
     */
    boolean matches(Map<String, Object> feeds) {
        for (Input in : inputs) {
            Object v = feeds.get(in.name());
            if (in.bound() && v == null) continue;
            if (!in.kind().matches(v)) return false;
        }
        return true;
    }

    /** The first input the feeds lack that the plan needs (not bound, no default), or null. */
    Input missing(Map<String, Object> feeds) {
        for (Input in : inputs)
            if (!in.bound() && in.defaultValue() == null && feeds.get(in.name()) == null) return in;
        return null;
    }

    /** True when some region is bound. */
    boolean bound() { return !regions.isEmpty(); }

    /** The bound regions' memory, in the order they were asked for. */
    List<MemorySegment> regions() { return regions; }

    Map<String, Integer> nativeOps() { return nativeOps; }

    Map<String, Integer> fallbackOps() { return fallbackOps; }

    long arenaBytes() { return arenaBytes; }

    int steps() { return steps.length; }

    void seed(long seed) {
        for (FallbackStep f : fallbacks) f.seed(seed);
    }

    /** Runs the steps on the calling thread and the pool, with subnormals flushed where the pool does that. */
    List<Object> run(Map<String, Object> feeds) {
        boolean flushing = pool.beginFlush(callerEnvironment);
        pool.callerOnly(threadChoice.nextSerial());
        long t0 = System.nanoTime();
        try {
            List<Object> out = runSteps(feeds);
            threadChoice.record(System.nanoTime() - t0); // a run that failed says nothing about the threads
            return out;
        } finally {
            pool.endFlush(callerEnvironment, flushing);
        }
    }

    private List<Object> runSteps(Map<String, Object> feeds) {
        for (int i = 0; i < inputs.length; i++) {
            Input in = inputs[i];
            Object v = feeds.get(in.name());
            Slot s = in.slot();
            if (in.bound() && v == null) continue;
            if (s.inArena()) {
                Tensor t = v != null ? (Tensor) v : overridden[i] ? in.defaultValue() : null;
                if (t != null && (t.dtype() != DType.FLOAT32 || t.numel() != s.numel))
                    throw new GaleException("input '" + in.name() + "' is " + t.type() + ", expected " + s.type);
                if (t != null) copyIn(t.floats(), s.offset, (int) t.numel());
                overridden[i] = v != null && in.defaultValue() != null;
            } else {
                boxes[s.box] = v != null ? v : in.defaultValue();
            }
        }
        long[] prof = profiledRuns >= PROFILE_SKIP ? profile : null;
        for (int i = 0; i < steps.length; i++) {
            try {
                if (prof == null) {
                    steps[i].run();
                } else {
                    long t0 = System.nanoTime();
                    steps[i].run();
                    prof[i] += System.nanoTime() - t0;
                }
            } catch (GaleException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new GaleException(nodes[i].describe() + ": " + e, e);
            }
        }
        profiledRuns++;
        List<Object> result = new ArrayList<>(outputs.length);
        for (int i = 0; i < outputs.length; i++) {
            Slot s = outputs[i];
            if (outputBound[i]) {
                result.add(null);
            } else if (s.inArena()) {
                float[] data = new float[Math.toIntExact(s.numel)];
                MemorySegment.copy(mem, Vec.F, s.offset << 2, data, 0, data.length);
                result.add(new Tensor(DType.FLOAT32, s.shape, data));
            } else {
                Object v = boxes[s.box];
                result.add(owned.contains(v) ? copy((Tensor) v) : v);
            }
        }
        return result;
    }

    /** Inputs of at least this many floats are copied in by all of the pool's threads. */
    static final int PARALLEL_COPY_FLOATS = 1 << 14;

    /**
     * Copies a fed input into the arena, a large one in a slice per thread: the next step's threads then find their
     * share of it in their own cache, not only in the caller's. The 784-256-10 MLP at batch 64 (a 200 KB input read
     * in place by a two-thread GEMM) ran in 0.129-0.130 ms instead of 0.142-0.143 (alternating blocks, 2026-11-28).
     */
    private void copyIn(float[] data, long offset, int n) {
        if (pool.threads() == 1 || n < PARALLEL_COPY_FLOATS) {
            MemorySegment.copy(data, 0, mem, Vec.F, offset << 2, n);
            return;
        }
        int parts = pool.threads();
        pool.parallelFor(parts, (task, scratch) -> {
            int a = (int) ((long) n * task / parts) & ~15;
            int b = task == parts - 1 ? n : (int) ((long) n * (task + 1) / parts) & ~15;
            MemorySegment.copy(data, a, mem, Vec.F, (offset + a) << 2, b - a);
        });
    }

    private static Tensor copy(Tensor t) {
        Object d = switch (t.data()) {
            case float[] a -> a.clone();
            case double[] a -> a.clone();
            case long[] a -> a.clone();
            case int[] a -> a.clone();
            case short[] a -> a.clone();
            case byte[] a -> a.clone();
            case boolean[] a -> a.clone();
            case String[] a -> a.clone();
            default -> throw new IllegalStateException("unexpected tensor storage " + t.data().getClass());
        };
        return new Tensor(t.dtype(), t.shape(), d);
    }

    /** Nanoseconds spent in each step over all runs, with {@code -Dgale.cpu.profile=true}; else null. */
    private final long[] profile;
    private long profiledRuns;
    /** Runs not profiled at first (JIT warmup), {@code -Dgale.cpu.profile.skip=N}. */
    private static final long PROFILE_SKIP = Long.getLong("gale.cpu.profile.skip", 0);

    /** The steps that took the most time over the runs so far, one line each (profiling on). */
    String profileReport(int top) {
        if (profile == null) return "";
        Integer[] order = new Integer[profile.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Long.compare(profile[b], profile[a]));
        long total = 0;
        for (long t : profile) total += t;
        StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT,
                "gale cpu profile: %d runs, %.3f ms per run in %d steps%n", profiledRuns - PROFILE_SKIP,
                total / 1e6 / Math.max(1, profiledRuns - PROFILE_SKIP), steps.length));
        sb.append("  threads: ").append(threadChoice.summary()).append('\n');
        for (int k = 0; k < Math.min(top, order.length); k++) {
            int i = order[k];
            sb.append(String.format(java.util.Locale.ROOT, "  %6.3f ms %5.1f%%  %s%n",
                    profile[i] / 1e6 / Math.max(1, profiledRuns - PROFILE_SKIP), 100.0 * profile[i] / Math.max(1, total),
                    nodes[i].describe()));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        if (profile != null) System.err.print(profileReport(Integer.getInteger("gale.cpu.profile.top", 15)));
        arena.close();
    }

    @Override
    public String toString() {
        return (regions.isEmpty() ? "" : "bound ") + "plan of " + steps.length + " steps, arena " + arenaBytes + " bytes (" + planned
                + " values at the memory plan's offsets), native " + nativeOps
                + ", fallback " + fallbackOps + ", inputs " + Arrays.stream(inputs).map(Input::name).toList();
    }
}
