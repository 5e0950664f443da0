package dev.gale.codegen.kir;

import java.util.List;
import java.util.Locale;

/**
 * The kernel IR as text, for golden tests and {@code --dump} output:
 * <pre>
 * kernel fused_add_relu(p0: f32[n,8], p1: f32[8]) -> (o0: f32[n,8]) sizes(n = p0[0])
 * nest 0
 *   parallel i0 < n
 *     parallel i1 < 8
 *       t0 = load p0[i0 * 8 + i1]
 *       ...
 * </pre>
 * Index expressions print in C syntax ({@link #ix}), which every renderer shares.
 */
public final class KernelPrinter {
    private KernelPrinter() {}

    public static String print(KernelIR k) {
        accumulators.remove();
        StringBuilder sb = new StringBuilder("kernel ").append(k.name()).append('(');
        sb.append(String.join(", ", k.inputs().stream().map(KernelPrinter::buffer).toList())).append(") -> (");
        sb.append(String.join(", ", k.outputs().stream().map(KernelPrinter::buffer).toList())).append(')');
        if (!k.sizes().isEmpty())
            sb.append(" sizes(").append(String.join(", ", k.sizes().stream().map(s -> s.name() + " = "
                    + (s.fromValue() ? "value " : "") + k.buffers().get(s.buffer()).name() + "[" + s.axis() + "]")
                    .toList())).append(')');
        for (KernelIR.Check c : k.checks()) sb.append("\ncheck ").append(ix(c.left())).append(" == ").append(ix(c.right()))
                .append("  // ").append(c.what());
        sb.append('\n');
        for (int n = 0; n < k.nests().size(); n++) {
            sb.append("nest ").append(n).append('\n');
            java.util.Set<Integer> accs = new java.util.HashSet<>();
            collectAccumulators(k.nests().get(n).body(), accs);
            accumulators.set(accs);
            body(sb, k, k.nests().get(n).body(), 1);
        }
        accumulators.remove();
        return sb.toString();
    }

    /** Ids of the nest being printed that are accumulators, so references print as {@code acc<id>}. */
    private static final ThreadLocal<java.util.Set<Integer>> accumulators = new ThreadLocal<>();

    private static void collectAccumulators(List<Stmt> body, java.util.Set<Integer> out) {
        for (Stmt s : body) {
            if (s instanceof Stmt.Acc a) out.add(a.id());
            if (s instanceof Stmt.Loop l) collectAccumulators(l.body(), out);
        }
    }

    private static String buffer(KernelIR.Buffer b) {
        return b.name() + ": " + b.type().textName() + "[" + String.join(",", b.shape().stream().map(KernelPrinter::ix).toList()) + "]";
    }

    private static void body(StringBuilder sb, KernelIR k, List<Stmt> stmts, int depth) {
        String pad = "  ".repeat(depth);
        for (Stmt s : stmts) {
            sb.append(pad);
            switch (s) {
                case Stmt.Loop l -> {
                    sb.append(l.kind().name().toLowerCase(Locale.ROOT)).append(' ').append(l.var().name()).append(" < ")
                            .append(ix(l.var().extent())).append('\n');
                    body(sb, k, l.body(), depth + 1);
                    continue;
                }
                case Stmt.Let t -> sb.append('t').append(t.id()).append(" = ").append(sx(k, t.value()));
                case Stmt.Acc a -> sb.append("acc").append(a.id()).append(": ").append(a.type().textName()).append(" = ")
                        .append(sx(k, a.init()));
                case Stmt.Assign a -> sb.append("acc").append(a.id()).append(" = ").append(sx(k, a.value()));
                case Stmt.Store st -> sb.append("store ").append(k.buffers().get(st.buffer()).name()).append('[')
                        .append(ix(st.index())).append("] = ").append(sx(k, st.value()));
            }
            sb.append('\n');
        }
    }

    /** A scalar expression in prefix form: {@code add(t0, 1.0:f32)}. */
    public static String sx(KernelIR k, Sx x) {
        return switch (x) {
            case Sx.Const c -> literal(c) + ":" + c.type().textName();
            case Sx.Load l -> "load " + (k == null ? "b" + l.buffer() : k.buffers().get(l.buffer()).name()) + "["
                    + ix(l.index()) + "]";
            case Sx.Ref r -> (accumulators.get() != null && accumulators.get().contains(r.id()) ? "acc" : "t") + r.id();
            case Sx.Index i -> "index(" + ix(i.index()) + ")";
            case Sx.Unary u -> u.op().name().toLowerCase(Locale.ROOT) + "(" + sx(k, u.x()) + ")";
            case Sx.Binary b -> b.op().name().toLowerCase(Locale.ROOT) + "(" + sx(k, b.a()) + ", " + sx(k, b.b()) + ")";
            case Sx.Select s -> "select(" + sx(k, s.cond()) + ", " + sx(k, s.a()) + ", " + sx(k, s.b()) + ")";
            case Sx.Cast c -> "cast<" + c.type().textName() + ">(" + sx(k, c.x()) + ")";
        };
    }

    private static String literal(Sx.Const c) {
        double v = c.value();
        if (c.type() == dev.gale.ir.DType.BOOL) return v != 0 ? "true" : "false";
        if (!c.type().isFloat()) return Long.toString((long) v);
        return c.type() == dev.gale.ir.DType.FLOAT32 ? Float.toString((float) v) : Double.toString(v);
    }

    // ---- index expressions in C syntax ----------------------------------------------------------------------------

    /** An index expression in C syntax, with only the parentheses it needs. */
    public static String ix(Ix x) { return ix(x, ""); }

    /** An index expression; {@code math} prefixes {@code min} and {@code max} ({@code "Math."} for Java). */
    public static String ix(Ix x, String math) {
        return switch (x) {
            case Ix.Lit l -> Long.toString(l.value());
            case Ix.Var v -> v.name();
            case Ix.Size s -> s.name();
            case Ix.Add a -> {
                StringBuilder sb = new StringBuilder();
                for (Ix t : a.terms()) {
                    String s = ix(t, math);
                    if (sb.isEmpty()) sb.append(s);
                    else if (s.startsWith("-")) sb.append(" - ").append(s.substring(1));
                    else sb.append(" + ").append(s);
                }
                yield sb.toString();
            }
            case Ix.Mul m -> {
                StringBuilder sb = new StringBuilder();
                // The literal factor goes last (i0 * 768), which reads like a stride.
                List<Ix> fs = new java.util.ArrayList<>(m.factors());
                if (fs.getFirst() instanceof Ix.Lit l && l.value() > 0) fs.add(fs.removeFirst());
                for (Ix f : fs) {
                    if (!sb.isEmpty()) sb.append(" * ");
                    sb.append(f instanceof Ix.Add || f instanceof Ix.Div || f instanceof Ix.Mod ? "(" + ix(f, math) + ")"
                            : ix(f, math));
                }
                yield sb.toString();
            }
            case Ix.Div d -> operand(d.a(), math) + " / " + atom(d.b(), math);
            case Ix.Mod d -> operand(d.a(), math) + " % " + atom(d.b(), math);
            case Ix.Min m -> math + "min(" + ix(m.a(), math) + ", " + ix(m.b(), math) + ")";
            case Ix.Max m -> math + "max(" + ix(m.a(), math) + ", " + ix(m.b(), math) + ")";
        };
    }

    /** Left operand of {@code /} or {@code %}: products and quotients associate left, sums need parentheses. */
    private static String operand(Ix x, String math) { return x instanceof Ix.Add ? "(" + ix(x, math) + ")" : ix(x, math); }

    private static String atom(Ix x, String math) {
        return x instanceof Ix.Lit || x instanceof Ix.Var || x instanceof Ix.Size || x instanceof Ix.Min
                || x instanceof Ix.Max ? ix(x, math) : "(" + ix(x, math) + ")";
    }
}
