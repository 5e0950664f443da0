package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.Activation;
import dev.gale.backends.cpu.Conv2d;
import dev.gale.backends.cpu.Epilogue;
import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.cpu.PackedB;
import dev.gale.backends.cpu.Pool2d;
import dev.gale.backends.cpu.Window2d;
import dev.gale.ir.GaleException;
import dev.gale.ir.op.ConvGeometry;
import dev.gale.ir.op.GaleOps;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * Convolution and pooling over NCHW tensors on backend-cpu's {@link Conv2d} and {@link Pool2d}: Conv and
 * {@code gale::FusedConv} (bias and activation in the GEMM epilogue), their gradients ConvGradInput and
 * ConvGradWeight, ConvTranspose and its gradients (as the convolution it reverses: see {@link #convTranspose}),
 * MaxPool, AveragePool, their gradients, and the global poolings. A 1-D op (rank-3 tensors) runs as a 2-D one of
 * height 1; other ranks fall back.
 */
final class ConvSteps {
    private ConvSteps() {}

    static void registerAll() {
        NativeOps.register("Conv", c -> conv(c, "none", 0));
        NativeOps.register(GaleOps.DOMAIN, "FusedConv", c -> conv(c, c.attrString("activation"),
                c.attrFloat("activation_alpha")));
        NativeOps.register(GaleOps.DOMAIN, "ConvGradInput", c -> convGrad(c, true));
        NativeOps.register(GaleOps.DOMAIN, "ConvGradWeight", c -> convGrad(c, false));
        NativeOps.register("ConvTranspose", ConvSteps::convTranspose);
        NativeOps.register(GaleOps.DOMAIN, "ConvTransposeGradInput", c -> convTransposeGrad(c, true));
        NativeOps.register(GaleOps.DOMAIN, "ConvTransposeGradWeight", c -> convTransposeGrad(c, false));
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
        Conv2d.PackedWeights packed = w.constant ? Conv2d.packWeights(s, mem, wo, PackedB.streams(c.constantBytes)) : null;
        return LinearSteps.then(() -> Conv2d.forward(pool, s, mem, xo, mem, wo, mem, yo, e, packed), post);
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

    /**
     * The convolution a ConvTranspose node reverses, from the node's attributes: ConvTranspose(X, W) scatters X [N, Cin,
     * small...] through W [Cin, Cout / group, kernel...] into Y [N, Cout, big...], which is the input gradient of the
     * convolution of Y by W (Cin output channels) that gives X's spatial sizes. Its pads are the parts of the full
     * result the transpose cuts off; an end cut below zero (an output_shape past the full result) is rows the
     * convolution's windows never reach, and pads nothing. Null when that convolution does not give X's sizes back
     * (an output_padding as large as the stride, with a larger dilation) or the shapes do not fit.
     */
    static Conv2d.Shape transposedShape(EmitContext c, long[] xs, long[] ws, long[] ys) {
        int r = xs.length - 2;
        if (r != 1 && r != 2 || ws.length != xs.length || ys.length != xs.length) return null;
        long[] in = Arrays.copyOfRange(xs, 2, xs.length), out = Arrays.copyOfRange(ys, 2, ys.length);
        long[] kernel = kernelOf(c, ws);
        if (kernel == null) return null;
        ConvGeometry t;
        try {
            t = ConvGeometry.transposed(in, kernel, c.attrInts("strides"), c.attrInts("dilations"), c.attrInts("pads"),
                    ConvGeometry.autoPad(c.attrString("auto_pad"), c::error), c.attrInts("output_padding"),
                    c.attrInts("output_shape"), c::error);
        } catch (GaleException e) {
            return null;
        }
        if (!Arrays.equals(t.out(), out)) return null;
        long[] k2 = r == 2 ? kernel : new long[] {1, kernel[0]};
        long[] big = r == 2 ? out : new long[] {1, out[0]}, small = r == 2 ? in : new long[] {1, in[0]};
        int[] s = new int[2], d = new int[2], pb = new int[2], pe = new int[2];
        for (int i = 0; i < 2; i++) {
            int a = r == 2 ? i : i - 1;
            s[i] = a < 0 ? 1 : (int) t.strides()[a];
            d[i] = a < 0 ? 1 : (int) t.dilations()[a];
            pb[i] = a < 0 ? 0 : (int) t.padsBegin()[a];
            pe[i] = a < 0 ? 0 : (int) Math.max(0, t.padsEnd()[a]);
            if (pb[i] < 0 || big[i] > Integer.MAX_VALUE || k2[i] > Integer.MAX_VALUE) return null;
        }
        Window2d g;
        try {
            g = Window2d.of((int) big[0], (int) big[1], (int) k2[0], (int) k2[1], s[0], s[1], d[0], d[1], pb[0], pb[1],
                    pe[0], pe[1]);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (g.oh() != small[0] || g.ow() != small[1]) return null;
        int groups = (int) c.attrInt("group");
        long n = xs[0], cin = xs[1], cout = ys[1];
        if (groups < 1 || cin % groups != 0 || ws[0] != cin || ws[1] * groups != cout
                || n > Integer.MAX_VALUE || cout > Integer.MAX_VALUE || cin > Integer.MAX_VALUE) return null;
        return new Conv2d.Shape((int) n, (int) cout, (int) cin, groups, g);
    }

    /**
     * ConvTranspose(X, W[, B]) as {@link Conv2d#backwardInput} of its {@link #transposedShape} with X as the incoming
     * gradient, then the per-channel bias over each output plane.
     */
    private static Step convTranspose(EmitContext c) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), w = c.in(1), y = c.out(0);
        Conv2d.Shape s = transposedShape(c, x.shape, w.shape, y.shape);
        if (s == null || y.numel != bigSize(s) || x.numel != (long) s.n() * s.m() * s.window().outSize()) return null;
        if (c.has(2) && c.in(2).numel != s.c()) return null;
        MemorySegment mem = c.mem;
        KernelPool pool = c.pool;
        long xo = x.offset, wo = w.offset, yo = y.offset;
        Step scatter = () -> Conv2d.backwardInput(pool, s, mem, xo, mem, wo, mem, yo);
        if (!c.has(2)) return scatter;
        long bo = c.in(2).offset, planes = (long) s.n() * s.c(), size = s.window().inSize();
        return LinearSteps.then(scatter, () -> addPlaneBias(pool, mem, yo, planes, size, s.c(), bo));
    }

    /** Floats of the transpose's output (the convolution's input): N x Cout x big spatial. */
    private static long bigSize(Conv2d.Shape s) { return (long) s.n() * s.c() * s.window().inSize(); }

    /** Y[p] += B[p % channels] over each of {@code planes} planes of {@code size} floats, planes shared out. */
    private static void addPlaneBias(KernelPool pool, MemorySegment mem, long yo, long planes, long size, int channels,
                                     long bo) {
        int tasks = (int) Math.min(planes, planes * size < 1 << 15 ? 1 : 2L * pool.threads());
        pool.parallelFor(tasks, (t, scratch) -> {
            for (long p = planes * t / tasks, end = planes * (t + 1) / tasks; p < end; p++) {
                float b = Vec.get(mem, bo + p % channels);
                long at = yo + p * size, i = 0;
                for (long bound = Vec.bound(size); i < bound; i += Vec.L)
                    FloatVector.fromMemorySegment(S, mem, (at + i) << 2, ORDER).add(b)
                            .intoMemorySegment(mem, (at + i) << 2, ORDER);
                for (; i < size; i++) Vec.set(mem, at + i, Vec.get(mem, at + i) + b);
            }
        });
    }

    /**
     * ConvTransposeGradInput(dY, W, x_shape) = the convolution of dY by W ({@link Conv2d#forward});
     * ConvTransposeGradWeight(dY, X, w_shape) = that convolution's weight gradient with X as its incoming gradient.
     */
    private static Step convTransposeGrad(EmitContext c, boolean input) {
        if (!c.arenaIn(0) || !c.arenaIn(1) || c.out(0) == null || !c.out(0).inArena()) return null;
        Slot dy = c.in(0), other = c.in(1), out = c.out(0);
        long[] xs = input ? out.shape : other.shape, ws = input ? other.shape : out.shape;
        Conv2d.Shape s = transposedShape(c, xs, ws, dy.shape);
        if (s == null || dy.numel != bigSize(s)) return null;
        MemorySegment mem = c.mem;
        KernelPool pool = c.pool;
        long dyo = dy.offset, oo = other.offset, to = out.offset;
        if (input) return () -> Conv2d.forward(pool, s, mem, dyo, mem, oo, mem, to, Epilogue.NONE);
        return () -> Conv2d.backwardWeight(pool, s, mem, oo, mem, dyo, mem, to);
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
