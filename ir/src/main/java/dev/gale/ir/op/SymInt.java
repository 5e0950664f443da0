package dev.gale.ir.op;

import dev.gale.ir.Dim;

/**
 * One element of a shape value (see {@link ShapeValues}): a known integer (which may be negative, like Reshape's
 * {@code -1}), a symbolic dimension size such as {@code batch} (so never negative), or unknown.
 */
public record SymInt(Long value, String symbol) {
    public static final SymInt UNKNOWN = new SymInt(null, null);

    public static SymInt of(long v) { return new SymInt(v, null); }

    /** The element that a dimension of a shape reads as. */
    public static SymInt of(Dim d) {
        return switch (d) {
            case Dim.Fixed f -> of(f.size());
            case Dim.Sym s -> new SymInt(null, s.name());
            case Dim.Unknown u -> UNKNOWN;
        };
    }

    public boolean isKnown() { return value != null; }

    public boolean isSymbol() { return symbol != null; }

    /** The dimension this element describes when used as a size: unknown when negative or unknown. */
    public Dim asDim() {
        if (symbol != null) return Dim.sym(symbol);
        return value != null && value >= 0 ? Dim.of(value) : Dim.UNKNOWN;
    }

    @Override
    public String toString() { return value != null ? value.toString() : symbol != null ? symbol : "?"; }
}
