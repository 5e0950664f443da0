package dev.gale.codegen.render;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * The part of the C-like renderers that GPU targets share: one kernel function per nest, one thread per element of
 * the nest's grid. The grid is the nest's leading perfectly nested parallel loops (temporaries between them, which
 * only read outer coordinates, move inside); the flat thread id is split into their coordinates. Whatever follows
 * (reduce loops, a parallel loop after a reduction, as in a softmax row) runs inside the thread.
 *
 * <p>Launch: {@link #gridSize} threads for each nest, in order, in any work-group/block shape; threads past the end
 * return at once (a nest without parallel loops has a grid of one thread).
 */
public abstract class GpuRenderer extends CLikeRenderer {
    /** What goes before the return type: {@code __kernel}, {@code extern "C" __global__}. */
    protected abstract String qualifiers();

    /** A buffer parameter, e.g. {@code __global const float* x}. */
    protected abstract String bufferParam(KernelIR.Buffer b);

    /** The flat id of the thread (a size_t or unsigned expression). */
    protected abstract String globalId();

    /** Text before the first kernel (pragmas, helper definitions); may be empty. */
    protected String preamble(KernelIR k) { return ""; }

    /**
     * Whether the kernel takes a float max or min of type {@code t}. C's fmax and fmin return the other operand when
     * one is NaN; the interpreter and the JVM kernels (Java's Math.max) return NaN, so the GPU renderers call helpers
     * that do too, defined in the preamble of a kernel that needs them.
     */
    protected static boolean usesMinMax(KernelIR k, DType t) {
        for (KernelIR.Nest n : k.nests()) if (usesMinMax(n.body(), t)) return true;
        return false;
    }

    private static boolean usesMinMax(List<Stmt> body, DType t) {
        for (Stmt s : body) {
            boolean found = switch (s) {
                case Stmt.Loop l -> usesMinMax(l.body(), t);
                case Stmt.Let l -> usesMinMax(l.value(), t);
                case Stmt.Acc a -> usesMinMax(a.init(), t);
                case Stmt.Assign a -> usesMinMax(a.value(), t);
                case Stmt.Store st -> usesMinMax(st.value(), t);
            };
            if (found) return true;
        }
        return false;
    }

    private static boolean usesMinMax(Sx x, DType t) {
        return switch (x) {
            case Sx.Binary b -> (b.op() == Sx.BinOp.MAX || b.op() == Sx.BinOp.MIN) && b.a().type() == t
                    || usesMinMax(b.a(), t) || usesMinMax(b.b(), t);
            case Sx.Unary u -> usesMinMax(u.x(), t);
            case Sx.Select sel -> usesMinMax(sel.cond(), t) || usesMinMax(sel.a(), t) || usesMinMax(sel.b(), t);
            case Sx.Cast c -> usesMinMax(c.x(), t);
            default -> false;
        };
    }

    /**
     * The NaN-keeping max and min helpers for type {@code t} ({@code gale_fmaxf}, {@code gale_fminf} for float,
     * {@code gale_fmax}, {@code gale_fmin} for double), guarded so that several kernels can share one source.
     */
    protected static String minMaxHelpers(String qualifiers, DType t) {
        String ty = t == DType.FLOAT64 ? "double" : "float", suffix = t == DType.FLOAT64 ? "" : "f";
        String guard = "GALE_MINMAX_" + ty.toUpperCase(java.util.Locale.ROOT);
        StringBuilder sb = new StringBuilder("#ifndef " + guard + "\n#define " + guard + "\n");
        for (String f : new String[] {"max", "min"})
            sb.append(qualifiers).append(' ').append(ty).append(" gale_f").append(f).append(suffix).append('(')
                    .append(ty).append(" a, ").append(ty).append(" b) { return a != a || b != b ? a + b : f")
                    .append(f).append(suffix).append("(a, b); }\n");
        return sb.append("#endif\n").toString();
    }

    /** A nest split into its grid loops (outermost first) and what each thread runs. */
    public record Grid(List<Ix.Var> vars, List<Stmt> body) {}

    /** The grid of a nest: the leading chain of parallel loops, with the temporaries between them moved inside. */
    public static Grid grid(KernelIR.Nest nest) {
        List<Ix.Var> vars = new ArrayList<>();
        List<Stmt> hoisted = new ArrayList<>();
        List<Stmt> level = nest.body();
        while (true) {
            Stmt.Loop only = null;
            boolean chain = true;
            for (Stmt s : level) {
                if (s instanceof Stmt.Loop l && l.kind() == Stmt.Kind.PARALLEL && only == null) only = l;
                else if (!(s instanceof Stmt.Let) || only != null) chain = false;
            }
            if (only == null || !chain) break;
            vars.add(only.var());
            for (Stmt s : level) if (s != only) hoisted.add(s);
            level = only.body();
        }
        hoisted.addAll(level);
        return new Grid(vars, hoisted);
    }

    /** Threads to launch for a nest: the product of its grid extents. */
    public static Ix gridSize(KernelIR.Nest nest) {
        Ix n = Ix.ONE;
        for (Ix.Var v : grid(nest).vars()) n = Ix.mul(n, v.extent());
        return n;
    }

    /** The kernel function of nest {@code k}: the kernel's name, suffixed with the nest number if there are several. */
    public static String functionName(KernelIR kernel, int k) {
        return kernel.nests().size() == 1 ? kernel.name() : kernel.name() + "_" + k;
    }

    @Override
    protected void emitKernel(KernelIR k) {
        String pre = preamble(k);
        raw(pre);
        for (int n = 0; n < k.nests().size(); n++) {
            if (n > 0 || !pre.isEmpty()) blank();
            function(k, n);
        }
    }

    private void function(KernelIR k, int n) {
        KernelIR.Nest nest = k.nests().get(n);
        scan(nest.body());
        List<String> params = new ArrayList<>();
        for (KernelIR.Buffer b : k.buffers()) {
            params.add(bufferParam(b));
            params.add("int " + b.name() + "_off");
        }
        for (KernelIR.SizeParam s : k.sizes()) params.add("int " + s.name());
        open(qualifiers() + " void " + functionName(k, n) + "(" + String.join(", ", params) + ") {");
        Grid g = grid(nest);
        Ix total = gridSize(nest);
        line("int gid = " + globalId() + ";");
        line("if (gid >= " + ix(total) + ") return;"); // a nest without a grid runs on thread 0 alone
        if (!g.vars().isEmpty()) {
            Ix.Var gid = new Ix.Var("gid", total);
            Ix stride = Ix.ONE;
            String[] coords = new String[g.vars().size()];
            for (int i = g.vars().size() - 1; i >= 0; i--) {
                Ix.Var v = g.vars().get(i);
                Ix c = Ix.div(gid, stride);
                if (i > 0) c = Ix.mod(c, v.extent());
                coords[i] = "int " + v.name() + " = " + ix(c) + ";";
                stride = Ix.mul(stride, v.extent());
            }
            for (String c : coords) line(c);
        }
        statements(g.body());
        close("}");
    }
}
