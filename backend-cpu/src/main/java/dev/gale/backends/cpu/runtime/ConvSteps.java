package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.Activation;
import dev.gale.backends.cpu.Conv2d;
import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.Pool2d;
import dev.gale.backends.cpu.Window2d;
import dev.gale.ir.GaleException;
import dev.gale.ir.op.ConvGeometry;
import dev.gale.ir.op.GaleOps;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Convolution and pooling over NCHW tensors on backend-cpu's {@link Conv2d} and {@link Pool2d}: Conv and
 * {@code gale::FusedConv} (bias and activation in the GEMM epilogue), their gradients ConvGradInput and
 * ConvGradWeight, MaxPool, AveragePool, their gradients, and the global poolings. A 1-D op (rank-3 tensors) runs as
 * a 2-D one of height 1; other ranks fall back.
 */
final class ConvSteps {
    private ConvSteps() {}

    static void registerAll() {
        NativeOps.register("Conv", c -> conv(c, "none", 0));
        NativeOps.register(GaleOps.DOMAIN, "FusedConv", c -> conv(c, c.attrString("activation"),
                c.attrFloat("activation_alpha")));
        NativeOps.register(GaleOps.DOMAIN, "ConvGradInput", c -> convGrad(c, true));
        NativeOps.register(GaleOps.DOMAIN, "ConvGradWeight", c -> convGrad(c, false));
        NativeOps.register("MaxPool", c -> pool(c, true));
        NativeOps.register("AveragePool", c -> pool(c, false));
        NativeOps.register(GaleOps.DOMAIN, "MaxPoolGrad", c -> poolGrad(c, true));
        NativeOps.register(GaleOps.DOMAIN, "AveragePoolGrad", c -> poolGrad(c, false));
        NativeOps.register("GlobalAveragePool", c -> globalPool(c, false));
        NativeOps.register("GlobalMaxPool", c -> globalPool(c, true));
    }

    /** The 2-D window of a node with Conv's or a pooling op's attributes over input {@code x} [N, C, spatial...]. */
    static Window2d window(EmitContext c, long[] x, long[] kernel, boolean pooling) {
        int r = x.length - 2;
        if (r != 1 && r != 2 || kernel == null || kernel.length != r) return null;
        long[] in = Arrays.copyOfRange(x, 2, x.length);
        ConvGeometry g;
        try {
            g = ConvGeometry.forward(in, kernel, c.attrInts("strides"), c.attrInts("dilations"), c.attrInts("pads"),
                    ConvGeometry.autoPad(c.attrString("auto_pad"), c::error),
                    pooling && c.attrInt("ceil_mode") != 0, c::error);
        } catch (GaleException e) {
            return null;
        }
        for (long p : g.padsBegin()) if (p < 0) return null;
        for (long p : g.padsEnd()) if (p < 0) return null;
        if (r == 2) return Window2d.of(in[0], in[1], g);
        return new Window2d(1, Math.toIntExact(in[0]), 1, (int) g.kernel()[0], 1, (int) g.strides()[0], 1,
                (int) g.dilations()[0], 0, (int) g.padsBegin()[0], 0, (int) g.padsEnd()[0], 1,
                Math.toIntExact(g.out()[0]));
    }

    private static long[] kernelOf(EmitContext c, long[] w) {
        long[] k = Arrays.copyOfRange(w, 2, w.length), attr = c.attrInts("kernel_shape");
        return attr != null && !Arrays.equals(attr, k) ? null : k;
    }

    private static Step conv(EmitContext c, String act, float alpha) {
        if (!c.allArena() || !LinearSteps.knownActivation(act)) return null;
        Slot x = c.in(0), w = c.in(1), y = c.out(0);
        if (x.rank() != w.rank() || x.rank() < 3) return null;
        long[] kernel = kernelOf(c, w.shape);
        Window2d g = kernel == null ? null : window(c, x.shape, kernel, false);
        if (g == null) return null;
        int groups = (int) c.attrInt("group");
        long n = x.dim(0), ch = x.dim(1), m = w.dim(0);
        if (groups < 1 || ch % groups != 0 || m % groups != 0 || w.dim(1) * groups != ch) return null;
        Conv2d.Shape s = new Conv2d.Shape((int) n, (int) ch, (int) m, groups, g);
        String pooling = c.attr("pool") == null ? "none" : c.attrString("pool"); // Conv has none
        if (!pooling.equals("none")) return pooledConv(c, s, act, pooling, c.attrInts("pool_kernel"));
        if (y.numel != n * m * g.outSize()) return null;
        MemorySegment mem = c.mem;
        Epilogue ep = withBias(c, m);
        if (ep == null) return null;
        Activation a = LinearSteps.activation(act);
        Step post = null;
        if (a != null) ep = ep.withActivation(a);
        else post = LinearSteps.activationPass(c, act, alpha, y.offset, y.numel);
        KernelPool pool = c.pool;
        long xo = x.offset, wo = w.offset, yo = y.offset;
        Epilogue e = ep;
        return LinearSteps.then(() -> Conv2d.forward(pool, s, mem, xo, mem, wo, mem, yo, e), post);
    }

    /** The epilogue with input 2 as the per-channel bias when the node has one; null when it is not m long. */
    private static Epilogue withBias(EmitContext c, long m) {
        if (!c.has(2)) return Epilogue.NONE;
        return c.in(2).numel == m ? Epilogue.NONE.withRowBias(c.mem, c.in(2).offset) : null;
    }

    /**
     * FusedConv with a pool (max or average over pool_kernel windows side by side): a 2-D convolution whose bias and
     * activation the kernel applies, pooled by {@link Conv2d#forwardPooled}; an activation the epilogue lacks leaves
     * the node to the fallback.
     */
    private static Step pooledConv(EmitContext c, Conv2d.Shape s, String act, String pooling, long[] kernel) {
        Window2d g = s.window();
        Slot y = c.out(0);
        if (!pooling.equals("max") && !pooling.equals("average") || kernel == null || kernel.length != 2
                || c.in(0).rank() != 4 || kernel[0] < 1 || kernel[1] < 1 || kernel[0] > g.oh() || kernel[1] > g.ow())
            return null;
        int ph = (int) kernel[0], pw = (int) kernel[1];
        if (y.numel != (long) s.n() * s.m() * (g.oh() / ph) * (g.ow() / pw)) return null;
        Activation a = LinearSteps.activation(act);
        if (a == null) return null;
        MemorySegment mem = c.mem;
        Epilogue ep = withBias(c, s.m());
        if (ep == null) return null;
        ep = ep.withActivation(a);
        MemorySegment tmp = Conv2d.poolsInPlace(s) ? null : c.scratch(s.n() * (long) s.m() * g.outSize());
        KernelPool pool = c.pool;
        long xo = c.in(0).offset, wo = c.in(1).offset, yo = y.offset;
        Epilogue e = ep;
        boolean max = pooling.equals("max");
        return () -> Conv2d.forwardPooled(pool, s, max, ph, pw, mem, xo, mem, wo, mem, yo, e, tmp);
    }

    /** ConvGradInput(dY, W, x_shape) or ConvGradWeight(dY, X, w_shape), with Conv's attributes. */
    private static Step convGrad(EmitContext c, boolean input) {
        if (!c.arenaIn(0) || !c.arenaIn(1) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot dy = c.in(0), other = c.in(1), out = c.out(0);
        long[] xs = input ? out.shape : other.shape, ws = input ? other.shape : out.shape;
        if (xs.length != ws.length || xs.length < 3) return null;
        long[] kernel = kernelOf(c, ws);
        Window2d g = kernel == null ? null : window(c, xs, kernel, false);
        if (g == null) return null;
        int groups = (int) c.attrInt("group");
        long n = xs[0], ch = xs[1], m = ws[0];
        if (groups < 1 || ch % groups != 0 || m % groups != 0 || ws[1] * groups != ch) return null;
        if (dy.numel != n * m * g.outSize()) return null;
        Conv2d.Shape s = new Conv2d.Shape((int) n, (int) ch, (int) m, groups, g);
        MemorySegment mem = c.mem;
        KernelPool pool = c.pool;
        long dyo = dy.offset, oo = other.offset, to = out.offset;
        if (input) return () -> Conv2d.backwardInput(pool, s, mem, dyo, mem, oo, mem, to);
        return () -> Conv2d.backwardWeight(pool, s, mem, dyo, mem, oo, mem, to);
    }

    private static Step pool(EmitContext c, boolean max) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena() || c.usedOutputs() != 1) return null;
        Slot x = c.in(0), y = c.out(0);
        if (x.rank() < 3) return null;
        Window2d g = window(c, x.shape, c.attrInts("kernel_shape"), true);
        if (g == null) return null;
        long planes = x.dim(0) * x.dim(1);
        if (y.numel != planes * g.outSize() || planes > Integer.MAX_VALUE) return null;
        MemorySegment mem = c.mem;
        KernelPool pool = c.pool;
        int p = (int) planes;
        long xo = x.offset, yo = y.offset;
        if (max) return () -> Pool2d.maxForward(pool, p, g, mem, xo, mem, yo);
        boolean pad = c.attrInt("count_include_pad") != 0;
        return () -> Pool2d.averageForward(pool, p, g, pad, mem, xo, mem, yo);
    }

    /** MaxPoolGrad(dY, X) or AveragePoolGrad(dY, x_shape), with the pooling's attributes. */
    private static Step poolGrad(EmitContext c, boolean max) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena() || max && !c.arenaIn(1)) return null;
        Slot dy = c.in(0), dx = c.out(0);
        if (dx.rank() < 3) return null;
        Window2d g = window(c, dx.shape, c.attrInts("kernel_shape"), true);
        if (g == null) return null;
        long planes = dx.dim(0) * dx.dim(1);
        if (dy.numel != planes * g.outSize() || planes > Integer.MAX_VALUE) return null;
        MemorySegment mem = c.mem;
        KernelPool pool = c.pool;
        int p = (int) planes;
        long dyo = dy.offset, dxo = dx.offset;
        if (max) {
            long xo = c.in(1).offset;
            return () -> Pool2d.maxBackward(pool, p, g, mem, dyo, mem, xo, mem, dxo);
        }
        boolean pad = c.attrInt("count_include_pad") != 0;
        return () -> Pool2d.averageBackward(pool, p, g, pad, mem, dyo, mem, dxo);
    }

    /** Mean or max of each (n, c) plane. */
    private static Step globalPool(EmitContext c, boolean max) {
        if (!c.allArena() || c.in(0).rank() < 3) return null;
        Slot x = c.in(0), y = c.out(0);
        long planes = x.dim(0) * x.dim(1), size = x.numel / Math.max(1, planes);
        if (y.numel != planes || size == 0) return null;
        MemorySegment mem = c.mem;
        long xo = x.offset, yo = y.offset;
        return () -> {
            for (long p = 0; p < planes; p++) {
                long at = xo + p * size;
                if (max) {
                    float best = Float.NEGATIVE_INFINITY;
                    for (long i = 0; i < size; i++) {
                        float v = Vec.get(mem, at + i);
                        if (v > best || v != v) best = v;
                    }
                    Vec.set(mem, yo + p, best);
                } else {
                    Vec.set(mem, yo + p, Vec.sum(mem, at, size) / size);
                }
            }
        };
    }
}
