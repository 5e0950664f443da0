package dev.gale.ir;

import java.util.List;

/** A run-time sequence of tensors (the value of a {@code seq<...>} typed value). */
public record TensorSequence(DType elementType, List<Tensor> tensors) {
    public TensorSequence {
        tensors = List.copyOf(tensors);
    }
}
