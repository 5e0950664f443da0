package dev.gale.ir;

/**
 * An SSA value: defined once (by a graph input, an initializer or a node output), named uniquely within its graph
 * and the graphs nested in it. {@link #NONE} stands for an omitted optional input or output.
 */
public record Value(String name, Type type) {
    public static final Value NONE = new Value("", null);

    public boolean isNone() { return name.isEmpty(); }

    public Value withType(Type t) { return new Value(name, t); }

    public Type.TensorType tensorType() {
        return type instanceof Type.TensorType t ? t : null;
    }

    @Override
    public String toString() { return isNone() ? "_" : "%" + name; }
}
