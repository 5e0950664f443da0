package dev.gale.codegen.kir;

import dev.gale.ir.DType;

/**
 * Scalar expressions of the kernel IR: the value of one element. Leaves are constants, loads from a buffer at an
 * index, references to temporaries ({@link Stmt.Let}) and accumulators ({@link Stmt.Acc}); inner nodes are a small
 * fixed set of operators, which every renderer maps to its language. An op of the op table that is not one of them
 * is written as a composition ({@code Sigmoid(x) = 1 / (1 + exp(-x))}) when it is lowered.
 *
 * <p>Element types: {@code f32}, {@code f64}, {@code i32}, {@code i64} and {@code bool}. Arithmetic keeps the type
 * of its operands (the lowering inserts casts); comparisons and logic give {@code bool}.
 */
public sealed interface Sx {
    DType type();

    enum UnOp {
        NEG, ABS, EXP, EXPM1, LOG, LOG1P, SQRT, TANH, ERF, SIN, COS, FLOOR, CEIL, RINT,
        /** Logical not of a bool. */
        NOT
    }

    enum BinOp {
        ADD, SUB, MUL, DIV, MAX, MIN, POW,
        LT, LE, GT, GE, EQ, NE,
        /** Logical, on bools. */
        AND, OR, XOR;

        public boolean isComparison() { return ordinal() >= LT.ordinal() && ordinal() <= NE.ordinal(); }

        public boolean givesBool() { return ordinal() >= LT.ordinal(); }
    }

    /** A literal; integral for integer types, 0 or 1 for bool. */
    record Const(DType type, double value) implements Sx {}

    /** Element {@code index} of buffer {@code buffer} (an index into {@link KernelIR#buffers()}). */
    record Load(int buffer, Ix index, DType type) implements Sx {}

    /** The value of temporary or accumulator {@code id}. */
    record Ref(int id, DType type) implements Sx {}

    /** An index expression used as a number (int64), e.g. the element count a mean divides by. */
    record Index(Ix index) implements Sx {
        public DType type() { return DType.INT64; }
    }

    record Unary(UnOp op, Sx x) implements Sx {
        public DType type() { return op == UnOp.NOT ? DType.BOOL : x.type(); }
    }

    record Binary(BinOp op, Sx a, Sx b) implements Sx {
        public Binary {
            if (a.type() != b.type()) throw new IllegalArgumentException(op + " of " + a.type() + " and " + b.type());
        }

        public DType type() { return op.givesBool() ? DType.BOOL : a.type(); }
    }

    /** {@code cond ? a : b}. */
    record Select(Sx cond, Sx a, Sx b) implements Sx {
        public Select {
            if (cond.type() != DType.BOOL || a.type() != b.type())
                throw new IllegalArgumentException("select(" + cond.type() + ", " + a.type() + ", " + b.type() + ")");
        }

        public DType type() { return a.type(); }
    }

    /** Element type conversion: floats to integers truncate toward zero; to bool tests {@code != 0}. */
    record Cast(Sx x, DType type) implements Sx {}

    // ---- constructors -------------------------------------------------------------------------------------------

    static Sx c(DType t, double v) { return new Const(t, v); }

    static Sx un(UnOp op, Sx x) { return new Unary(op, x); }

    static Sx bin(BinOp op, Sx a, Sx b) { return new Binary(op, a, b); }

    static Sx select(Sx cond, Sx a, Sx b) { return new Select(cond, a, b); }

    /** A conversion; constants are converted at once ({@code (double) 64L} is {@code 64.0}). */
    static Sx cast(Sx x, DType t) {
        if (x.type() == t) return x;
        if (x instanceof Const(DType from, double v) && !Double.isNaN(v) && !Double.isInfinite(v)) {
            if (t == DType.BOOL) return new Const(t, v != 0 ? 1 : 0);
            if (t == DType.FLOAT32) return new Const(t, (float) v);
            if (t == DType.FLOAT64) return new Const(t, v);
            if (t == DType.INT64 || t == DType.INT32 && Math.abs(v) < Integer.MAX_VALUE)
                return new Const(t, v < 0 ? Math.ceil(v) : Math.floor(v));
        }
        return new Cast(x, t);
    }

    static Sx add(Sx a, Sx b) { return bin(BinOp.ADD, a, b); }

    static Sx sub(Sx a, Sx b) { return bin(BinOp.SUB, a, b); }

    static Sx mul(Sx a, Sx b) { return bin(BinOp.MUL, a, b); }

    static Sx div(Sx a, Sx b) { return bin(BinOp.DIV, a, b); }
}
