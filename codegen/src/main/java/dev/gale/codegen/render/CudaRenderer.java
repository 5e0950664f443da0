package dev.gale.codegen.render;

import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.DType;

import java.util.Locale;

/**
 * CUDA C++ for NVRTC or nvcc: {@code extern "C" __global__} functions (unmangled names for the driver API's
 * {@code cuModuleGetFunction}), one thread per grid element ({@code blockIdx.x * blockDim.x + threadIdx.x}). Math
 * functions have an {@code f} suffix for float; infinities and NaN are built from their bits, which needs no header.
 * Bool buffers are {@code unsigned char}.
 */
public final class CudaRenderer extends GpuRenderer {
    @Override
    protected String qualifiers() { return "extern \"C\" __global__"; }

    @Override
    protected String bufferParam(KernelIR.Buffer b) {
        String t = b.type() == DType.BOOL ? "unsigned char" : typeName(b.type());
        return (b.output() ? "" : "const ") + t + "* " + b.name();
    }

    @Override
    protected String globalId() { return "blockIdx.x * blockDim.x + threadIdx.x"; }

    @Override
    protected String preamble(KernelIR k) {
        return (usesMinMax(k, DType.FLOAT32) ? minMaxHelpers("__device__ __forceinline__", DType.FLOAT32) : "")
                + (usesMinMax(k, DType.FLOAT64) ? minMaxHelpers("__device__ __forceinline__", DType.FLOAT64) : "");
    }

    @Override
    protected String typeName(DType t) {
        return switch (t) {
            case FLOAT32 -> "float";
            case FLOAT64 -> "double";
            case INT32 -> "int";
            case INT64 -> "long long";
            case BOOL -> "bool";
            default -> throw new IllegalArgumentException("no CUDA type for " + t);
        };
    }

    @Override
    protected String intLiteral(DType t, long v) {
        if (t == DType.INT64 && v == Long.MIN_VALUE) return "(-9223372036854775807LL - 1LL)";
        return t == DType.INT64 ? v + "LL" : super.intLiteral(t, v);
    }

    @Override
    protected Code call(Sx.UnOp op, DType t, String x) {
        String f = switch (op) {
            case ABS -> t.isFloat() ? "fabs" : t == DType.INT64 ? "llabs" : "abs";
            default -> op.name().toLowerCase(Locale.ROOT);
        };
        return new Code(f + (t == DType.FLOAT32 ? "f" : "") + "(" + x + ")", PRIMARY);
    }

    @Override
    protected Code call(Sx.BinOp op, DType t, String a, String b) {
        String f = switch (op) {
            case MAX -> t.isFloat() ? "gale_fmax" : "max";
            case MIN -> t.isFloat() ? "gale_fmin" : "min";
            default -> "pow";
        };
        return new Code(f + (t == DType.FLOAT32 ? "f" : "") + "(" + a + ", " + b + ")", PRIMARY);
    }

    @Override
    protected String infinity(DType t) {
        return t == DType.FLOAT64 ? "__longlong_as_double(0x7ff0000000000000LL)" : "__int_as_float(0x7f800000)";
    }

    @Override
    protected String nan(DType t) {
        return t == DType.FLOAT64 ? "__longlong_as_double(0x7ff8000000000000LL)" : "__int_as_float(0x7fc00000)";
    }
}
