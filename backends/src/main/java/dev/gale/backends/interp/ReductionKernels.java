package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;

import static dev.gale.backends.interp.Kernels.register;

/**
 * Interpreter kernels: Reduce*, ArgMax/ArgMin, CumSum and TopK (the softmax family and the losses are in
 * {@link SoftmaxKernels}). Floating-point folds run in float64; integer folds that ONNX defines exactly (sum, product,
 * extrema, L1, sum of squares, mean) run in 64-bit integers and wrap to the element type like numpy does.
 */
final class ReductionKernels {
    private ReductionKernels() {}

    /** A fold of one output slot's integer elements; {@code t} tells how to read them (u64 compares unsigned). */
    @FunctionalInterface
    private interface ExactFold {
        long fold(long[] v, DType t);
    }

    static void registerAll() {
        // An empty slot folds to ONNX's identity: 0 for sums, 1 for products, -inf (or the type's minimum) for max.
        reduction("ReduceSum", ReductionKernels::sum, (v, t) -> Arrays.stream(v).sum());
        reduction("ReduceProd", v -> Arrays.stream(v).reduce(1, (a, b) -> a * b),
                (v, t) -> Arrays.stream(v).reduce(1, (a, b) -> a * b));
        reduction("ReduceMax", v -> Arrays.stream(v).reduce(Double.NEGATIVE_INFINITY, Math::max),
                (v, t) -> Arrays.stream(v).reduce(Reduce.minValue(t), (a, b) -> compare(a, b, t) >= 0 ? a : b));
        reduction("ReduceMin", v -> Arrays.stream(v).reduce(Double.POSITIVE_INFINITY, Math::min),
                (v, t) -> Arrays.stream(v).reduce(Reduce.maxValue(t), (a, b) -> compare(a, b, t) <= 0 ? a : b));
        // numpy's integer mean is a float64 mean cast back, which truncates toward zero like integer division.
        reduction("ReduceMean", v -> sum(v) / v.length, (v, t) -> v.length == 0 ? 0 : Arrays.stream(v).sum() / v.length);
        reduction("ReduceSumSquare", v -> Arrays.stream(v).map(x -> x * x).sum(),
                (v, t) -> Arrays.stream(v).map(x -> x * x).sum());
        reduction("ReduceL1", v -> Arrays.stream(v).map(Math::abs).sum(),
                (v, t) -> Arrays.stream(v).map(x -> t == DType.UINT64 ? x : Math.abs(x)).sum());
        reduction("ReduceL2", v -> Math.sqrt(Arrays.stream(v).map(x -> x * x).sum()), null);
        reduction("ReduceLogSum", v -> Math.log(sum(v)), null);
        reduction("ReduceLogSumExp", ReductionKernels::logSumExp, null);

        register("ArgMax", Kernel.single(c -> argReduce(c, 1)));
        register("ArgMin", Kernel.single(c -> argReduce(c, -1)));
        register("CumSum", Kernel.single(ReductionKernels::cumSum));
        register("TopK", ReductionKernels::topK);
        SoftmaxKernels.registerAll();
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s;
    }

    /** log(sum(exp(v))) with the maximum subtracted first, so large inputs do not overflow. */
    private static double logSumExp(double[] v) {
        double m = Arrays.stream(v).reduce(Double.NEGATIVE_INFINITY, Math::max);
        if (Double.isInfinite(m)) return m; // empty, all -inf, or some +inf
        double s = 0;
        for (double x : v) s += Math.exp(x - m);
        return m + Math.log(s);
    }

    private static int compare(long a, long b, DType t) {
        return t == DType.UINT64 ? Long.compareUnsigned(a, b) : Long.compare(a, b);
    }

    /**
     * A Reduce* kernel (opset-18 form): the optional int64 {@code axes} input picks the axes, none means all of them
     * unless {@code noop_with_empty_axes} makes the op an identity. Integer inputs use {@code exact} when given.
     */
    private static void reduction(String op, ToDoubleFunction<double[]> real, ExactFold exact) {
        register(op, Kernel.single(c -> {
            Tensor x = c.required(0);
            if (!x.dtype().isNumeric() && x.dtype() != DType.BOOL)
                throw c.error("input must be a numeric tensor, got " + x.dtype());
            long[] axes = new long[0];
            if (c.has(1)) {
                Tensor a = c.required(1);
                if (a.rank() > 1 || a.dtype().isFloat() || !a.dtype().isNumeric())
                    throw c.error("axes must be a 1-D int64 tensor, got " + a.type());
                axes = a.toLongArray();
            }
            if (axes.length == 0 && c.attrInt("noop_with_empty_axes") != 0) return x;
            boolean[] mask = Reduce.mask(axes, x.rank(), c);
            Tensor y = Tensor.zeros(x.dtype(), Reduce.shape(x.shape(), mask, c.attrInt("keepdims") != 0));
            if (exact != null && !x.dtype().isFloat()) {
                long[][] groups = Reduce.groupsExact(x, mask);
                for (int s = 0; s < groups.length; s++) y.setLong(s, exact.fold(groups[s], x.dtype()));
            } else {
                double[][] groups = Reduce.groupsReal(x, mask);
                for (int s = 0; s < groups.length; s++) y.setDouble(s, real.applyAsDouble(groups[s]));
            }
            return y;
        }));
    }

    /** ArgMax ({@code sign} 1) or ArgMin (-1): the first extreme's index, or the last with select_last_index. */
    private static Tensor argReduce(KernelCall c, int sign) {
        Tensor x = c.required(0);
        if (!x.dtype().isNumeric()) throw c.error("input must be a numeric tensor, got " + x.dtype());
        int axis = Reduce.axis(c.attrInt("axis"), x.rank(), c);
        boolean last = c.attrInt("select_last_index") != 0;
        boolean[] mask = new boolean[x.rank()];
        mask[axis] = true;
        Tensor y = Tensor.zeros(DType.INT64, Reduce.shape(x.shape(), mask, c.attrInt("keepdims") != 0));
        Reduce.Axis v = Reduce.Axis.of(x.shape(), axis);
        if (v.len() == 0 && y.numel() > 0) throw c.error("cannot pick an index along axis " + axis + " of size 0");
        for (int o = 0; o < v.outer(); o++) {
            for (int i = 0; i < v.inner(); i++) {
                int best = 0;
                for (int k = 1; k < v.len(); k++) {
                    int a = v.at(o, k, i), b = v.at(o, best, i);
                    // NaN wins either way, as in numpy; otherwise compare in the op's direction.
                    boolean nanA = isNaN(x, a), nanB = isNaN(x, b);
                    int cmp = nanA || nanB ? Boolean.compare(nanA, nanB) : sign * Reduce.compare(x, a, b);
                    if (cmp > 0 || cmp == 0 && last) best = k;
                }
                y.setLong(o * v.inner() + i, best);
            }
        }
        return y;
    }

    private static boolean isNaN(Tensor x, int i) { return x.dtype().isFloat() && Double.isNaN(x.getDouble(i)); }

    /** A single axis given as a scalar or one-element tensor. */
    private static int axisInput(KernelCall c, Tensor t, int rank) {
        if (t.numel() != 1 || t.rank() > 1 || t.dtype().isFloat() || !t.dtype().isNumeric())
            throw c.error("axis must be an integer scalar or 1-element tensor, got " + t.type());
        return Reduce.axis(t.getLong(0), rank, c);
    }

    /** Running sums along the axis; exclusive sums skip the current element, reverse ones run from the end. */
    private static Tensor cumSum(KernelCall c) {
        Tensor x = c.required(0);
        if (!x.dtype().isNumeric()) throw c.error("input must be a numeric tensor, got " + x.dtype());
        Reduce.Axis v = Reduce.Axis.of(x.shape(), axisInput(c, c.required(1), x.rank()));
        boolean exclusive = c.attrInt("exclusive") != 0, reverse = c.attrInt("reverse") != 0;
        boolean exact = !x.dtype().isFloat();
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int o = 0; o < v.outer(); o++) {
            for (int i = 0; i < v.inner(); i++) {
                long accL = 0;
                double acc = 0;
                for (int step = 0; step < v.len(); step++) {
                    int at = v.at(o, reverse ? v.len() - 1 - step : step, i);
                    if (exclusive) store(y, at, exact, accL, acc);
                    if (exact) accL += x.getLong(at);
                    else acc += x.getDouble(at);
                    if (!exclusive) store(y, at, exact, accL, acc);
                }
            }
        }
        return y;
    }

    private static void store(Tensor y, int at, boolean exact, long accL, double acc) {
        if (exact) y.setLong(at, accL);
        else y.setDouble(at, acc);
    }

    /**
     * The k largest (or smallest) elements along the axis and their indices, best first; equal values keep index
     * order, so the lower index wins a tie as ONNX specifies. Output is sorted even when {@code sorted} is 0.
     */
    private static List<Object> topK(KernelCall c) {
        Tensor x = c.required(0), kt = c.required(1);
        if (!x.dtype().isNumeric()) throw c.error("input must be a numeric tensor, got " + x.dtype());
        if (kt.numel() != 1 || kt.rank() > 1 || kt.dtype() != DType.INT64)
            throw c.error("K must be a 1-element int64 tensor, got " + kt.type());
        int axis = Reduce.axis(c.attrInt("axis"), x.rank(), c);
        long k = kt.getLong(0);
        if (k < 0 || k > x.dim(axis))
            throw c.error("K = " + k + " is out of range for axis " + axis + " of size " + x.dim(axis));
        boolean largest = c.attrInt("largest") != 0;
        long[] outShape = x.shape();
        outShape[axis] = k;
        Tensor values = Tensor.zeros(x.dtype(), outShape), indices = Tensor.zeros(DType.INT64, outShape);
        Reduce.Axis v = Reduce.Axis.of(x.shape(), axis), ov = Reduce.Axis.of(outShape, axis);
        Integer[] order = new Integer[v.len()];
        for (int o = 0; o < v.outer(); o++) {
            for (int i = 0; i < v.inner(); i++) {
                int oo = o, ii = i;
                for (int j = 0; j < order.length; j++) order[j] = j;
                // Arrays.sort on objects is stable: ties stay in index order.
                Arrays.sort(order, (a, b) -> {
                    int r = Reduce.compare(x, v.at(oo, a, ii), v.at(oo, b, ii));
                    return largest ? -r : r;
                });
                for (int j = 0; j < k; j++) {
                    values.copyElement(ov.at(o, j, i), x, v.at(o, order[j], i));
                    indices.setLong(ov.at(o, j, i), order[j]);
                }
            }
        }
        return List.of(values, indices);
    }
}
