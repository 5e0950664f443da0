package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.SparseTensorProto;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

/** Densifies ONNX sparse tensors (COO indices, linearized or per-dimension). */
final class SparseTensors {
    private SparseTensors() {}

    static Tensor toDense(SparseTensorProto sp, ExternalData external) {
        Tensor values = OnnxTensors.fromProto(sp.getValues(), external);
        Tensor indices = OnnxTensors.fromProto(sp.getIndices(), external);
        long[] shape = new long[sp.getDimsCount()];
        for (int i = 0; i < shape.length; i++) shape[i] = sp.getDims(i);
        Tensor dense = Tensor.zeros(values.dtype(), shape);
        long[] strides = Tensor.strides(shape);
        int nnz = values.numel();
        boolean linear = indices.rank() == 1;
        for (int k = 0; k < nnz; k++) {
            long flat = 0;
            if (linear) flat = indices.getLong(k);
            else for (int d = 0; d < shape.length; d++) flat += indices.getLong(k * shape.length + d) * strides[d];
            if (flat < 0 || flat >= dense.numel())
                throw new GaleException("sparse tensor '" + sp.getValues().getName() + "': index out of range");
            dense.copyElement((int) flat, values, k);
        }
        return dense;
    }
}
