package dev.gale.codegen.kir;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fused kernel in loop-nest form. Buffers are flat arrays of one element type; the kernel receives each as an
 * array (pointer) plus an element offset, so that many tensors can live in one arena. Symbolic sizes are int
 * arguments, each bound from one dimension of an input buffer. The work is one or more nests, run one after the
 * other: each computes outputs of one shape (a kernel whose outputs differ in shape has one nest per shape).
 *
 * <p>Argument order, for every renderer: each buffer (inputs first, then outputs) as array and offset, then the
 * sizes.
 */
public record KernelIR(String name, List<Buffer> buffers, List<SizeParam> sizes, List<Check> checks, List<Nest> nests) {
    public KernelIR {
        buffers = List.copyOf(buffers);
        sizes = List.copyOf(sizes);
        checks = List.copyOf(checks);
        nests = List.copyOf(nests);
    }

    /**
     * A relation between sizes that the kernel's indexing relies on and that only the run-time sizes can confirm
     * (a reshape between {@code [a,64]} and {@code [16,b,64]} needs {@code a == 16*b}). The caller checks it on the
     * host before launching; {@code what} says which op needs it.
     */
    public record Check(Ix left, Ix right, String what) {}

    /** The first check that fails for the given sizes, as a message; null when all hold. */
    public String failedCheck(Map<String, Long> sizes) {
        for (Check c : checks) {
            long l = Ix.eval(c.left(), sizes), r = Ix.eval(c.right(), sizes);
            if (l != r) return c.what() + ": needs " + KernelPrinter.ix(c.left()) + " == " + KernelPrinter.ix(c.right())
                    + ", but they are " + l + " and " + r;
        }
        return null;
    }

    /** A tensor argument: its name in the generated code, element type, role and shape (for binding sizes). */
    public record Buffer(String name, DType type, boolean output, List<Ix> shape) {
        public Buffer { shape = List.copyOf(shape); }
    }

    /**
     * A symbolic size and where it is read at run time: dimension {@code axis} of input buffer {@code buffer}, or,
     * when {@code fromValue}, element {@code axis} of that (int64 shape) input.
     */
    public record SizeParam(String name, int buffer, int axis, boolean fromValue) {
        public SizeParam(String name, int buffer, int axis) { this(name, buffer, axis, false); }
    }

    /** One loop nest. Its statements are usually one {@link Stmt.Loop} over the outermost output dimension. */
    public record Nest(List<Stmt> body) {
        public Nest { body = List.copyOf(body); }

        /** The outermost parallel loop, which the JVM runtime may split across threads; null when there is none. */
        public Stmt.Loop outerLoop() {
            Stmt.Loop found = null;
            for (Stmt s : body) {
                if (s instanceof Stmt.Loop l) {
                    if (found != null || l.kind() != Stmt.Kind.PARALLEL) return null;
                    found = l;
                } else if (!(s instanceof Stmt.Let)) {
                    return null;
                }
            }
            return found;
        }
    }

    public List<Buffer> inputs() { return buffers.stream().filter(b -> !b.output()).toList(); }

    public List<Buffer> outputs() { return buffers.stream().filter(Buffer::output).toList(); }

    /** The sizes' values for the given inputs (one per input buffer, in order). */
    public Map<String, Long> bindSizes(List<Tensor> inputs) {
        Map<String, Long> env = new HashMap<>();
        for (SizeParam s : sizes) {
            Tensor t = inputs.get(s.buffer());
            env.put(s.name(), s.fromValue() ? t.getLong(s.axis()) : t.shape()[s.axis()]);
        }
        return env;
    }

    /** The shape of a buffer once the sizes are bound. */
    public long[] shape(Buffer b, Map<String, Long> sizes) {
        long[] r = new long[b.shape().size()];
        for (int i = 0; i < r.length; i++) r[i] = Ix.eval(b.shape().get(i), sizes);
        return r;
    }

    /** Evaluates an index expression (an extent, say) once the sizes are bound. */
    public static long eval(Ix x, Map<String, Long> sizes) { return Ix.eval(x, sizes); }
}
