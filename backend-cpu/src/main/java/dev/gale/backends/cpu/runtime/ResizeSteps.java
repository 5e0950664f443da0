package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.interp.ResizeKernel;
import dev.gale.ir.GaleException;
import dev.gale.ir.op.GaleOps;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static dev.gale.backends.cpu.runtime.Vec.L;
import static dev.gale.backends.cpu.runtime.Vec.ORDER;
import static dev.gale.backends.cpu.runtime.Vec.S;

/**
 * Resize over the last two axes of a float32 tensor (image up- and downsampling: nearest, linear, cubic, every
 * coordinate transformation, antialias, exclude_outside, tf_crop_and_resize's extrapolation), with roi, scales and
 * sizes constant. The interpreter's {@link ResizeKernel#plan} gives, once, when the plan is built, the output shape and
 * each output row's and column's input taps and weights, so both backends sample the same points; the axes before the
 * last two must keep their size. A task takes a range of output rows: it combines the input rows a row needs by the
 * row's weights into one heap row (vector loops), then forms 16 output columns at a time from it by vector gathers
 * of each tap (one for nearest, two for linear, four for cubic) and multiply-adds. ResizeGrad, its transpose, runs
 * on the same plan. Other resizes (an axis before the last two resized, inputs computed at run time) fall back to
 * the interpreter.
 */
final class ResizeSteps {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private ResizeSteps() {}

    static void registerAll() {
        NativeOps.register("Resize", ResizeSteps::resize);
        NativeOps.register(GaleOps.DOMAIN, "ResizeGrad", ResizeSteps::resizeGrad);
    }

    /** One axis's taps: per output coordinate the input indices and weights, or null (extrapolate there). */
    private record Taps(int[][] index, float[][] weight) {
        static Taps of(ResizeKernel.Plan plan, int axis) {
            int n = plan.index()[axis].length;
            int[][] index = new int[n][];
            float[][] weight = new float[n][];
            for (int i = 0; i < n; i++) {
                if (plan.index()[axis][i] == null) continue;
                if (plan.isNearest()) {
                    index[i] = new int[] {plan.nearest(axis, i)};
                    weight[i] = new float[] {1f};
                    continue;
                }
                double[] w = plan.weight()[axis][i];
                int[] ix = plan.index()[axis][i];
                int taps = 0;
                for (double v : w) if (v != 0) taps++;
                index[i] = new int[taps];
                weight[i] = new float[taps];
                for (int j = 0, t = 0; j < w.length; j++) {
                    if (w[j] == 0) continue;
                    index[i][t] = ix[j];
                    weight[i][t++] = (float) w[j];
                }
            }
            return new Taps(index, weight);
        }
    }

    private static Step resize(EmitContext c) {
        Slot x = c.in(0), y = c.out(0);
        ResizeKernel.Plan plan = plan(c, x, 1, y);
        if (plan == null) return null;
        int r = x.rank();
        long planes = NormSteps.prod(x.shape, 0, r - 2);
        int h = (int) x.shape[r - 2], w = (int) x.shape[r - 1], oh = (int) y.shape[r - 2], ow = (int) y.shape[r - 1];
        Taps rows = Taps.of(plan, r - 2);
        float fill = (float) plan.extrapolation();
        Columns cols = Columns.of(Taps.of(plan, r - 1), ow, fill, w);
        long outRows = planes * oh;
        if (outRows == 0 || ow == 0) return () -> { };
        KernelPool pool = c.pool;
        int tasks = (int) Math.min(outRows, ElementwiseSteps.tasks(pool, y.numel * 4)); // ~4 element-ops an output
        float[][] line = new float[tasks][w + 1]; // [w] stays 0: what missing taps read
        MemorySegment m = c.mem;
        long xo = x.offset, yo = y.offset;
        boolean[] repeats = new boolean[oh]; // output row oy reads the same rows with the same weights as oy - 1
        for (int oy = 1; oy < oh; oy++)
            repeats[oy] = Arrays.equals(rows.index()[oy], rows.index()[oy - 1])
                    && Arrays.equals(rows.weight()[oy], rows.weight()[oy - 1]);
        return () -> pool.parallelFor(tasks, (t, s) -> {
            float[] acc = line[t];
            long row = outRows * t / tasks, end = outRows * (t + 1) / tasks;
            long plane = row / oh;
            int oy = (int) (row % oh);
            for (boolean first = true; row < end; row++, first = false) {
                long at = yo + row * ow;
                int[] iy = rows.index()[oy];
                if (iy == null) {
                    Vec.fill(m, at, ow, fill);
                } else if (repeats[oy] && !first) {
                    // The row above, written by this task: nearest upsampling repeats each row (scale 2: every other).
                    MemorySegment.copy(m, (at - ow) * Float.BYTES, m, at * Float.BYTES, (long) ow * Float.BYTES);
                } else {
                    combineRows(m, xo + plane * h * w, w, iy, rows.weight()[oy], acc);
                    cols.gather(acc, m, at);
                }
                if (++oy == oh) {
                    oy = 0;
                    plane++;
                }
            }
        });
    }

    /**
     * An axis's taps laid out for vector gathers: tap j of output column ox at {@code index[j * n + ox]} and
     * {@code weight[j * n + ox]}, plus {@code extra[ox]} (the extrapolation value where the column has no taps). A
     * column with fewer taps than the most reads the row's element {@code zero} (always 0) with weight 0, so that an
     * infinite input does not turn its sum into NaN.
     */
    private record Columns(int taps, int n, int[] index, float[] weight, float[] extra) {
        static Columns of(Taps t, int n, float fill, int zero) {
            int taps = 1;
            for (int[] ix : t.index()) if (ix != null) taps = Math.max(taps, ix.length);
            int[] index = new int[taps * n];
            Arrays.fill(index, zero);
            float[] weight = new float[taps * n], extra = new float[n];
            for (int ox = 0; ox < n; ox++) {
                int[] ix = t.index()[ox];
                if (ix == null) {
                    extra[ox] = fill;
                    continue;
                }
                for (int j = 0; j < ix.length; j++) {
                    index[j * n + ox] = ix[j];
                    weight[j * n + ox] = t.weight()[ox][j];
                }
            }
            return new Columns(taps, n, index, weight, extra);
        }

        /** y[at, at + n) = for each column, the sum of its taps' weights times {@code acc} at the taps' indices. */
        void gather(float[] acc, MemorySegment m, long at) {
            int ox = 0, bound = n - n % L;
            for (; ox < bound; ox += L) {
                FloatVector v = FloatVector.fromArray(Vec.S, extra, ox);
                for (int j = 0; j < taps; j++)
                    v = FloatVector.fromArray(Vec.S, acc, 0, index, j * n + ox)
                            .fma(FloatVector.fromArray(Vec.S, weight, j * n + ox), v);
                v.intoMemorySegment(m, (at + ox) << 2, ORDER);
            }
            for (; ox < n; ox++) {
                float v = extra[ox];
                for (int j = 0; j < taps; j++) v += weight[j * n + ox] * acc[index[j * n + ox]];
                Vec.set(m, at + ox, v);
            }
        }
    }

    /**
     * The interpreter's plan for a Resize of {@code small} (rank 2 at least) whose roi, scales and sizes are inputs
     * {@code first} to {@code first + 2} (constants, or absent), giving {@code big}; null when input 0 or output 0 is
     * outside the arena, the inputs are not constant, the plan fails or resizes an axis before the last two.
     */
    private static ResizeKernel.Plan plan(EmitContext c, Slot small, int first, Slot big) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena() || small.rank() < 2) return null;
        long[] in = small.shape, out = big.shape;
        for (int i = first; i < first + 3; i++) if (c.has(i) && c.constant(i) == null) return null;
        ResizeKernel.Plan plan;
        try {
            plan = ResizeKernel.plan(new ResizeKernel.Request(in, c.hasAttr("axes") ? c.attrInts("axes") : null,
                    c.constant(first), c.constant(first + 1), c.constant(first + 2),
                    c.attrString("keep_aspect_ratio_policy"), c.attrString("mode"),
                    c.attrString("coordinate_transformation_mode"), c.attrString("nearest_mode"),
                    c.attrFloat("cubic_coeff_a"), c.attrInt("antialias") != 0, c.attrInt("exclude_outside") != 0,
                    c.attrFloat("extrapolation_value")), c::error);
        } catch (GaleException e) {
            return null;
        }
        if (!Arrays.equals(plan.out(), out)) return null;
        for (int k = 0; k < in.length - 2; k++) if (!keeps(plan, k, in[k])) return null;
        return plan;
    }

    /**
     * ResizeGrad(dY, x_shape[, roi[, scales[, sizes]]]): the transpose of {@link #resize}. A task takes whole planes
     * (so no two write one element): for each output row it spreads the row's gradient over the input columns by the
     * column taps (scatter-adds in a heap row), then adds that row, times each row tap's weight, to the input rows the
     * output row read.
     */
    private static Step resizeGrad(EmitContext c) {
        Slot dy = c.in(0), dx = c.out(0);
        ResizeKernel.Plan plan = plan(c, dx, 2, dy);
        if (plan == null) return null;
        int r = dx.rank(), w = (int) dx.shape[r - 1], oh = (int) dy.shape[r - 2], ow = (int) dy.shape[r - 1];
        long planes = NormSteps.prod(dx.shape, 0, r - 2), planeIn = dx.shape[r - 2] * w;
        Taps rows = Taps.of(plan, r - 2), cols = Taps.of(plan, r - 1);
        KernelPool pool = c.pool;
        int tasks = (int) Math.max(1, Math.min(planes, ElementwiseSteps.tasks(pool, dy.numel * 4)));
        float[][] line = new float[tasks][w];
        MemorySegment m = c.mem;
        long dyo = dy.offset, dxo = dx.offset, planeOut = (long) oh * ow;
        return () -> pool.parallelFor(tasks, (t, s) -> {
            float[] acc = line[t];
            for (long p = planes * t / tasks, end = planes * (t + 1) / tasks; p < end; p++) {
                long plane = dxo + p * planeIn;
                Vec.fill(m, plane, planeIn, 0f);
                for (int oy = 0; oy < oh; oy++) {
                    int[] iy = rows.index()[oy];
                    if (iy == null) continue;
                    Arrays.fill(acc, 0f);
                    long at = dyo + p * planeOut + (long) oy * ow;
                    for (int ox = 0; ox < ow; ox++) {
                        int[] ix = cols.index()[ox];
                        if (ix == null) continue;
                        float g = Vec.get(m, at + ox);
                        float[] wx = cols.weight()[ox];
                        for (int j = 0; j < ix.length; j++) acc[ix[j]] += wx[j] * g;
                    }
                    float[] wy = rows.weight()[oy];
                    for (int i = 0; i < iy.length; i++) addScaled(acc, wy[i], m, plane + (long) iy[i] * w, w);
                }
            }
        });
    }

    /** m[at, at + n) += a * row[0, n). */
    private static void addScaled(float[] row, float a, MemorySegment m, long at, int n) {
        int i = 0, bound = n - n % L;
        FloatVector av = FloatVector.broadcast(Vec.S, a);
        for (; i < bound; i += L)
            FloatVector.fromArray(Vec.S, row, i).fma(av, FloatVector.fromMemorySegment(S, m, (at + i) << 2, ORDER))
                    .intoMemorySegment(m, (at + i) << 2, ORDER);
        for (; i < n; i++) Vec.set(m, at + i, Vec.get(m, at + i) + a * row[i]);
    }

    /** acc[0, w) = sum over taps j of weight[j] times input row index[j] of the plane at {@code plane}. */
    private static void combineRows(MemorySegment m, long plane, int w, int[] index, float[] weight, float[] acc) {
        if (index.length == 0) {
            Arrays.fill(acc, 0f);
            return;
        }
        if (index.length == 1 && weight[0] == 1f) {
            MemorySegment.copy(m, F, (plane + (long) index[0] * w) * Float.BYTES, acc, 0, w);
            return;
        }
        int bound = w - w % L;
        for (int j = 0; j < index.length; j++) {
            long at = plane + (long) index[j] * w;
            float wj = weight[j];
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector v = FloatVector.fromMemorySegment(S, m, (at + i) << 2, ORDER).mul(wj);
                (j == 0 ? v : v.add(FloatVector.fromArray(Vec.S, acc, i))).intoArray(acc, i);
            }
            for (; i < w; i++) acc[i] = (j == 0 ? 0f : acc[i]) + wj * Vec.get(m, at + i);
        }
    }

    /** Whether the plan leaves axis {@code k} as it is: each output coordinate reads its own index, weight 1. */
    private static boolean keeps(ResizeKernel.Plan plan, int k, long in) {
        int[][] index = plan.index()[k];
        for (int i = 0; i < index.length; i++) {
            if (index[i] == null) return false;
            if (plan.isNearest()) {
                if (plan.nearest(k, i) != i) return false;
                continue;
            }
            double[] wt = plan.weight()[k][i];
            for (int j = 0; j < wt.length; j++)
                if (wt[j] != 0 && (index[i][j] != i || wt[j] != 1)) return false;
        }
        return index.length == in;
    }
}
