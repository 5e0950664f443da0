package dev.gale.codegen.render;

import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.DType;

import java.util.List;

/**
 * OpenCL C 1.2: {@code __kernel} functions over {@code __global} buffers, one work-item per grid element
 * ({@code get_global_id(0)}). Math built-ins are overloaded on float and double; doubles need {@code cl_khr_fp64}.
 * Bool buffers are {@code uchar} (bool is not allowed in kernel arguments).
 */
public final class OpenCLRenderer extends GpuRenderer {
    @Override
    protected String qualifiers() { return "__kernel"; }

    @Override
    protected String bufferParam(KernelIR.Buffer b) {
        String t = b.type() == DType.BOOL ? "uchar" : typeName(b.type());
        return "__global " + (b.output() ? "" : "const ") + t + "* " + b.name();
    }

    @Override
    protected String globalId() { return "get_global_id(0)"; }

    @Override
    protected String preamble(KernelIR k) {
        return (usesDouble(k) ? "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n" : "")
                + (usesMinMax(k, DType.FLOAT32) ? minMaxHelpers("static inline", DType.FLOAT32) : "")
                + (usesMinMax(k, DType.FLOAT64) ? minMaxHelpers("static inline", DType.FLOAT64) : "");
    }

    @Override
    protected String typeName(DType t) {
        return switch (t) {
            case FLOAT32 -> "float";
            case FLOAT64 -> "double";
            case INT32 -> "int";
            case INT64 -> "long";
            case BOOL -> "bool";
            default -> throw new IllegalArgumentException("no OpenCL type for " + t);
        };
    }

    @Override
    protected Code call(Sx.UnOp op, DType t, String x) {
        String f = switch (op) {
            case ABS -> t.isFloat() ? "fabs" : "abs";
            case RINT -> "rint";
            default -> op.name().toLowerCase(java.util.Locale.ROOT);
        };
        return new Code(f + "(" + x + ")", PRIMARY);
    }

    @Override
    protected Code call(Sx.BinOp op, DType t, String a, String b) {
        String f = switch (op) {
            case MAX -> t.isFloat() ? "gale_fmax" : "max";
            case MIN -> t.isFloat() ? "gale_fmin" : "min";
            default -> "pow";
        };
        if (op != Sx.BinOp.POW && t == DType.FLOAT32) f += "f";
        return new Code(f + "(" + a + ", " + b + ")", PRIMARY);
    }

    @Override
    protected String infinity(DType t) { return t == DType.FLOAT64 ? "((double) INFINITY)" : "INFINITY"; }

    @Override
    protected String nan(DType t) { return t == DType.FLOAT64 ? "((double) NAN)" : "NAN"; }

    private static boolean usesDouble(KernelIR k) {
        if (k.buffers().stream().anyMatch(b -> b.type() == DType.FLOAT64)) return true;
        for (KernelIR.Nest n : k.nests()) if (usesDouble(n.body())) return true;
        return false;
    }

    private static boolean usesDouble(List<Stmt> body) {
        for (Stmt s : body) {
            if (s instanceof Stmt.Loop l && usesDouble(l.body())) return true;
            if (s instanceof Stmt.Let l && l.value().type() == DType.FLOAT64) return true;
            if (s instanceof Stmt.Acc a && a.type() == DType.FLOAT64) return true;
        }
        return false;
    }
}
