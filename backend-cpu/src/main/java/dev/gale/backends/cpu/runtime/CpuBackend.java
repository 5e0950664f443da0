package dev.gale.backends.cpu.runtime;

import dev.gale.backends.Backend;
import dev.gale.backends.Session;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.interp.Interpreter;
import dev.gale.backends.interp.Kernels;
import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.op.OpTable;

/**
 * The {@code cpu} backend: compiles a model with Gale's passes and runs it from one off-heap arena with Vector API
 * kernels (GEMM, convolution, pooling, elementwise, reductions, normalization, losses) on a fixed pool of threads,
 * one per core ({@code -Dgale.threads=N} to choose); ops it has no step for run on the reference interpreter's
 * kernels.
 *
 * <pre>{@code
 * try (Session s = Backends.get("cpu").open(model)) {
 *     List<Object> out = s.run(Map.of("x", batch));
 * }
 * }</pre>
 */
public final class CpuBackend implements Backend {
    @Override
    public String name() { return "cpu"; }

    @Override
    public Session open(Model model) {
        checkSupported(model.graph());
        CompilePipeline.Result opened = CompilePipeline.optimize(model.graph(),
                CompilePipeline.graphPasses(CompilePipeline.OPEN_PASSES), false);
        return new CpuSession(opened, pool());
    }

    private static volatile KernelPool sized;

    /**
     * The kernel pool: one participant per available processor ({@link KernelPool#shared()}), or
     * {@code -Dgale.threads=N} of them.
     */
    static KernelPool pool() {
        Integer n = Integer.getInteger("gale.threads");
        if (n == null || n < 1) return KernelPool.shared();
        KernelPool p = sized;
        if (p == null || p.threads() != n) {
            synchronized (CpuBackend.class) {
                if (sized == null || sized.threads() != n) sized = new KernelPool(n);
                p = sized;
            }
        }
        return p;
    }

    /** Fails early, naming the first op neither the runtime nor the interpreter can run. */
    private static void checkSupported(Graph g) {
        for (Node n : g.nodes()) {
            OpTable.require(n.domain(), n.op(), n.describe());
            if (!NativeOps.has(n.domain(), n.op()) && !Kernels.supports(n.domain(), n.op()))
                throw new Interpreter.UnsupportedOpException(n.describe() + ": the cpu backend has no kernel for this op");
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) checkSupported(ga.value());
                if (a instanceof Attr.GraphsAttr gs) gs.values().forEach(CpuBackend::checkSupported);
            }
        }
    }
}
