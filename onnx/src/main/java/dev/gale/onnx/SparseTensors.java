package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.SparseTensorProto;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.util.Arrays;

/** Densifies ONNX sparse tensors (COO indices, linearized or per-dimension), checking every index first. */
final class SparseTensors {
    private SparseTensors() {}

    static Tensor toDense(SparseTensorProto sp, ExternalData external) {
        String what = "sparse tensor '" + sp.getValues().getName() + "'";
        long[] shape = new long[sp.getDimsCount()];
        for (int i = 0; i < shape.length; i++) shape[i] = sp.getDims(i);
        try {
            Tensor.checkedNumel(shape);
        } catch (GaleException e) {
            throw new GaleException(what + ": " + e.getMessage());
        }
        Tensor values = OnnxTensors.fromProto(sp.getValues(), external);
        Tensor indices = OnnxTensors.fromProto(sp.getIndices(), external);
        int nnz = values.numel();
        if (values.rank() != 1)
            throw new GaleException(what + ": values must be 1-D, got shape " + Arrays.toString(values.shape()));
        if (indices.dtype() != DType.INT64)
            throw new GaleException(what + ": indices must be int64, got " + indices.dtype());
        boolean linear = indices.rank() == 1;
        if (linear ? indices.numel() != nnz
                : indices.rank() != 2 || indices.dim(0) != nnz || indices.dim(1) != shape.length)
            throw new GaleException(what + ": indices of shape " + Arrays.toString(indices.shape()) + " do not fit "
                    + nnz + " values in " + shape.length + " dimensions");
        Tensor dense = Tensor.zeros(values.dtype(), shape);
        long[] strides = Tensor.strides(shape);
        for (int k = 0; k < nnz; k++) {
            long flat = 0;
            if (linear) {
                flat = indices.getLong(k);
            } else {
                for (int d = 0; d < shape.length; d++) {
                    long ix = indices.getLong(k * shape.length + d);
                    if (ix < 0 || ix >= shape[d])
                        throw new GaleException(what + ": index " + ix + " of value " + k + " is out of range for "
                                + "dimension " + d + " of size " + shape[d]);
                    flat += ix * strides[d];
                }
            }
            if (flat < 0 || flat >= dense.numel())
                throw new GaleException(what + ": index " + flat + " of value " + k + " is out of range for shape "
                        + Arrays.toString(shape));
            dense.copyElement((int) flat, values, k);
        }
        return dense;
    }
}
