package dev.gale.ir;

import java.util.Locale;

/**
 * Element types of Gale tensors. The ONNX code is kept so import and export are a table lookup, and the short text
 * name ({@code f32}, {@code i64}, ...) is what the text IR prints.
 */
public enum DType {
    FLOAT32(1, "f32", 4), UINT8(2, "u8", 1), INT8(3, "i8", 1), UINT16(4, "u16", 2), INT16(5, "i16", 2),
    INT32(6, "i32", 4), INT64(7, "i64", 8), STRING(8, "str", 0), BOOL(9, "bool", 1), FLOAT16(10, "f16", 2),
    FLOAT64(11, "f64", 8), UINT32(12, "u32", 4), UINT64(13, "u64", 8), COMPLEX64(14, "c64", 8),
    COMPLEX128(15, "c128", 16), BFLOAT16(16, "bf16", 2);

    private final int onnxCode;
    private final String textName;
    private final int byteSize;

    DType(int onnxCode, String textName, int byteSize) {
        this.onnxCode = onnxCode;
        this.textName = textName;
        this.byteSize = byteSize;
    }

    public int onnxCode() { return onnxCode; }

    public String textName() { return textName; }

    /** Bytes per element; 0 for strings, whose size is not fixed. */
    public int byteSize() { return byteSize; }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64 -> true;
            default -> false;
        };
    }

    public boolean isSigned() {
        return switch (this) {
            case INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> true;
            default -> false;
        };
    }

    public boolean isNumeric() { return isFloat() || isInteger(); }

    public static DType fromOnnx(int code) {
        for (DType t : values()) if (t.onnxCode == code) return t;
        throw new GaleException("unsupported ONNX element type code " + code);
    }

    public static DType fromText(String name) {
        for (DType t : values()) if (t.textName.equals(name)) return t;
        throw new GaleException("unknown element type '" + name + "'");
    }

    @Override
    public String toString() { return textName; }

    public String onnxName() { return name().toLowerCase(Locale.ROOT); }
}
