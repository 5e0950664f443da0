package dev.gale.backends.interp;

import dev.gale.ir.Tensor;
import dev.gale.ir.op.GaleOps;

import java.util.List;

/** Interpreter kernels for Gale's internal {@code gale} domain (backward helpers emitted by autodiff). */
final class GaleKernels {
    private GaleKernels() {}

    private static void gale(String op, Kernel k) { Kernels.register(GaleOps.DOMAIN, op, k); }

    static void registerAll() {
        // --- nn family ---
        NnGradKernels.registerAll();

        gale("ReduceSumToShape", c -> List.of(reduceSumToShape(c.required(0), c.required(1).toLongArray(), c)));
        // --- reduction family ---
        gale("SoftmaxCrossEntropyLossGrad", Kernel.single(c -> SoftmaxKernels.lossGrad(c, true)));
        gale("NegativeLogLikelihoodLossGrad", Kernel.single(c -> SoftmaxKernels.lossGrad(c, false)));
        // --- shape family ---
        gale("SliceGrad", Kernel.single(ShapeGradKernels::sliceGrad));
        gale("GatherGrad", Kernel.single(ShapeGradKernels::gatherGrad));
        gale("PadGrad", Kernel.single(ShapeGradKernels::padGrad));
        gale("ResizeGrad", Kernel.single(ResizeKernel::resizeGrad));
        // --- pattern fusions (elementwise helper) ---
        FusedKernels.registerAll();
        // --- kernel (control helper) ---
        KernelBodyKernels.registerAll();
    }

    /** Sums {@code x} over the axes along which a tensor of {@code target} shape was broadcast to x's shape. */
    static Tensor reduceSumToShape(Tensor x, long[] target, KernelCall c) {
        long[] bs;
        try {
            bs = Broadcast.shape(target, x.shape());
        } catch (RuntimeException e) {
            throw c.error("shape " + java.util.Arrays.toString(target) + " does not broadcast to "
                    + java.util.Arrays.toString(x.shape()));
        }
        if (!java.util.Arrays.equals(bs, x.shape()))
            throw c.error("shape " + java.util.Arrays.toString(target) + " does not broadcast to "
                    + java.util.Arrays.toString(x.shape()));
        int[] map = Broadcast.indexMap(x.shape(), target);
        double[] acc = new double[Tensor.checkedNumel(target)];
        for (int i = 0; i < x.numel(); i++) acc[map[i]] += x.getDouble(i);
        return NnKernels.fromDoubles(x.dtype(), target, acc);
    }
}
