package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoublePredicate;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Loops shared by elementwise kernels: map one tensor, zip two or fold many with numpy broadcasting, select with a
 * condition. Floating-point types compute in float64 and round once to the output type (float16 and bfloat16
 * included, see {@link Casts#storeDouble}); integer types compute exactly
 * in 64 bits and wrap to the type's width ({@code uint64} values travel as their raw 64 bits, so operations that
 * depend on the sign, such as division and comparison, must use the unsigned {@code Long} methods for it).
 */
public final class Elementwise {
    private Elementwise() {}

    /** {@code f} applied to every element, computed in float64 and stored in {@code x}'s element type. */
    public static Tensor map(Tensor x, DoubleUnaryOperator f) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) Casts.storeDouble(y, i, f.applyAsDouble(x.getDouble(i)));
        return y;
    }

    /** Like {@link #map(Tensor, DoubleUnaryOperator)}, but integer and bool element types use the exact {@code fi}. */
    public static Tensor map(Tensor x, DoubleUnaryOperator ff, LongUnaryOperator fi) {
        if (x.dtype().isFloat()) return map(x, ff);
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) y.setLong(i, fi.applyAsLong(x.getLong(i)));
        return y;
    }

    /** A bool tensor of {@code x}'s shape: {@code p} of every element (read as float64). */
    public static Tensor test(Tensor x, DoublePredicate p) {
        Tensor y = Tensor.zeros(DType.BOOL, x.shape());
        for (int i = 0; i < x.numel(); i++) y.setLong(i, p.test(x.getDouble(i)) ? 1 : 0);
        return y;
    }

    /**
     * Broadcasts {@code a} and {@code b}; integer element types use {@code fi} (exact 64-bit arithmetic, wrapped to the
     * type's width), floating types use {@code ff} in float64. The result has element type {@code out}.
     */
    public static Tensor zip(Tensor a, Tensor b, DType out, DoubleBinaryOperator ff, LongBinaryOperator fi) {
        long[] shape = Broadcast.shape(a.shape(), b.shape());
        int[] ia = Broadcast.indexMap(shape, a.shape()), ib = Broadcast.indexMap(shape, b.shape());
        Tensor y = Tensor.zeros(out, shape);
        boolean integer = !a.dtype().isFloat() && fi != null;
        for (int i = 0; i < y.numel(); i++) {
            if (integer) y.setLong(i, fi.applyAsLong(a.getLong(ia[i]), b.getLong(ib[i])));
            else Casts.storeDouble(y, i, ff.applyAsDouble(a.getDouble(ia[i]), b.getDouble(ib[i])));
        }
        return y;
    }

    /** A bool tensor: {@code ff} or {@code fi} (chosen by {@code a}'s element type) of each broadcast pair. */
    public static Tensor compare(Tensor a, Tensor b, DoubleBinaryPredicate ff, LongBinaryPredicate fi) {
        return zip(a, b, DType.BOOL, (x, y) -> ff.test(x, y) ? 1 : 0, (x, y) -> fi.test(x, y) ? 1 : 0);
    }

    /**
     * Folds any number of inputs, broadcast together, element by element: {@code ff} in float64 for floating types,
     * {@code fi} exactly for integer types. The result has the first input's element type; the accumulator is never
     * rounded to it before the end, so a sum of float32 tensors is a float64 sum rounded once.
     */
    public static Tensor fold(List<Tensor> xs, DoubleBinaryOperator ff, LongBinaryOperator fi) {
        return fold(xs, ff, fi, DoubleUnaryOperator.identity());
    }

    /** {@link #fold(List, DoubleBinaryOperator, LongBinaryOperator)}, applying {@code finish} to float accumulators. */
    public static Tensor fold(List<Tensor> xs, DoubleBinaryOperator ff, LongBinaryOperator fi,
                              DoubleUnaryOperator finish) {
        long[][] shapes = new long[xs.size()][];
        for (int k = 0; k < xs.size(); k++) shapes[k] = xs.get(k).shape();
        long[] shape = Broadcast.shape(shapes);
        int[][] maps = new int[xs.size()][];
        for (int k = 0; k < xs.size(); k++) maps[k] = Broadcast.indexMap(shape, shapes[k]);
        Tensor first = xs.getFirst();
        Tensor y = Tensor.zeros(first.dtype(), shape);
        boolean integer = !first.dtype().isFloat();
        for (int i = 0; i < y.numel(); i++) {
            if (integer) {
                long acc = first.getLong(maps[0][i]);
                for (int k = 1; k < xs.size(); k++) acc = fi.applyAsLong(acc, xs.get(k).getLong(maps[k][i]));
                y.setLong(i, acc);
            } else {
                double acc = first.getDouble(maps[0][i]);
                for (int k = 1; k < xs.size(); k++) acc = ff.applyAsDouble(acc, xs.get(k).getDouble(maps[k][i]));
                Casts.storeDouble(y, i, finish.applyAsDouble(acc));
            }
        }
        return y;
    }

    /** Numpy's {@code where}: {@code x} where {@code cond} holds, else {@code y}, all three broadcast. */
    public static Tensor select(Tensor cond, Tensor x, Tensor y) {
        long[] shape = Broadcast.shape(cond.shape(), x.shape(), y.shape());
        int[] ic = Broadcast.indexMap(shape, cond.shape());
        int[] ix = Broadcast.indexMap(shape, x.shape()), iy = Broadcast.indexMap(shape, y.shape());
        Tensor out = Tensor.zeros(x.dtype(), shape);
        for (int i = 0; i < out.numel(); i++) {
            if (cond.getBool(ic[i])) out.copyElement(i, x, ix[i]);
            else out.copyElement(i, y, iy[i]);
        }
        return out;
    }

    @FunctionalInterface
    public interface DoubleBinaryPredicate {
        boolean test(double a, double b);
    }

    @FunctionalInterface
    public interface LongBinaryPredicate {
        boolean test(long a, long b);
    }
}
