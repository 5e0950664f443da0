package dev.gale.ir;

/** The opset range Gale reads and the version it writes. */
public final class OpsetInfo {
    private OpsetInfo() {}

    public static final int MIN_DEFAULT_OPSET = 1;
    /** The newest ai.onnx opset whose semantics Gale's op table implements. */
    public static final int MAX_DEFAULT_OPSET = 18;
    public static final String TRAINING_DOMAIN = "ai.onnx.preview.training";
    public static final String ML_DOMAIN = "ai.onnx.ml";
    public static final int MAX_TRAINING_OPSET = 1;
}
