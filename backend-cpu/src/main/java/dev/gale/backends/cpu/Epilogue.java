package dev.gale.backends.cpu;

import java.lang.foreign.MemorySegment;

/**
 * What a GEMM (or a convolution) does to each output element after the product, while the output tile is still in
 * cache: {@code C = act(alpha op(A) op(B) + beta C + bias + residual)}. The bias is one value per row (a
 * convolution's output channel) or per column (a linear layer's output feature); the residual is a matrix shaped like
 * C, added before the activation (ResNet's {@code relu(conv(x) + x)}; a transformer's {@code x + W h} has no
 * activation).
 *
 * <pre>{@code
 * Epilogue e = Epilogue.NONE.withColumnBias(b, 0).withActivation(Activation.GELU);
 * }</pre>
 *
 * @param bias             the bias, or null
 * @param biasOffset       element offset of the first bias value in {@code bias}
 * @param biasPerRow       true: {@code bias[i]} for row i; false: {@code bias[j]} for column j
 * @param residual         the residual matrix, or null
 * @param residualOffset   element offset of the residual's first element
 * @param ldr              the residual's row stride in elements (for a convolution: the output's spatial size)
 * @param residualBatchStride element stride between the residuals of consecutive batch entries (batched GEMM)
 * @param activation       applied last
 */
public record Epilogue(MemorySegment bias, long biasOffset, boolean biasPerRow, MemorySegment residual,
                       long residualOffset, long ldr, long residualBatchStride, Activation activation) {
    public static final Epilogue NONE = new Epilogue(null, 0, false, null, 0, 0, 0, Activation.NONE);

    public Epilogue {
        if (activation == null) throw new IllegalArgumentException("activation is null; use Activation.NONE");
    }

    /** Adds {@code bias[biasOffset + i]} to row i. */
    public Epilogue withRowBias(MemorySegment bias, long offset) {
        return new Epilogue(bias, offset, true, residual, residualOffset, ldr, residualBatchStride, activation);
    }

    /** Adds {@code bias[biasOffset + j]} to column j. */
    public Epilogue withColumnBias(MemorySegment bias, long offset) {
        return new Epilogue(bias, offset, false, residual, residualOffset, ldr, residualBatchStride, activation);
    }

    /** Adds {@code residual[offset + i * ld + j]} (plus {@code batchStride} per batch entry) before the activation. */
    public Epilogue withResidual(MemorySegment residual, long offset, long ld, long batchStride) {
        return new Epilogue(bias, biasOffset, biasPerRow, residual, offset, ld, batchStride, activation);
    }

    public Epilogue withResidual(MemorySegment residual, long offset, long ld) { return withResidual(residual, offset, ld, 0); }

    public Epilogue withActivation(Activation a) {
        return new Epilogue(bias, biasOffset, biasPerRow, residual, residualOffset, ldr, residualBatchStride, a);
    }

    /** True when the epilogue only scales and stores. */
    public boolean isNone() { return bias == null && residual == null && activation == Activation.NONE; }

    /**
     * The same epilogue with the residual moved by {@code elements} and the bias by {@code biasElements}; itself where
     * there is neither (a batched product calls this once a task, and attention's products have neither: new
     * epilogues there were a quarter of what the transformer encoder layer's training step allocated).
     */
    Epilogue shifted(long biasElements, long elements) {
        if (bias == null && residual == null) return this;
        return new Epilogue(bias, biasOffset + biasElements, biasPerRow, residual, residualOffset + elements, ldr,
                residualBatchStride, activation);
    }
}
