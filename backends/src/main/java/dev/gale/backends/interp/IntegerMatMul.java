package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.Arrays;

/**
 * Numpy-style matmul of two integer tensors with exact 64-bit accumulation, for MatMulInteger and QLinearMatMul.
 * A 1-D left operand is a row vector and a 1-D right operand a column vector; the unit dimension is dropped from the
 * result. {@code shape2d} keeps it ({@code [batch..., M, N]}); {@code shape} is the ONNX result shape. Both list the
 * elements of {@code acc} in the same order.
 */
record IntegerMatMul(long[] shape2d, long[] shape, long[] acc) {

    static IntegerMatMul of(KernelCall c, Tensor a, Tensor b) {
        if (a.rank() == 0 || b.rank() == 0) throw c.error("matmul operands must have rank >= 1");
        long[] as = a.rank() == 1 ? new long[] {1, a.dim(0)} : a.shape();
        long[] bs = b.rank() == 1 ? new long[] {b.dim(0), 1} : b.shape();
        long m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
        if (bs[bs.length - 2] != k)
            throw c.error("matmul inner dimensions differ: " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()));
        long[] batchA = Arrays.copyOf(as, as.length - 2), batchB = Arrays.copyOf(bs, bs.length - 2);
        long[] batch;
        try {
            batch = Broadcast.shape(batchA, batchB);
        } catch (RuntimeException e) {
            throw c.error("batch dimensions of " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape())
                    + " do not broadcast");
        }
        int[] ia = Broadcast.indexMap(batch, batchA), ib = Broadcast.indexMap(batch, batchB);
        long[] shape2d = Arrays.copyOf(batch, batch.length + 2);
        shape2d[batch.length] = m;
        shape2d[batch.length + 1] = n;
        long[] acc = new long[Tensor.checkedNumel(shape2d)];
        for (int p = 0; p < ia.length; p++) {
            long aBase = (long) ia[p] * m * k, bBase = (long) ib[p] * k * n, oBase = (long) p * m * n;
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++) {
                    long s = 0;
                    for (long q = 0; q < k; q++)
                        s += a.getLong((int) (aBase + i * k + q)) * b.getLong((int) (bBase + q * n + j));
                    acc[(int) (oBase + i * n + j)] = s;
                }
        }
        long[] shape = batch;
        if (a.rank() > 1) shape = append(shape, m);
        if (b.rank() > 1) shape = append(shape, n);
        return new IntegerMatMul(shape2d, shape, acc);
    }

    private static long[] append(long[] s, long v) {
        long[] r = Arrays.copyOf(s, s.length + 1);
        r[s.length] = v;
        return r;
    }

    /** The accumulators stored in {@code t} (wrapping to its width, as ONNX's int32 accumulation does). */
    Tensor toTensor(DType t) {
        Tensor y = Tensor.zeros(t, shape);
        for (int i = 0; i < acc.length; i++) y.setLong(i, acc[i]);
        return y;
    }
}
