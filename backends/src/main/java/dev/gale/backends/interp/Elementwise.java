package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;

/** Loops shared by elementwise kernels: map one tensor, or zip two with broadcasting. */
public final class Elementwise {
    private Elementwise() {}

    /** {@code f} applied to every element, computed in float64 and stored in {@code x}'s element type. */
    public static Tensor map(Tensor x, DoubleUnaryOperator f) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        for (int i = 0; i < x.numel(); i++) y.setDouble(i, f.applyAsDouble(x.getDouble(i)));
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
            else y.setDouble(i, ff.applyAsDouble(a.getDouble(ia[i]), b.getDouble(ib[i])));
        }
        return y;
    }
}
