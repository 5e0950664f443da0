package dev.gale.train;

import dev.gale.ir.GaleException;

/** The training losses {@code gale train --loss} offers. */
public enum LossKind {
    /** Softmax cross-entropy over integer class labels, mean over the batch ({@code ignore_index} supported). */
    CROSS_ENTROPY("cross-entropy"),
    /** Mean squared error against float targets of the output's shape. */
    MSE("mse");

    private final String cliName;

    LossKind(String cliName) { this.cliName = cliName; }

    public String cliName() { return cliName; }

    public static LossKind parse(String s) {
        for (LossKind k : values()) if (k.cliName.equals(s)) return k;
        throw new GaleException("unknown loss '" + s + "' (use cross-entropy or mse)");
    }
}
