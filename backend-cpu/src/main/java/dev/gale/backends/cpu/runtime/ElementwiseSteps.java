package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.gale.backends.cpu.runtime.Vec.L;

/**
 * The elementwise float32 ops: unary math and activations ({@link UnaryMath}), binary arithmetic with broadcasting
 * ({@link BinaryMath}), comparisons and Where ({@link BooleanSteps}), and the Clip, Dropout and Cast cases that
 * need no loop of their own. Large tensors are split across the kernel pool. Every loop reads element i of a
 * same-shaped operand before writing element i of the output, so these steps are safe in place.
 */
final class ElementwiseSteps {
    /** Below this many elements an op runs on the calling thread. */
    static final long PARALLEL_MIN = 1 << 16;

    private ElementwiseSteps() {}

    static void registerAll() {
        unary("Neg", UnaryMath.NEG);
        unary("Abs", UnaryMath.ABS);
        unary("Relu", UnaryMath.RELU);
        unary("Exp", UnaryMath.EXP);
        unary("Log", UnaryMath.LOG);
        unary("Sqrt", UnaryMath.SQRT);
        unary("Reciprocal", UnaryMath.RECIPROCAL);
        unary("Sigmoid", UnaryMath.SIGMOID);
        unary("Tanh", UnaryMath.TANH);
        unary("Erf", UnaryMath.ERF);
        unary("Softplus", UnaryMath.SOFTPLUS);
        unary("Softsign", UnaryMath.SOFTSIGN);
        unary("HardSwish", UnaryMath.HARD_SWISH);
        unary("Sin", UnaryMath.SIN);
        unary("Cos", UnaryMath.COS);
        unary("Tan", UnaryMath.TAN);
        unary("Sinh", UnaryMath.SINH);
        unary("Cosh", UnaryMath.COSH);
        unary("Round", UnaryMath.ROUND);
        unaryWith("LeakyRelu", UnaryMath.LEAKY_RELU, "alpha", null);
        unaryWith("Elu", UnaryMath.ELU, "alpha", null);
        unaryWith("Selu", UnaryMath.SELU, "alpha", "gamma");
        unaryWith("HardSigmoid", UnaryMath.HARD_SIGMOID, "alpha", "beta");
        unaryWith("ThresholdedRelu", UnaryMath.THRESHOLDED_RELU, "alpha", null);
        unaryWith("Celu", UnaryMath.CELU, "alpha", null);
        NativeOps.register("Gelu", c -> switch (c.attrString("approximate")) {
            case "none" -> UnaryMath.unaryStep(c, UnaryMath.GELU, 0, 0);
            case "tanh" -> UnaryMath.unaryStep(c, UnaryMath.GELU_TANH, 0, 0);
            default -> null;
        });
        NativeOps.inPlace("Gelu");
        NativeOps.register("Clip", ElementwiseSteps::clip);
        NativeOps.inPlace("Clip");
        NativeOps.register("Dropout", ElementwiseSteps::dropout);
        NativeOps.register("Cast", ElementwiseSteps::cast);

        binary("Add", BinaryMath.ADD);
        binary("Sub", BinaryMath.SUB);
        binary("Mul", BinaryMath.MUL);
        binary("Div", BinaryMath.DIV);
        binary("Pow", BinaryMath.POW);
        binary("PRelu", BinaryMath.PRELU);
        binary("Max", BinaryMath.MAX);
        binary("Min", BinaryMath.MIN);
        binary("Sum", BinaryMath.ADD);
        BooleanSteps.registerAll();
    }

    private static void unary(String op, int opc) {
        NativeOps.register(op, c -> UnaryMath.unaryStep(c, opc, 0, 0));
        NativeOps.inPlace(op);
    }

    private static void unaryWith(String op, int opc, String a1, String a2) {
        NativeOps.register(op, c -> UnaryMath.unaryStep(c, opc, c.attrFloat(a1), a2 == null ? 0 : c.attrFloat(a2)));
        NativeOps.inPlace(op);
    }

    private static void binary(String op, int opc) {
        NativeOps.register(op, c -> c.numInputs() == 2 ? BinaryMath.zipStep(c, opc) : null);
        NativeOps.inPlace(op);
    }

    private static Step clip(EmitContext c) {
        float lo = Float.NEGATIVE_INFINITY, hi = Float.POSITIVE_INFINITY;
        for (int i = 1; i <= 2; i++) {
            if (!c.has(i)) continue;
            Tensor t = c.constant(i);
            if (t == null || t.dtype() != DType.FLOAT32 || t.numel() != 1) return null;
            if (i == 1) lo = t.floats()[0];
            else hi = t.floats()[0];
        }
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        return UnaryMath.unaryStep(c, UnaryMath.CLIP, lo, hi);
    }

    /** Dropout that drops nothing (inference, or a constant ratio of 0): a copy, and a mask of ones made once. */
    private static Step dropout(EmitContext c) {
        boolean training = false;
        if (c.has(2)) {
            Tensor t = c.constant(2);
            if (t == null || t.numel() != 1) return null;
            training = t.getBool(0);
        }
        if (training && c.has(1)) {
            Tensor r = c.constant(1);
            if (r == null || r.numel() != 1 || r.getDouble(0) != 0) return null;
        } else if (training) {
            return null;
        }
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena()) return null;
        if (c.out(1) != null) {
            if (c.out(1).inArena() || c.out(1).shape == null) return null;
            Tensor mask = c.ownedOutput(1);
            Arrays.fill((byte[]) mask.data(), (byte) 1);
        }
        return LayoutSteps.copy(c);
    }

    /** Cast to float32 from float32 (a copy) or from bool (0 / 1). */
    private static Step cast(EmitContext c) {
        if (c.out(0) == null || !c.out(0).inArena() || c.attrInt("to") != DType.FLOAT32.onnxCode()) return null;
        if (c.arenaIn(0)) return LayoutSteps.copy(c);
        Slot in = c.in(0);
        if (in == null || in.dtype != DType.BOOL || in.numel != c.out(0).numel) return null;
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        int box = in.box;
        long out = c.out(0).offset;
        return () -> {
            byte[] b = (byte[]) ((Tensor) boxes[box]).data();
            for (int i = 0; i < b.length; i++) Vec.set(m, out + i, b[i] != 0 ? 1f : 0f);
        };
    }

    // ---- splitting

    static int tasks(KernelPool pool, long elements) {
        if (elements < PARALLEL_MIN || pool.threads() == 1) return 1;
        return (int) Math.min(2L * pool.threads(), elements / (PARALLEL_MIN / 4));
    }

    /** Elements per task, a multiple of the vector length. */
    static long chunk(long n, int tasks) {
        long c = (n + tasks - 1) / tasks;
        return (c + L - 1) / L * L;
    }

    /** A piece of a split loop: elements or rows {@code [from, to)}. */
    interface Range {
        void run(long from, long to);
    }

    /**
     * A step over {@code rows} rows of {@code n} elements, split across the pool when large: one row in chunks of
     * elements ({@code elements}, chunks a multiple of the vector length), else whole rows among the pieces
     * ({@code rowRange}); on the calling thread when small.
     */
    static Step split(KernelPool pool, long rows, long n, Range elements, Range rowRange) {
        int tasks = tasks(pool, rows * n);
        if (rows == 1) {
            if (tasks == 1) return () -> elements.run(0, n);
            long chunk = chunk(n, tasks);
            KernelPool.Task t = (i, s) -> {
                long from = i * chunk, to = Math.min(n, from + chunk);
                if (from < to) elements.run(from, to);
            };
            return () -> pool.parallelFor(tasks, t);
        }
        int parts = (int) Math.min(tasks, rows);
        if (parts == 1) return () -> rowRange.run(0, rows);
        KernelPool.Task t = (i, s) -> rowRange.run(rows * i / parts, rows * (i + 1) / parts);
        return () -> pool.parallelFor(parts, t);
    }
}
