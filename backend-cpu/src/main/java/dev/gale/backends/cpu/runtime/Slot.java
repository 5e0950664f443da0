package dev.gale.backends.cpu.runtime;

import dev.gale.ir.DType;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

/**
 * Where one value of an execution plan lives. A float32 tensor whose shape is static lives in the arena at
 * {@link #offset} (in floats); anything else (other element types, shapes only the run time knows, sequences) is a
 * Java object in the plan's box array at {@link #box}.
 */
final class Slot {
    final String name;
    final Type type;
    /** The element type, or null when the value is not a tensor. */
    final DType dtype;
    /** The static shape, or null when the run time decides it. */
    final long[] shape;
    final long numel;
    /** Element offset in the arena, or -1 for a boxed value. */
    long offset = -1;
    int box = -1;
    /** Written once when the plan is built (an initializer or a Constant), never by a step. */
    boolean constant;

    Slot(String name, Type type) {
        this.name = name;
        this.type = type;
        Type.TensorType t = type instanceof Type.TensorType tt ? tt : null;
        this.dtype = t == null ? null : t.dtype();
        Shape s = t == null ? null : t.shape();
        long[] sizes = s != null && s.isStatic() ? s.sizes() : null;
        long n = 1;
        try {
            if (sizes != null) for (long d : sizes) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            sizes = null; // too large to place; the interpreter's kernels will say so
        }
        this.shape = sizes;
        this.numel = sizes == null ? -1 : n;
    }

    /** True when this value belongs in the arena: a float32 tensor of static shape (within the tensor size limit). */
    boolean wantsArena() { return dtype == DType.FLOAT32 && shape != null && numel <= Tensor.MAX_ELEMENTS; }

    boolean inArena() { return offset >= 0; }

    int rank() { return shape.length; }

    long dim(int i) { return shape[i]; }

    @Override
    public String toString() { return "'" + name + "' " + type + (inArena() ? " @" + offset : " box " + box); }
}
