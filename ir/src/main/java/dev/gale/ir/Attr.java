package dev.gale.ir;

import java.util.List;

/** A node attribute. The family is closed so {@code switch} over it is exhaustive. */
public sealed interface Attr {
    enum Kind { FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS, TYPE }

    Kind kind();

    record FloatAttr(float value) implements Attr {
        public Kind kind() { return Kind.FLOAT; }
    }

    record IntAttr(long value) implements Attr {
        public Kind kind() { return Kind.INT; }
    }

    record StringAttr(String value) implements Attr {
        public Kind kind() { return Kind.STRING; }
    }

    record TensorAttr(Tensor value) implements Attr {
        public Kind kind() { return Kind.TENSOR; }
    }

    record GraphAttr(Graph value) implements Attr {
        public Kind kind() { return Kind.GRAPH; }
    }

    record FloatsAttr(float[] values) implements Attr {
        public Kind kind() { return Kind.FLOATS; }

        @Override
        public boolean equals(Object o) {
            return o instanceof FloatsAttr f && java.util.Arrays.equals(values, f.values);
        }

        @Override
        public int hashCode() { return java.util.Arrays.hashCode(values); }

        @Override
        public String toString() { return java.util.Arrays.toString(values); }
    }

    record IntsAttr(long[] values) implements Attr {
        public Kind kind() { return Kind.INTS; }

        @Override
        public boolean equals(Object o) {
            return o instanceof IntsAttr f && java.util.Arrays.equals(values, f.values);
        }

        @Override
        public int hashCode() { return java.util.Arrays.hashCode(values); }

        @Override
        public String toString() { return java.util.Arrays.toString(values); }
    }

    record StringsAttr(List<String> values) implements Attr {
        public StringsAttr { values = List.copyOf(values); }

        public Kind kind() { return Kind.STRINGS; }
    }

    record TensorsAttr(List<Tensor> values) implements Attr {
        public TensorsAttr { values = List.copyOf(values); }

        public Kind kind() { return Kind.TENSORS; }
    }

    record GraphsAttr(List<Graph> values) implements Attr {
        public GraphsAttr { values = List.copyOf(values); }

        public Kind kind() { return Kind.GRAPHS; }
    }

    /** A type as an attribute value (ONNX TYPE_PROTO), e.g. the element type of an empty {@code Optional}. */
    record TypeAttr(Type value) implements Attr {
        public Kind kind() { return Kind.TYPE; }
    }

    static Attr of(float v) { return new FloatAttr(v); }

    static Attr of(long v) { return new IntAttr(v); }

    static Attr of(String v) { return new StringAttr(v); }

    static Attr of(long... v) { return new IntsAttr(v.clone()); }

    static Attr of(float... v) { return new FloatsAttr(v.clone()); }

    static Attr of(Tensor t) { return new TensorAttr(t); }

    static Attr of(Graph g) { return new GraphAttr(g); }
}
