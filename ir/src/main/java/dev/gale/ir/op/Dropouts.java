package dev.gale.ir.op;

import dev.gale.ir.Tensor;

/** Facts about ONNX Dropout shared by its gradient rule and the simplifier. */
public final class Dropouts {
    private Dropouts() {}

    /**
     * Whether a Dropout with these known inputs passes x through unchanged with an all-true mask: a ratio of 0, or
     * training_mode false. Either tensor may be null (not a known constant).
     */
    public static boolean isIdentity(Tensor ratio, Tensor trainingMode) {
        return (trainingMode != null && trainingMode.numel() == 1 && !trainingMode.getBool(0))
                || (ratio != null && ratio.numel() == 1 && ratio.getDouble(0) == 0);
    }
}
