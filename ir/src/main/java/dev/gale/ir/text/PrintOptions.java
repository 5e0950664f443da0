package dev.gale.ir.text;

/**
 * How {@link TextPrinter} writes tensors. Tensors with at most {@code maxDecimalElements} elements are always written
 * in full as decimals. Larger ones are written in full (as hex of their little-endian bytes; string tensors as quoted
 * strings) when {@code inlineWeights} is set, and otherwise summarized as {@code elided {...}}: shape, statistics and
 * the first few values, which reads well but does not parse back.
 */
public record PrintOptions(boolean inlineWeights, int maxDecimalElements) {
    public PrintOptions {
        if (maxDecimalElements < 0) throw new IllegalArgumentException("maxDecimalElements < 0");
    }

    /** Large tensors summarized: for reading. */
    public static final PrintOptions SUMMARY = new PrintOptions(false, 16);

    /** Every tensor written in full: the text parses back to an equal model. */
    public static final PrintOptions INLINE = new PrintOptions(true, 16);

    public PrintOptions withInlineWeights(boolean inline) { return new PrintOptions(inline, maxDecimalElements); }
}
