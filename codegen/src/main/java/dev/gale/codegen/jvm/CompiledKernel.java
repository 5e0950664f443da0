package dev.gale.codegen.jvm;

import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * A kernel compiled for the JVM. {@link #run(Object[], int[], Map)} works on flat arrays at element offsets;
 * {@link #run(List)} takes and returns tensors. A kernel compiled for memory segments
 * ({@link dev.gale.codegen.render.JavaRenderer.Storage#SEGMENTS}, how a runtime with one off-heap arena calls it)
 * runs through a {@link Launch}: {@link #prepare} binds the sizes once, then {@link Launch#run} takes the segments
 * and their element offsets and allocates nothing.
 *
 * <p>Threads: a nest whose outermost loop is parallel and whose work (elements visited) is large is split over that
 * loop into chunks run on the common fork-join pool, or on the caller's {@link Splitter}; small kernels run on the
 * calling thread.
 */
public final class CompiledKernel {
    /** Elements a nest must visit before it is split across threads. */
    static final long PARALLEL_WORK = 1 << 16;

    private final KernelIR ir;
    private final MethodHandle run;
    private final String source;
    private final boolean segments;
    private boolean parallel = true;

    CompiledKernel(KernelIR ir, MethodHandle run, String source, boolean segments) {
        this.ir = ir;
        this.run = run;
        this.source = source;
        this.segments = segments;
    }

    /** Whether the kernel takes memory segments with {@code long} offsets (else arrays with {@code int} offsets). */
    public boolean segments() { return segments; }

    /** Runs {@code tasks} pieces {@code task.accept(0 .. tasks-1)}, on several threads, and returns when all are done. */
    public interface Splitter {
        /** How many threads the pieces may run on. */
        int threads();

        void split(int tasks, java.util.function.IntConsumer task);
    }

    /**
     * The kernel with its sizes bound (checked, and each nest's outer extent and work evaluated), ready to run on
     * segments any number of times.
     */
    public Launch prepare(Map<String, Long> sizes) {
        if (!segments) throw new IllegalStateException("kernel " + ir.name() + " was compiled for arrays");
        String failed = ir.failedCheck(sizes);
        if (failed != null) throw new GaleException("kernel " + ir.name() + ": " + failed);
        int[] s = new int[ir.sizes().size()];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(sizes.get(ir.sizes().get(i).name()));
        int nests = ir.nests().size();
        int[] extents = new int[nests];
        long[] work = new long[nests];
        for (int n = 0; n < nests; n++) {
            KernelIR.Nest nest = ir.nests().get(n);
            Stmt.Loop outer = nest.outerLoop();
            extents[n] = outer == null ? 1 : Math.toIntExact(KernelIR.eval(outer.var().extent(), sizes));
            work[n] = outer == null ? 0 : work(nest.body(), sizes);
        }
        return new Launch(s, extents, work);
    }

    /** A kernel bound to sizes; see {@link #prepare}. */
    public final class Launch {
        private final int[] sizes, extents;
        private final long[] work;

        private Launch(int[] sizes, int[] extents, long[] work) {
            this.sizes = sizes;
            this.extents = extents;
            this.work = work;
        }

        /**
         * Runs every nest on {@code buffers} (memory segments, inputs then outputs) starting at their element
         * {@code offsets}; a large nest is split over its outer loop into pieces run by {@code splitter} (null: the
         * calling thread runs everything).
         */
        public void run(Object[] buffers, long[] offsets, Splitter splitter) {
            int threads = splitter == null ? 1 : splitter.threads();
            for (int n = 0; n < extents.length; n++) {
                int tasks = tasks(n, threads);
                if (tasks <= 1) {
                    runPiece(n, 0, 1, buffers, offsets);
                } else {
                    int nest = n;
                    splitter.split(tasks, c -> runPiece(nest, c, tasks, buffers, offsets));
                }
            }
        }

        public int nests() { return extents.length; }

        /** How many pieces nest {@code n} is split into on {@code threads} threads (1: run it whole). */
        public int tasks(int n, int threads) {
            if (threads <= 1 || work[n] < PARALLEL_WORK) return 1;
            return (int) Math.min(Math.min(extents[n], 2L * threads), work[n] / (PARALLEL_WORK / 4));
        }

        /** Runs piece {@code piece} of {@code pieces} of nest {@code n}'s outer loop (for callers that split it). */
        public void runPiece(int n, int piece, int pieces, Object[] buffers, long[] offsets) {
            long extent = extents[n];
            callSegments(n, buffers, offsets, sizes, (int) (extent * piece / pieces),
                    (int) (extent * (piece + 1) / pieces));
        }
    }

    private void callSegments(int nest, Object[] buffers, long[] offsets, int[] sizes, int lo, int hi) {
        try {
            run.invokeExact(nest, buffers, offsets, sizes, lo, hi);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public KernelIR ir() { return ir; }

    /** The Java source this kernel was compiled from. */
    public String source() { return source; }

    /** Whether large nests may run on several threads (default true). */
    public CompiledKernel parallel(boolean on) {
        parallel = on;
        return this;
    }

    /**
     * Runs the kernel on arrays holding its buffers (inputs, then outputs, in {@link KernelIR#buffers()} order), each
     * starting at its element offset, with the symbolic sizes bound by name.
     */
    public void run(Object[] buffers, int[] offsets, Map<String, Long> sizes) {
        if (segments) {
            Object[] segs = new Object[buffers.length];
            long[] offs = new long[buffers.length];
            for (int i = 0; i < buffers.length; i++) {
                segs[i] = segmentOf(buffers[i]);
                offs[i] = offsets[i];
            }
            prepare(sizes).run(segs, offs, parallel ? COMMON_POOL : null);
            return;
        }
        String failed = ir.failedCheck(sizes);
        if (failed != null) throw new GaleException("kernel " + ir.name() + ": " + failed);
        int[] s = new int[ir.sizes().size()];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(sizes.get(ir.sizes().get(i).name()));
        for (int n = 0; n < ir.nests().size(); n++) {
            KernelIR.Nest nest = ir.nests().get(n);
            Stmt.Loop outer = nest.outerLoop();
            int extent = outer == null ? 1 : Math.toIntExact(KernelIR.eval(outer.var().extent(), sizes));
            if (parallel && outer != null && extent > 1 && work(nest.body(), sizes) >= PARALLEL_WORK) {
                int chunks = Math.min(extent, 4 * ForkJoinPool.getCommonPoolParallelism());
                int nest0 = n;
                List<RecursiveAction> tasks = new ArrayList<>();
                for (int c = 0; c < chunks; c++) {
                    int lo = (int) ((long) extent * c / chunks), hi = (int) ((long) extent * (c + 1) / chunks);
                    tasks.add(new RecursiveAction() {
                        @Override
                        protected void compute() { call(nest0, buffers, offsets, s, lo, hi); }
                    });
                }
                ForkJoinPool.commonPool().invoke(new RecursiveAction() {
                    @Override
                    protected void compute() { invokeAll(tasks); }
                });
            } else {
                call(n, buffers, offsets, s, 0, extent);
            }
        }
    }

    private void call(int nest, Object[] buffers, int[] offsets, int[] sizes, int lo, int hi) {
        try {
            run.invokeExact(nest, buffers, offsets, sizes, lo, hi);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Runs the kernel on tensors (one per input buffer) and returns new output tensors. */
    public List<Tensor> run(List<Tensor> inputs) {
        List<KernelIR.Buffer> in = ir.inputs(), out = ir.outputs();
        if (inputs.size() != in.size())
            throw new GaleException("kernel " + ir.name() + " takes " + in.size() + " inputs, got " + inputs.size());
        Map<String, Long> sizes = ir.bindSizes(inputs);
        Object[] buffers = new Object[ir.buffers().size()];
        for (int i = 0; i < in.size(); i++) {
            Tensor t = inputs.get(i);
            KernelIR.Buffer b = in.get(i);
            if (t.dtype() != b.type() || !Arrays.equals(t.shape(), ir.shape(b, sizes)))
                throw new GaleException("kernel " + ir.name() + ": input " + i + " (" + b.name() + ") must be "
                        + b.type() + Arrays.toString(ir.shape(b, sizes)) + ", got " + t.dtype()
                        + Arrays.toString(t.shape()));
            buffers[i] = t.data();
        }
        List<Tensor> results = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            Tensor t = Tensor.zeros(out.get(i).type(), ir.shape(out.get(i), sizes));
            results.add(t);
            buffers[in.size() + i] = t.data();
        }
        run(buffers, new int[buffers.length], sizes);
        return results;
    }

    /** A heap segment over a tensor's array (bools are bytes). */
    public static java.lang.foreign.MemorySegment segmentOf(Object array) {
        return switch (array) {
            case java.lang.foreign.MemorySegment m -> m;
            case float[] a -> java.lang.foreign.MemorySegment.ofArray(a);
            case double[] a -> java.lang.foreign.MemorySegment.ofArray(a);
            case int[] a -> java.lang.foreign.MemorySegment.ofArray(a);
            case long[] a -> java.lang.foreign.MemorySegment.ofArray(a);
            case byte[] a -> java.lang.foreign.MemorySegment.ofArray(a);
            default -> throw new IllegalArgumentException("no segment over " + array.getClass().getSimpleName());
        };
    }

    /** Pieces on the common fork-join pool. */
    private static final Splitter COMMON_POOL = new Splitter() {
        @Override
        public int threads() { return ForkJoinPool.getCommonPoolParallelism(); }

        @Override
        public void split(int tasks, java.util.function.IntConsumer task) {
            List<RecursiveAction> actions = new ArrayList<>();
            for (int c = 0; c < tasks; c++) {
                int piece = c;
                actions.add(new RecursiveAction() {
                    @Override
                    protected void compute() { task.accept(piece); }
                });
            }
            ForkJoinPool.commonPool().invoke(new RecursiveAction() {
                @Override
                protected void compute() { invokeAll(actions); }
            });
        }
    };

    /** Elements a nest visits: the product of its loop extents, summed over sibling loops. */
    private static long work(List<Stmt> body, Map<String, Long> sizes) {
        long w = 0;
        for (Stmt s : body) {
            if (s instanceof Stmt.Loop l) w += KernelIR.eval(l.var().extent(), sizes) * Math.max(1, work(l.body(), sizes));
            else w++;
        }
        return w;
    }
}
