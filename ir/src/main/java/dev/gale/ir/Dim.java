package dev.gale.ir;

/** One dimension of a shape: a fixed size, a named symbol such as {@code batch}, or unknown ({@code ?}). */
public sealed interface Dim {
    record Fixed(long size) implements Dim {
        public Fixed {
            if (size < 0) throw new GaleException("negative dimension " + size);
        }

        @Override
        public String toString() { return Long.toString(size); }
    }

    record Sym(String name) implements Dim {
        @Override
        public String toString() { return name; }
    }

    record Unknown() implements Dim {
        @Override
        public String toString() { return "?"; }
    }

    Dim UNKNOWN = new Unknown();

    static Dim of(long size) { return new Fixed(size); }

    static Dim sym(String name) { return new Sym(name); }

    default boolean isFixed() { return this instanceof Fixed; }

    /** The fixed size, or -1 when the dimension is symbolic or unknown. */
    default long sizeOr(long fallback) { return this instanceof Fixed f ? f.size() : fallback; }
}
