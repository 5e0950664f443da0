package dev.gale.ir;

/** A run-time optional: holds a {@link Tensor}, a {@link TensorSequence}, or nothing ({@code value == null}). */
public record OptionalValue(Type elementType, Object value) {
    public boolean isPresent() { return value != null; }
}
