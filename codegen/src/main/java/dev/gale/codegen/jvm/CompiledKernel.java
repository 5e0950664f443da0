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
 * A kernel compiled for the JVM. {@link #run(Object[], int[], Map)} works on flat buffers at element offsets (how a
 * runtime with one arena calls it); {@link #run(List)} takes and returns tensors.
 *
 * <p>Threads: a nest whose outermost loop is parallel and whose work (elements visited) is large is split over that
 * loop into chunks run on the common fork-join pool; small kernels run on the calling thread.
 */
public final class CompiledKernel {
    /** Elements a nest must visit before it is split across threads. */
    static final long PARALLEL_WORK = 1 << 16;

    private final KernelIR ir;
    private final MethodHandle run;
    private final String source;
    private boolean parallel = true;

    CompiledKernel(KernelIR ir, MethodHandle run, String source) {
        this.ir = ir;
        this.run = run;
        this.source = source;
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
