package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.DType;
import dev.gale.ir.op.GaleOps;
import dev.gale.backends.cpu.VMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * Softmax and LogSoftmax along one axis, LayerNormalization and its gradient, InstanceNormalization, LRN,
 * BatchNormalization (inference and training mode) and its gradient. Rows along the last axis run as vector loops, split across the pool when large;
 * other axes run as strided scalar loops. Statistics: float vector lanes for layer-norm rows, float64 for
 * batch-norm channels (which sum over the whole batch).
 */
final class NormSteps {
    private NormSteps() {}

    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();

    static void registerAll() {
        NativeOps.register("Softmax", c -> softmax(c, false));
        NativeOps.register("LogSoftmax", c -> softmax(c, true));
        NativeOps.register("LayerNormalization", NormSteps::layerNorm);
        NativeOps.register(GaleOps.DOMAIN, "LayerNormGrad", NormSteps::layerNormGrad);
        NativeOps.register("InstanceNormalization", NormSteps::instanceNorm);
        NativeOps.register("LRN", NormSteps::lrn);
        NativeOps.register("BatchNormalization", NormSteps::batchNorm);
        NativeOps.register(GaleOps.DOMAIN, "BatchNormGrad", NormSteps::batchNormGrad);
    }

    static int axis(long a, int rank) {
        long r = a < 0 ? a + rank : a;
        return r < 0 || r >= rank ? -1 : (int) r;
    }

    static long prod(long[] s, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p *= s[i];
        return p;
    }

    // ---- softmax

    private static Step softmax(EmitContext c, boolean log) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), y = c.out(0);
        int a = axis(c.attrInt("axis"), x.rank());
        if (a < 0) return null;
        long outer = prod(x.shape, 0, a), len = x.dim(a), inner = prod(x.shape, a + 1, x.rank());
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset;
        if (len == 0 || outer * inner == 0) return () -> { };
        if (inner == 1) {
            return rows(c.pool, outer, len, (r0, r1) -> {
                for (long r = r0; r < r1; r++) SoftmaxRows.softmax(m, xo + r * len, yo + r * len, len, log);
            });
        }
        return () -> {
            for (long o = 0; o < outer; o++) {
                for (long i = 0; i < inner; i++) {
                    long base = o * len * inner + i;
                    float max = Float.NEGATIVE_INFINITY;
                    for (long k = 0; k < len; k++) max = Math.max(max, Vec.get(m, xo + base + k * inner));
                    double sum = 0;
                    for (long k = 0; k < len; k++) sum += Math.exp(Vec.get(m, xo + base + k * inner) - max);
                    double logSum = Math.log(sum);
                    for (long k = 0; k < len; k++) {
                        float d = Vec.get(m, xo + base + k * inner) - max;
                        Vec.set(m, yo + base + k * inner, log ? (float) (d - logSum) : (float) (Math.exp(d) / sum));
                    }
                }
            }
        };
    }

    // ---- layer normalization

    /** Scale (or bias) covering the normalized axes exactly (leading 1s allowed): its numel is the row length. */
    private static boolean coversRow(Slot s, long[] x, int axis, long len) {
        if (s.numel != len || s.rank() > x.length) return false;
        for (int i = 0; i < s.rank(); i++) {
            int xi = x.length - s.rank() + i;
            if (xi < axis ? s.dim(i) != 1 : s.dim(i) != x[xi]) return false;
        }
        return true;
    }

    private static Step layerNorm(EmitContext c) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), scale = c.in(1), bias = c.in(2), y = c.out(0), mean = c.out(1), inv = c.out(2);
        int a = axis(c.attrInt("axis"), x.rank());
        if (a < 0 || y == null) return null;
        if ((mean != null || inv != null) && c.attrInt("stash_type") != DType.FLOAT32.onnxCode()) return null;
        long rows = prod(x.shape, 0, a), len = prod(x.shape, a, x.rank());
        if (!coversRow(scale, x.shape, a, len) || bias != null && !coversRow(bias, x.shape, a, len)) return null;
        if (len == 0 || rows == 0) return null;
        float eps = c.attrFloat("epsilon");
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset, so = scale.offset, bo = bias == null ? -1 : bias.offset;
        long mo = mean == null ? -1 : mean.offset, io = inv == null ? -1 : inv.offset;
        return rows(c.pool, rows, len * 4, (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long xr = xo + r * len, yr = yo + r * len;
                float mu = Vec.sum(m, xr, len) / len;
                float var = sumSquaredDiffLoop(m, xr, len, mu) / len;
                float is = (float) (1 / Math.sqrt(var + eps));
                if (mo >= 0) Vec.set(m, mo + r, mu);
                if (io >= 0) Vec.set(m, io + r, is);
                long k = 0, b = Vec.bound(len);
                FloatVector muV = FloatVector.broadcast(S, mu);
                for (; k < b; k += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, m, (xr + k) << 2, ORDER)
                            .sub(muV).mul(is).mul(FloatVector.fromMemorySegment(S, m, (so + k) << 2, ORDER));
                    if (bo >= 0) v = v.add(FloatVector.fromMemorySegment(S, m, (bo + k) << 2, ORDER));
                    v.intoMemorySegment(m, (yr + k) << 2, ORDER);
                }
                for (; k < len; k++) {
                    float v = (Vec.get(m, xr + k) - mu) * is * Vec.get(m, so + k);
                    Vec.set(m, yr + k, bo >= 0 ? v + Vec.get(m, bo + k) : v);
                }
            }
        });
    }

    /**
     * InstanceNormalization(X, scale, B): each (n, c) plane normalized by its own mean and variance, then scaled and
     * shifted by channel c's values; planes are rows of the layer-norm loop. (Older PyTorch exports spell GroupNorm
     * as a Reshape, this op and an affine; it fell back to the interpreter, one thread in float64.)
     */
    private static Step instanceNorm(EmitContext c) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), scale = c.in(1), bias = c.in(2), y = c.out(0);
        if (x.rank() < 3 || y == null || y.numel != x.numel) return null;
        long n = x.dim(0), ch = x.dim(1), planes = n * ch, len = prod(x.shape, 2, x.rank());
        if (scale.numel != ch || bias.numel != ch || len == 0 || planes == 0) return null;
        float eps = c.attrFloat("epsilon");
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset, so = scale.offset, bo = bias.offset;
        return rows(c.pool, planes, len * 4, (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long xr = xo + r * len, yr = yo + r * len;
                float mu = Vec.sum(m, xr, len) / len;
                float var = sumSquaredDiffLoop(m, xr, len, mu) / len;
                float a = (float) (Vec.get(m, so + r % ch) / Math.sqrt(var + eps));
                float b = Vec.get(m, bo + r % ch) - mu * a; // y = (x - mu) * is * scale + bias = x * a + b
                FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, b);
                long k = 0, end = Vec.bound(len);
                for (; k < end; k += L) FloatVector.fromMemorySegment(S, m, (xr + k) << 2, ORDER).fma(av, bv)
                        .intoMemorySegment(m, (yr + k) << 2, ORDER);
                for (; k < len; k++) Vec.set(m, yr + k, Math.fma(Vec.get(m, xr + k), a, b));
            }
        });
    }

    /**
     * LRN(X), local response normalization across channels (AlexNet, GoogLeNet): {@code y = x / (bias + alpha / size
     * * s)^beta}, s the sum of squares over the channels {@code c - (size - 1) / 2 .. c + size / 2} at the same position.
     * A task takes whole (n, c) planes, each a vector loop over its positions; the power is {@code exp(-beta log d)}.
     */
    private static Step lrn(EmitContext c) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), y = c.out(0);
        long size = c.attrInt("size");
        if (x.rank() < 3 || y == null || y.numel != x.numel || size < 1) return null;
        long n = x.dim(0), ch = x.dim(1), len = prod(x.shape, 2, x.rank());
        if (len == 0 || n * ch == 0) return null;
        float scale = c.attrFloat("alpha") / size, beta = c.attrFloat("beta"), bias = c.attrFloat("bias");
        long before = (size - 1) / 2, after = size - 1 - before;
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset;
        return rows(c.pool, n * ch, len * size, (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                long img = xo + (r - r % ch) * len, cc = r % ch;
                long lo = Math.max(0, cc - before), hi = Math.min(ch - 1, cc + after);
                long xr = xo + r * len, yr = yo + r * len, k = lrnRow(m, img, lo, hi, len, xr, yr, scale, bias, beta);
                for (; k < len; k++) {
                    float sum = 0;
                    for (long i = lo; i <= hi; i++) {
                        float v = Vec.get(m, img + i * len + k);
                        sum += v * v;
                    }
                    Vec.set(m, yr + k, (float) (Vec.get(m, xr + k) / Math.pow(bias + scale * sum, beta)));
                }
            }
        });
    }

    /** Per thread: -beta log(d) for the positions of one LRN plane, between {@link #lrnRow}'s two loops. */
    private static final ThreadLocal<float[]> LRN_POWER = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The vector part of one LRN plane: positions {@code [0, Vec.bound(len))} of y at {@code yr}, from x at
     * {@code xr} and channels {@code lo..hi} of the image at {@code img}; returns where the scalar tail starts. Two
     * loops, each a method of its own named {@code *Loop} (compiled alone, see the launcher's dontinline): with the
     * log and the exp in one loop inside the task's lambda, C2 ran past its budgets and boxed every vector (180 KB a
     * run for 8 planes of 32 x 32; 131 KB as one loop of its own). The same operations in the same order, so the
     * same bits.
     */
    private static long lrnRow(MemorySegment m, long img, long lo, long hi, long len, long xr, long yr, float scale,
                               float bias, float beta) {
        int end = Math.toIntExact(Vec.bound(len));
        float[] q = LRN_POWER.get();
        if (q.length < end) LRN_POWER.set(q = new float[end]);
        lrnPowerLoop(m, img, lo, hi, len, end, scale, bias, beta, q);
        lrnScaleLoop(m, xr, yr, end, q);
        return end;
    }

    /** q = -beta log(bias + scale * (sum of the squares over channels lo..hi)), a vector at a time. */
    private static void lrnPowerLoop(MemorySegment m, long img, long lo, long hi, long len, int end, float scale,
                                     float bias, float beta, float[] q) {
        for (int k = 0; k < end; k += L) {
            FloatVector sum = FloatVector.zero(S);
            for (long i = lo; i <= hi; i++) {
                FloatVector v = FloatVector.fromMemorySegment(S, m, (img + i * len + k) << 2, ORDER);
                sum = v.fma(v, sum);
            }
            VMath.log(sum.mul(scale).add(bias)).mul(-beta).intoArray(q, k);
        }
    }

    /** y = x exp(q). */
    private static void lrnScaleLoop(MemorySegment m, long xr, long yr, int end, float[] q) {
        for (int k = 0; k < end; k += L)
            FloatVector.fromMemorySegment(S, m, (xr + k) << 2, ORDER).mul(VMath.exp(FloatVector.fromArray(S, q, k)))
                    .intoMemorySegment(m, (yr + k) << 2, ORDER);
    }

    static float sumSquaredDiffLoop(MemorySegment m, long x, long n, float mu) {
        FloatVector acc = FloatVector.zero(S);
        long k = 0, b = Vec.bound(n);
        for (; k < b; k += L) {
            FloatVector d = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER).sub(FloatVector.broadcast(S, mu));
            acc = d.fma(d, acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) {
            float d = Vec.get(m, x + k) - mu;
            s += d * d;
        }
        return s;
    }

    /**
     * LayerNormGrad(dY, X, scale) -> (dX, dScale), statistics recomputed from X. Rows run as vector loops, split
     * across the pool in fixed blocks; each block sums its dScale terms into its own buffer, and the blocks' buffers
     * are added in block order, so the result does not depend on the threads' timing. (The scalar form took 0.19 ms
     * for a [512, 128] gradient in the transformer encoder's training step, 2.5% of the step.)
     */
    private static Step layerNormGrad(EmitContext c) {
        if (!c.allArena()) return null;
        Slot dy = c.in(0), x = c.in(1), scale = c.in(2), dx = c.out(0), ds = c.out(1);
        int a = axis(c.attrInt("axis"), x.rank());
        if (a < 0 || dx == null || dy.numel != x.numel) return null;
        long rows = prod(x.shape, 0, a), len = prod(x.shape, a, x.rank());
        if (!coversRow(scale, x.shape, a, len) || len == 0 || len > Integer.MAX_VALUE - L) return null;
        float eps = c.attrFloat("epsilon");
        MemorySegment m = c.mem;
        long dyo = dy.offset, xo = x.offset, so = scale.offset, dxo = dx.offset, dso = ds == null ? -1 : ds.offset;
        int tasks = (int) Math.max(1, Math.min(rows, ElementwiseSteps.tasks(c.pool, rows * len * 4)));
        float[][] partial = new float[dso >= 0 ? tasks : 0][(int) len];
        KernelPool.Task block = (t, scratch) -> layerNormGradRows(m, xo, dyo, so, dxo, len, eps, rows * t / tasks,
                rows * (t + 1) / tasks, dso >= 0 ? partial[t] : null);
        return () -> {
            if (tasks == 1) block.run(0, null);
            else c.pool.parallelFor(tasks, block);
            if (dso < 0) return;
            Vec.fill(m, dso, len, 0f);
            for (float[] p : partial) {
                long k = 0, b = Vec.bound(len);
                for (; k < b; k += L) FloatVector.fromMemorySegment(S, m, (dso + k) << 2, ORDER)
                        .add(FloatVector.fromArray(S, p, (int) k))
                        .intoMemorySegment(m, (dso + k) << 2, ORDER);
                for (; k < len; k++) Vec.set(m, dso + k, Vec.get(m, dso + k) + p[(int) k]);
            }
        };
    }

    /**
     * Rows {@code [r0, r1)} of LayerNormGrad: dX = is (h - mean(h) - xhat mean(h xhat)) with h = dY scale, and, when
     * {@code ds} is given, dY xhat summed over the rows into it (zeroed first). dX may be dY's or X's memory: each
     * element is read before it is written.
     */
    private static void layerNormGradRows(MemorySegment m, long xo, long dyo, long so, long dxo, long len, float eps,
                                          long r0, long r1, float[] ds) {
        if (ds != null) java.util.Arrays.fill(ds, 0f);
        long b = Vec.bound(len);
        for (long r = r0; r < r1; r++) {
            long xr = xo + r * len, gr = dyo + r * len, dr = dxo + r * len;
            float mu = Vec.sum(m, xr, len) / len;
            float is = (float) (1 / Math.sqrt(sumSquaredDiffLoop(m, xr, len, mu) / len + eps));
            FloatVector muV = FloatVector.broadcast(S, mu), isV = FloatVector.broadcast(S, is);
            FloatVector hAcc = FloatVector.zero(S), hxAcc = FloatVector.zero(S);
            long k = 0;
            for (; k < b; k += L) {
                FloatVector xhat = FloatVector.fromMemorySegment(S, m, (xr + k) << 2, ORDER).sub(muV).mul(isV);
                FloatVector g = FloatVector.fromMemorySegment(S, m, (gr + k) << 2, ORDER);
                FloatVector h = g.mul(FloatVector.fromMemorySegment(S, m, (so + k) << 2, ORDER));
                hAcc = hAcc.add(h);
                hxAcc = h.fma(xhat, hxAcc);
                if (ds != null) g.fma(xhat, FloatVector.fromArray(S, ds, (int) k)).intoArray(ds, (int) k);
            }
            float sumH = hAcc.reduceLanes(VectorOperators.ADD), sumHx = hxAcc.reduceLanes(VectorOperators.ADD);
            for (; k < len; k++) {
                float xhat = (Vec.get(m, xr + k) - mu) * is, g = Vec.get(m, gr + k), h = g * Vec.get(m, so + k);
                sumH += h;
                sumHx += h * xhat;
                if (ds != null) ds[(int) k] += g * xhat;
            }
            float mh = sumH / len, mhx = sumHx / len;
            FloatVector mhV = FloatVector.broadcast(S, mh), mhxV = FloatVector.broadcast(S, mhx);
            for (k = 0; k < b; k += L) {
                FloatVector xhat = FloatVector.fromMemorySegment(S, m, (xr + k) << 2, ORDER).sub(muV).mul(isV);
                FloatVector h = FloatVector.fromMemorySegment(S, m, (gr + k) << 2, ORDER)
                        .mul(FloatVector.fromMemorySegment(S, m, (so + k) << 2, ORDER));
                isV.mul(h.sub(mhV).sub(xhat.mul(mhxV))).intoMemorySegment(m, (dr + k) << 2, ORDER);
            }
            for (; k < len; k++) {
                float xhat = (Vec.get(m, xr + k) - mu) * is, h = Vec.get(m, gr + k) * Vec.get(m, so + k);
                Vec.set(m, dr + k, is * (h - mh - xhat * mhx));
            }
        }
    }

    // ---- batch normalization (channels second: [N, C, spatial...])

    private static Step batchNorm(EmitContext c) {
        if (!c.allArena()) return null;
        Slot x = c.in(0), y = c.out(0);
        if (x.rank() < 2 || y == null) return null;
        long n = x.dim(0), ch = x.dim(1), plane = prod(x.shape, 2, x.rank());
        for (int i = 1; i <= 4; i++) if (c.in(i).numel != ch) return null;
        if (ch > Integer.MAX_VALUE) return null;
        boolean training = c.attrInt("training_mode") != 0;
        if (!training && c.usedOutputs() > 1) return null;
        float eps = c.attrFloat("epsilon"), momentum = c.attrFloat("momentum");
        MemorySegment m = c.mem;
        KernelPool pool = c.pool;
        long xo = x.offset, yo = y.offset, so = c.in(1).offset, bo = c.in(2).offset, mo = c.in(3).offset,
                vo = c.in(4).offset;
        long rmo = c.out(1) == null ? -1 : c.out(1).offset, rvo = c.out(2) == null ? -1 : c.out(2).offset;
        if (BatchNormByImages.suits(pool, n, ch))
            return BatchNormByImages.forward(pool, m, n, ch, plane, training, eps, momentum, xo, yo, so, bo, mo, vo,
                    rmo, rvo);
        double count = (double) n * plane;
        // A batch that does not split evenly across the pool: one task per channel, its planes' sums (float lanes per
        // plane, double across planes), then y = a x + b.
        return () -> pool.parallelFor((int) ch, (kk, scratch) -> {
            long k = kk;
            double mean = Vec.get(m, mo + k), var = Vec.get(m, vo + k);
            if (training) {
                double s = 0;
                for (long b = 0; b < n; b++) s += Vec.sum(m, xo + (b * ch + k) * plane, plane);
                double bm = s / count, v = 0;
                for (long b = 0; b < n; b++) v += sumSquaredDiffLoop(m, xo + (b * ch + k) * plane, plane, (float) bm);
                double bv = v / count;
                if (rmo >= 0) Vec.set(m, rmo + k, (float) (mean * momentum + bm * (1 - momentum)));
                if (rvo >= 0) Vec.set(m, rvo + k, (float) (var * momentum + bv * (1 - momentum)));
                mean = bm;
                var = bv;
            }
            double inv = 1 / Math.sqrt(var + eps);
            float a = (float) (inv * Vec.get(m, so + k)), sh = (float) (Vec.get(m, bo + k) - mean * inv * Vec.get(m, so + k));
            for (long b = 0; b < n; b++) {
                long at = (b * ch + k) * plane;
                affine(m, xo + at, yo + at, plane, a, sh);
            }
        });
    }

    /** y[i] = a x[i] + b for n floats. */
    static void affine(MemorySegment m, long x, long y, long n, float a, float b) {
        FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, b);
        long k = 0, bound = Vec.bound(n);
        for (; k < bound; k += L) FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER).fma(av, bv)
                .intoMemorySegment(m, (y + k) << 2, ORDER);
        for (; k < n; k++) Vec.set(m, y + k, Math.fma(Vec.get(m, x + k), a, b));
    }

    /** out[i] = a g[i] + b x[i] + c for n floats. */
    static void affine2Loop(MemorySegment m, long g, long x, long out, long n, float a, float b, float c) {
        long k = 0, bound = Vec.bound(n);
        for (; k < bound; k += L) {
            FloatVector bx = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER).fma(FloatVector.broadcast(S, b),
                    FloatVector.broadcast(S, c));
            FloatVector.fromMemorySegment(S, m, (g + k) << 2, ORDER).fma(FloatVector.broadcast(S, a), bx)
                    .intoMemorySegment(m, (out + k) << 2, ORDER);
        }
        for (; k < n; k++) Vec.set(m, out + k, Math.fma(Vec.get(m, g + k), a, Math.fma(Vec.get(m, x + k), b, c)));
    }

    /** sum of g[i] (x[i] - mu) over n floats, in vector lanes. */
    static float dotCenteredLoop(MemorySegment m, long g, long x, long n, float mu) {
        FloatVector acc = FloatVector.zero(S);
        long k = 0, b = Vec.bound(n);
        for (; k < b; k += L) {
            FloatVector gv = FloatVector.fromMemorySegment(S, m, (g + k) << 2, ORDER);
            FloatVector xv = FloatVector.fromMemorySegment(S, m, (x + k) << 2, ORDER);
            acc = gv.fma(xv.sub(FloatVector.broadcast(S, mu)), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) s += Vec.get(m, g + k) * (Vec.get(m, x + k) - mu);
        return s;
    }

    /** BatchNormGrad(dY, X, scale, mean, var) -> (dX, dScale, dB); batch statistics when training_mode=1. */
    private static Step batchNormGrad(EmitContext c) {
        if (!c.allArena()) return null;
        Slot dy = c.in(0), x = c.in(1);
        if (x.rank() < 2 || dy.numel != x.numel || c.out(0) == null) return null;
        long n = x.dim(0), ch = x.dim(1), plane = prod(x.shape, 2, x.rank());
        for (int i = 2; i <= 4; i++) if (c.in(i).numel != ch) return null;
        if (ch > Integer.MAX_VALUE) return null;
        boolean training = c.attrInt("training_mode") != 0;
        float eps = c.attrFloat("epsilon");
        MemorySegment m = c.mem;
        KernelPool pool = c.pool;
        long gyo = dy.offset, xo = x.offset, so = c.in(2).offset, mo = c.in(3).offset, vo = c.in(4).offset;
        long dxo = c.out(0).offset, dso = c.out(1) == null ? -1 : c.out(1).offset;
        long dbo = c.out(2) == null ? -1 : c.out(2).offset;
        if (BatchNormByImages.suits(pool, n, ch))
            return BatchNormByImages.backward(pool, m, n, ch, plane, training, eps, gyo, xo, so, mo, vo, dxo, dso, dbo);
        double count = (double) n * plane;
        // A batch that does not split evenly across the pool: per channel, the statistics, then sum(dY) and
        // sum(dY (x - mean)) (float lanes per plane, double across), then dX = a dY + b x + c elementwise.
        return () -> pool.parallelFor((int) ch, (kk, scratch) -> {
            long k = kk;
            double mean, var;
            if (training) {
                double s = 0;
                for (long b = 0; b < n; b++) s += Vec.sum(m, xo + (b * ch + k) * plane, plane);
                mean = s / count;
                double v = 0;
                for (long b = 0; b < n; b++) v += sumSquaredDiffLoop(m, xo + (b * ch + k) * plane, plane, (float) mean);
                var = v / count;
            } else {
                mean = Vec.get(m, mo + k);
                var = Vec.get(m, vo + k);
            }
            double inv = 1 / Math.sqrt(var + eps), sc = Vec.get(m, so + k);
            double sumG = 0, sumGx = 0;
            for (long b = 0; b < n; b++) {
                long at = (b * ch + k) * plane;
                sumG += Vec.sum(m, gyo + at, plane);
                sumGx += dotCenteredLoop(m, gyo + at, xo + at, plane, (float) mean);
            }
            double dScale = sumGx * inv, sumH = sc * sumG, sumHx = sc * inv * sumGx;
            // training: dX = inv (sc g - sumH / count - xhat sumHx / count), xhat = (x - mean) inv
            double a = inv * sc, bx = training ? -inv * inv * sumHx / count : 0;
            double c0 = training ? -inv * sumH / count - bx * mean : 0;
            for (long b = 0; b < n; b++) {
                long at = (b * ch + k) * plane;
                affine2Loop(m, gyo + at, xo + at, dxo + at, plane, (float) a, (float) bx, (float) c0);
            }
            if (dso >= 0) Vec.set(m, dso + k, (float) dScale);
            if (dbo >= 0) Vec.set(m, dbo + k, (float) sumG);
        });
    }

    // ---- splitting rows across the pool

    interface RowRange {
        void run(long r0, long r1);
    }

    /** Runs {@code body} over [0, rows), split into ranges across the pool when rows x work is large. */
    static Step rows(KernelPool pool, long rows, long workPerRow, RowRange body) {
        int tasks = (int) Math.min(rows, ElementwiseSteps.tasks(pool, rows * workPerRow));
        if (tasks <= 1) return () -> body.run(0, rows);
        KernelPool.Task t = (i, s) -> body.run(rows * i / tasks, rows * (i + 1) / tasks);
        return () -> pool.parallelFor(tasks, t);
    }
}
