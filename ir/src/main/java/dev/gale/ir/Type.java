package dev.gale.ir;

/**
 * The type of an IR value: a tensor (element type and an optional shape), a sequence of tensors, or an optional
 * value. A tensor whose shape is {@code null} has unknown rank.
 */
public sealed interface Type {
    record TensorType(DType dtype, Shape shape) implements Type {
        public boolean hasShape() { return shape != null; }

        @Override
        public String toString() {
            return "tensor<" + (shape == null ? "*" : shape.toString()) + "," + dtype.textName() + ">";
        }
    }

    record SequenceType(Type element) implements Type {
        @Override
        public String toString() { return "seq<" + element + ">"; }
    }

    record OptionalType(Type element) implements Type {
        @Override
        public String toString() { return "opt<" + element + ">"; }
    }

    static TensorType tensor(DType dtype, Shape shape) { return new TensorType(dtype, shape); }

    static TensorType tensor(DType dtype, long... sizes) { return new TensorType(dtype, Shape.of(sizes)); }

    static TensorType unranked(DType dtype) { return new TensorType(dtype, null); }
}
