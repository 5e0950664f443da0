package dev.gale.codegen.render;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.KernelPrinter;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.DType;

import java.util.List;

/**
 * The renderer base shared by every target whose syntax is C's: Java, OpenCL C and CUDA C. It writes statements
 * (loops, temporaries, accumulators, stores) and expressions with the parentheses precedence needs; a target supplies
 * its type names, literals, math functions and the kernel's outer form (after tinygrad's {@code CStyleLanguage}).
 *
 * <p>Names in generated code: temporaries {@code t<id>}, accumulators {@code acc<id>}, loop variables as in the IR,
 * buffers as in the IR with their element offset {@code <buffer>_off}. Indices are {@code int}.
 */
public abstract class CLikeRenderer {
    /** Expression text with the precedence of its outermost operator (higher binds tighter). */
    protected record Code(String text, int prec) {}

    protected static final int TERNARY = 1, OR = 2, AND = 3, EQUALITY = 4, RELATIONAL = 5, ADDITIVE = 6,
            MULTIPLICATIVE = 7, UNARY = 8, PRIMARY = 9;

    protected KernelIR kernel;
    private StringBuilder out;
    private int depth;

    /** The kernel's source text. */
    public final String render(KernelIR k) {
        kernel = k;
        out = new StringBuilder();
        depth = 0;
        emitKernel(k);
        return out.toString();
    }

    /** Writes the whole kernel: preamble, then the function(s) holding the nests. */
    protected abstract void emitKernel(KernelIR k);

    // ---- target hooks -------------------------------------------------------------------------------------------------

    /** The type of a local variable of element type {@code t}. */
    protected abstract String typeName(DType t);

    /** A call of unary math function {@code op} (not NEG or NOT) on an operand of type {@code t}. */
    protected abstract Code call(Sx.UnOp op, DType t, String x);

    /** A call of binary function {@code op} (MAX, MIN or POW) on operands of type {@code t}. */
    protected abstract Code call(Sx.BinOp op, DType t, String a, String b);

    /** Positive infinity (or NaN) of float type {@code t}. */
    protected abstract String infinity(DType t);

    protected abstract String nan(DType t);

    /** An integer literal of type {@code t}; the type's minimum must be written without overflowing the literal. */
    protected String intLiteral(DType t, long v) {
        String suffix = t == DType.INT64 ? "L" : "";
        if (t == DType.INT64 && v == Long.MIN_VALUE) return "(-9223372036854775807L - 1L)";
        if (t == DType.INT32 && v == Integer.MIN_VALUE) return "(-2147483647 - 1)";
        return v + suffix;
    }

    /** Element {@code index} of buffer {@code b} as a value of its element type. */
    protected String load(KernelIR.Buffer b, String index) { return b.name() + "[" + index + "]"; }

    /** The statement storing {@code value} at element {@code index} of buffer {@code b}. */
    protected String store(KernelIR.Buffer b, String index, String value) {
        return b.name() + "[" + index + "] = " + value + ";";
    }

    /** A conversion; C's casts already test bools against zero and turn them into 0 or 1. */
    protected Code cast(DType from, DType to, Code x) {
        return new Code("(" + typeName(to) + ") " + paren(x, UNARY), UNARY);
    }

    // ---- statements -------------------------------------------------------------------------------------------------

    protected void statements(List<Stmt> body) {
        for (Stmt s : body) statement(s);
    }

    protected void statement(Stmt s) {
        switch (s) {
            case Stmt.Loop l -> loop(l);
            case Stmt.Let t -> line(typeName(t.value().type()) + " t" + t.id() + " = " + expr(t.value()) + ";");
            case Stmt.Acc a -> line(typeName(a.type()) + " acc" + a.id() + " = " + expr(a.init()) + ";");
            case Stmt.Assign a -> line("acc" + a.id() + " = " + expr(a.value()) + ";");
            case Stmt.Store st -> {
                KernelIR.Buffer b = kernel.buffers().get(st.buffer());
                line(store(b, index(b, st.index()), expr(st.value())));
            }
        }
    }

    protected void loop(Stmt.Loop l) {
        String v = l.var().name();
        open("for (int " + v + " = 0; " + v + " < " + ix(l.var().extent()) + "; " + v + "++) {");
        statements(l.body());
        close("}");
    }

    protected final void line(String s) {
        out.append("    ".repeat(depth)).append(s).append('\n');
    }

    protected final void open(String s) {
        line(s);
        depth++;
    }

    protected final void close(String s) {
        depth--;
        line(s);
    }

    protected final void blank() { out.append('\n'); }

    protected final void raw(String s) { out.append(s); }

    // ---- expressions ------------------------------------------------------------------------------------------------

    protected final String ix(Ix x) { return KernelPrinter.ix(x, indexMath()); }

    /** What {@code min} and {@code max} of indices are called with: {@code ""} in C, {@code "Math."} in Java. */
    protected String indexMath() { return ""; }

    /** {@code <buffer>_off + index}: the element offset in the buffer's array. */
    protected final String index(KernelIR.Buffer b, Ix i) {
        String s = ix(i);
        return s.equals("0") ? b.name() + "_off" : b.name() + "_off + " + s;
    }

    protected final String expr(Sx x) { return code(x).text(); }

    protected static String paren(Code c, int min) { return c.prec() < min ? "(" + c.text() + ")" : c.text(); }

    protected Code code(Sx x) {
        return switch (x) {
            case Sx.Const c -> literal(c.type(), c.value());
            case Sx.Load l -> {
                KernelIR.Buffer b = kernel.buffers().get(l.buffer());
                yield new Code(load(b, index(b, l.index())), PRIMARY);
            }
            case Sx.Ref r -> new Code(name(r), PRIMARY);
            case Sx.Index i -> cast(DType.INT32, DType.INT64, new Code(ix(i.index()),
                    i.index() instanceof Ix.Var || i.index() instanceof Ix.Size ? PRIMARY : ADDITIVE));
            case Sx.Unary u -> switch (u.op()) {
                case NEG -> {
                    String s = paren(code(u.x()), UNARY);
                    yield new Code("-" + (s.startsWith("-") ? "(" + s + ")" : s), UNARY);
                }
                case NOT -> new Code("!" + paren(code(u.x()), UNARY), UNARY);
                default -> call(u.op(), u.x().type(), expr(u.x()));
            };
            case Sx.Binary b -> binary(b);
            case Sx.Select s -> new Code(paren(code(s.cond()), OR) + " ? " + expr(s.a()) + " : "
                    + paren(code(s.b()), TERNARY), TERNARY);
            case Sx.Cast c -> cast(c.x().type(), c.type(), code(c.x()));
        };
    }

    /** Temporaries are {@code t<id>}, accumulators {@code acc<id>}: the IR's ids are shared, so either is unique. */
    protected String name(Sx.Ref r) { return (accumulators.contains(r.id()) ? "acc" : "t") + r.id(); }

    private final java.util.Set<Integer> accumulators = new java.util.HashSet<>();

    /** Remembers which ids are accumulators; call before rendering a nest. */
    protected final void scan(List<Stmt> body) {
        accumulators.clear();
        collect(body);
    }

    private void collect(List<Stmt> body) {
        for (Stmt s : body) {
            if (s instanceof Stmt.Acc a) accumulators.add(a.id());
            if (s instanceof Stmt.Loop l) collect(l.body());
        }
    }

    private Code binary(Sx.Binary b) {
        String op;
        int prec;
        switch (b.op()) {
            case ADD -> { op = "+"; prec = ADDITIVE; }
            case SUB -> { op = "-"; prec = ADDITIVE; }
            case MUL -> { op = "*"; prec = MULTIPLICATIVE; }
            case DIV -> { op = "/"; prec = MULTIPLICATIVE; }
            case LT -> { op = "<"; prec = RELATIONAL; }
            case LE -> { op = "<="; prec = RELATIONAL; }
            case GT -> { op = ">"; prec = RELATIONAL; }
            case GE -> { op = ">="; prec = RELATIONAL; }
            case EQ -> { op = "=="; prec = EQUALITY; }
            case NE, XOR -> { op = "!="; prec = EQUALITY; }
            case AND -> { op = "&&"; prec = AND; }
            case OR -> { op = "||"; prec = OR; }
            default -> { return call(b.op(), b.a().type(), expr(b.a()), expr(b.b())); }
        }
        // Left-associative: the right operand needs a strictly tighter precedence.
        return new Code(paren(code(b.a()), prec) + " " + op + " " + paren(code(b.b()), prec + 1), prec);
    }

    protected Code literal(DType t, double v) {
        if (t == DType.BOOL) return new Code(v != 0 ? "true" : "false", PRIMARY);
        if (!t.isFloat()) {
            String s = intLiteral(t, (long) v);
            return new Code(s, s.startsWith("-") ? UNARY : PRIMARY);
        }
        String s;
        if (Double.isNaN(v)) s = nan(t);
        else if (Double.isInfinite(v)) s = (v < 0 ? "-" : "") + infinity(t);
        else s = t == DType.FLOAT32 ? Float.toString((float) v) + "f" : Double.toString(v);
        return new Code(s, s.startsWith("-") ? UNARY : PRIMARY);
    }
}
