package dev.gale.codegen.render;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.DType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Java source for HotSpot: one class per kernel with a static method per nest and a dispatching entry point
 * <pre>
 *   static void run(int nest, Object[] buffers, int[] offsets, int[] sizes, int lo, int hi)
 * </pre>
 * that runs iterations {@code [lo, hi)} of the nest's outermost loop (so callers can split it across threads).
 * Buffers are Java arrays ({@code float[]}, {@code double[]}, {@code int[]}, {@code long[]}, {@code byte[]} for
 * bool), as the interpreter's tensors hold them.
 *
 * <p>A parallel innermost loop whose body is elementwise float32 work over the loop's contiguous dimension (every
 * load and store has stride 1 along it or does not move with it) is vectorized with {@code jdk.incubator.vector}:
 * a {@code FloatVector} loop of the preferred species, then a scalar tail. Other loops stay scalar code that C2
 * compiles (and may auto-vectorize) itself. The class depends on nothing but the JDK, so it compiles without a
 * class path and can be defined as a hidden class.
 *
 * <p>{@link Storage#SEGMENTS}: every buffer is a {@code java.lang.foreign.MemorySegment} instead (an off-heap arena
 * holding many tensors, or a heap segment over an array) with a {@code long} element offset, and the entry point is
 * {@code run(int nest, Object[] buffers, long[] offsets, int[] sizes, int lo, int hi)}. Elements are read and written
 * in native byte order, floats with {@code JAVA_FLOAT}, bools as bytes; vector loops use
 * {@code FloatVector.fromMemorySegment}. This is how a runtime with one arena runs kernels without staging copies.
 */
public final class JavaRenderer extends CLikeRenderer {
    /** The package generated classes declare (the one the JVM runtime defines them in). */
    public static final String PACKAGE = "dev.gale.codegen.jvm";

    private static final Set<Sx.UnOp> VECTOR_UNARY = Set.of(Sx.UnOp.NEG, Sx.UnOp.ABS, Sx.UnOp.SQRT, Sx.UnOp.EXP,
            Sx.UnOp.EXPM1, Sx.UnOp.LOG, Sx.UnOp.LOG1P, Sx.UnOp.TANH, Sx.UnOp.SIN, Sx.UnOp.COS, Sx.UnOp.ERF,
            Sx.UnOp.NOT);

    private final Set<Stmt.Loop> vectorLoops = new HashSet<>();
    private final java.util.Map<Stmt.Loop, Fold> vectorFolds = new java.util.HashMap<>();
    /** Parallel loops run in vectors along their variable around the reduce loops they hold ({@link #outerVectorLoop}). */
    private final Set<Stmt.Loop> outerVectorLoops = new HashSet<>();
    /** While checking or rendering such a loop: its float64 sums (two double vectors each) and float32 folds. */
    private final Set<Integer> pairAccs = new HashSet<>(), laneAccs = new HashSet<>();
    private boolean pairs;
    private int laneTemps;
    private Stmt.Loop outer;
    private boolean erf32, erf64;
    /** Vector functions written inline so far in this kernel (their temporaries are named after the count). */
    private int inlines;
    // While rendering a vector loop: its variable and the temporaries that hold vectors (or masks).
    private Ix.Var lane;
    private final Set<Integer> vectorTemps = new HashSet<>();

    /** What the generated code takes its buffers as. */
    public enum Storage {
        /** Java arrays ({@code float[]}, ...) with {@code int} element offsets. */
        ARRAYS,
        /** {@code MemorySegment}s with {@code long} element offsets. */
        SEGMENTS
    }

    private final boolean vectorize;
    private final boolean segments;
    private String cls;

    /** A renderer that uses the Vector API where it can. */
    public JavaRenderer() { this(true); }

    /** {@code vectorize = false}: plain scalar Java (for a JVM without {@code jdk.incubator.vector}). */
    public JavaRenderer(boolean vectorize) { this(vectorize, Storage.ARRAYS); }

    public JavaRenderer(boolean vectorize, Storage storage) {
        this.vectorize = vectorize;
        this.segments = storage == Storage.SEGMENTS;
    }

    public Storage storage() { return segments ? Storage.SEGMENTS : Storage.ARRAYS; }

    /** The class name the source declares unless {@link #render(KernelIR, String)} names another. */
    public static String className(KernelIR k) { return "Kernel_" + k.name(); }

    /** The source of {@code k} declaring class {@code className}. */
    public String render(KernelIR k, String className) {
        cls = className;
        try {
            return render(k);
        } finally {
            cls = null;
        }
    }

    /** Whether the kernel has a loop this renderer writes with the Vector API. */
    public static boolean vectorized(KernelIR k) {
        JavaRenderer r = analyzed(k);
        return !r.vectorLoops.isEmpty() || !r.vectorFolds.isEmpty() || !r.outerVectorLoops.isEmpty();
    }

    /** Whether the kernel has a parallel loop this renderer runs in vectors around reduce loops. */
    public static boolean outerVectorized(KernelIR k) { return !analyzed(k).outerVectorLoops.isEmpty(); }

    private static JavaRenderer analyzed(KernelIR k) {
        JavaRenderer r = new JavaRenderer();
        r.kernel = k;
        for (KernelIR.Nest n : k.nests()) r.findVectorLoops(n.body());
        return r;
    }

    @Override
    protected void emitKernel(KernelIR k) {
        vectorLoops.clear();
        vectorFolds.clear();
        outerVectorLoops.clear();
        pairs = false;
        laneTemps = 0;
        erf32 = erf64 = false;
        inlines = 0;
        for (KernelIR.Nest n : k.nests()) {
            findVectorLoops(n.body());
            findErf(n.body());
        }
        raw("package " + PACKAGE + ";\n\n");
        boolean vec = !vectorLoops.isEmpty() || !vectorFolds.isEmpty() || !outerVectorLoops.isEmpty();
        boolean widen = pairs || vectorFolds.values().stream().anyMatch(Fold::widen);
        if (segments)
            raw("import java.lang.foreign.MemorySegment;\nimport java.lang.foreign.ValueLayout;\n"
                    + (vec ? "import java.nio.ByteOrder;\n" : "") + "\n");
        if (vec)
            raw((widen ? "import jdk.incubator.vector.DoubleVector;\n" : "")
                    + "import jdk.incubator.vector.FloatVector;\nimport jdk.incubator.vector.VectorMask;\n"
                    + "import jdk.incubator.vector.VectorOperators;\nimport jdk.incubator.vector.VectorSpecies;\n\n");
        // With a class name given (JvmCompiler's), the source leaves out the kernel's name, its only mention: kernels
        // that render alike then share one class, which the JIT compiles once.
        raw(cls != null ? "/** A kernel generated by Gale; kernels whose code is the same share this class. */\n"
                : "/** Kernel " + k.name() + ", generated by Gale. */\n");
        open("final class " + (cls != null ? cls : className(k)) + " {");
        if (vec) {
            line("private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;");
            if (widen) line("private static final VectorSpecies<Double> D = F.withLanes(double.class);");
            if (pairs) line("private static final VectorMask<Float> HIGH = VectorMask.fromLong(F, ((1L << F.length()) - 1) & (-1L << (F.length() / 2)));");
            if (segments) line("private static final ByteOrder NATIVE = ByteOrder.nativeOrder();");
            blank();
        }
        open("static void run(int nest, Object[] b, " + (segments ? "long" : "int") + "[] o, int[] s, int lo, int hi) {");
        open("switch (nest) {");
        for (int n = 0; n < k.nests().size(); n++) {
            List<String> args = new ArrayList<>();
            for (int i = 0; i < k.buffers().size(); i++) {
                args.add("(" + bufferType(k.buffers().get(i).type()) + ") b[" + i + "]");
                args.add("o[" + i + "]");
            }
            for (int i = 0; i < k.sizes().size(); i++) args.add("s[" + i + "]");
            args.add("lo");
            args.add("hi");
            line("case " + n + " -> nest" + n + "(" + String.join(", ", args) + ");");
        }
        line("default -> throw new IllegalArgumentException(\"no nest \" + nest);");
        close("}");
        close("}");
        for (int n = 0; n < k.nests().size(); n++) nest(k, n);
        if (erf32) raw(indent(ERF_FLOAT));
        if (erf64) raw(indent(ERF_DOUBLE));
        close("}");
    }

    private void nest(KernelIR k, int n) {
        KernelIR.Nest nest = k.nests().get(n);
        scan(nest.body());
        blank();
        List<String> params = new ArrayList<>();
        for (KernelIR.Buffer b : k.buffers()) {
            params.add(bufferType(b.type()) + " " + b.name());
            params.add((segments ? "long " : "int ") + b.name() + "_off");
        }
        for (KernelIR.SizeParam s : k.sizes()) params.add("int " + s.name());
        params.add("int lo");
        params.add("int hi");
        open("private static void nest" + n + "(" + String.join(", ", params) + ") {");
        outer = nest.outerLoop();
        if (outer == null) line("if (lo >= hi) return;");
        statements(nest.body());
        close("}");
    }

    @Override
    protected void loop(Stmt.Loop l) {
        String v = l.var().name();
        String start = l == outer ? "lo" : "0", end = l == outer ? "hi" : ix(l.var().extent());
        if (vectorLoops.contains(l)) {
            vectorLoop(l, start, end);
            return;
        }
        if (vectorFolds.containsKey(l)) {
            vectorFold(l, vectorFolds.get(l), start, end);
            return;
        }
        if (outerVectorLoops.contains(l)) {
            outerVectorLoop(l, start, end);
            return;
        }
        open("for (int " + v + " = " + start + "; " + v + " < " + end + "; " + v + "++) {");
        statements(l.body());
        close("}");
    }

    // ---- vector loops -------------------------------------------------------------------------------------------------

    private void vectorLoop(Stmt.Loop l, String start, String end) {
        String v = l.var().name();
        line("int " + v + " = " + start + ";");
        String bound = start.equals("0") ? "F.loopBound(" + end + ")" : start + " + F.loopBound(" + end + " - " + start + ")";
        open("for (int " + v + "Vec = " + bound + "; " + v + " < " + v + "Vec; " + v + " += F.length()) {");
        lane = l.var();
        vectorTemps.clear();
        for (Stmt s : l.body()) {
            switch (s) {
                case Stmt.Let t -> vectorLet(t);
                case Stmt.Store st -> {
                    KernelIR.Buffer b = kernel.buffers().get(st.buffer());
                    line(asVector(st.value()) + (segments
                            ? ".intoMemorySegment(" + b.name() + ", " + byteOffset(b, st.index()) + ", NATIVE);"
                            : ".intoArray(" + b.name() + ", " + index(b, st.index()) + ");"));
                }
                default -> throw new IllegalStateException("not a vector loop");
            }
        }
        lane = null;
        close("}");
        open("for (; " + v + " < " + end + "; " + v + "++) {");
        statements(l.body());
        close("}");
    }

    private void vectorLet(Stmt.Let t) {
        V x = vector(t.value());
        if (x.vector()) vectorTemps.add(t.id());
        String type = !x.vector() ? typeName(t.value().type())
                : t.value().type() == DType.BOOL ? "VectorMask<Float>" : "FloatVector";
        line(type + " " + name(new Sx.Ref(t.id(), t.value().type())) + " = " + x.text() + ";");
    }

    /**
     * A reduce loop folding float32 elements into an accumulator: {@code acc = acc + (double) e} (partial sums in
     * double lanes, the elements widened half a vector at a time; or a float64 element computed from widened lanes,
     * {@link #widenable}), or {@code acc = max(acc, e)} / {@code min} in
     * float lanes; the lanes are combined after the loop and a scalar tail finishes. Sums change order only, in
     * float64.
     */
    private record Fold(Stmt.Assign assign, Sx.BinOp op, Sx element, boolean widen) {}

    private void vectorFold(Stmt.Loop l, Fold f, String start, String end) {
        String v = l.var().name(), acc = "acc" + f.assign().id();
        line("int " + v + " = " + start + ";");
        if (f.widen()) line("DoubleVector " + v + "Lo = DoubleVector.zero(D), " + v + "Hi = DoubleVector.zero(D);");
        else line("FloatVector " + v + "Acc = FloatVector.broadcast(F, " + acc + ");");
        String bound = start.equals("0") ? "F.loopBound(" + end + ")" : start + " + F.loopBound(" + end + " - " + start + ")";
        open("for (int " + v + "Vec = " + bound + "; " + v + " < " + v + "Vec; " + v + " += F.length()) {");
        lane = l.var();
        vectorTemps.clear();
        for (Stmt s : l.body()) if (s instanceof Stmt.Let t) vectorLet(t);
        if (f.widen()) {
            // a float32 element is widened half a vector at a time; a float64 one is computed in double halves
            boolean wide = f.element().type() == DType.FLOAT64;
            String e = wide ? null : asVector(f.element());
            for (int h = 0; h < 2; h++) {
                String half = v + (h == 0 ? "Lo" : "Hi");
                line(half + " = " + half + ".add(" + (wide ? widenedHalf(f.element(), h)
                        : e + ".convertShape(VectorOperators.F2D, D, " + h + ")") + ");");
            }
        } else {
            line(v + "Acc = " + v + "Acc." + f.op().name().toLowerCase(Locale.ROOT) + "(" + asVector(f.element()) + ");");
        }
        lane = null;
        close("}");
        if (f.widen()) line(acc + " = " + acc + " + " + v + "Lo.add(" + v + "Hi).reduceLanes(VectorOperators.ADD);");
        else line(acc + " = " + v + "Acc.reduceLanes(VectorOperators." + f.op() + ");");
        open("for (; " + v + " < " + end + "; " + v + "++) {");
        statements(l.body());
        close("}");
    }

    /**
     * A parallel loop whose body reduces over other axes, run in vectors along its own variable: each lane is one
     * output element with its own accumulators, and the reduce loops inside step all lanes at once. A bias gradient,
     * the sum of [rows, n] over its rows, so reads its rows in order, {@link #GROUPS} vectors of each at a time (one
     * vector at a time jumps a row's length per load, which the prefetchers do not follow: three times slower). Float64
     * sums are held as two double vectors (the low and high halves of the lanes), so each lane adds in the order and
     * precision of the scalar loop. Then single vectors, then the scalar tail.
     */
    private void outerVectorLoop(Stmt.Loop l, String start, String end) {
        String v = l.var().name();
        groupIds.clear();
        collectIds(l.body());
        line("int " + v + " = " + start + ";");
        for (int g : new int[] {GROUPS, 1}) {
            String step = g == 1 ? "F.length()" : g + " * F.length()";
            open("for (int " + v + "Vec = " + start + " + (" + end + " - " + start + ") / (" + step + ") * (" + step
                    + "); " + v + " < " + v + "Vec; " + v + " += " + step + ") {");
            for (int k = 1; k < g; k++) line("int " + v + "_" + k + " = " + k + " * F.length();");
            lane = l.var();
            groups = g;
            vectorTemps.clear();
            pairAccs.clear();
            laneAccs.clear();
            laneBody(l.body());
            lane = null;
            groups = 1;
            group = 0;
            close("}");
        }
        open("for (; " + v + " < " + end + "; " + v + "++) {");
        statements(l.body());
        close("}");
    }

    /** Vectors of lanes an outer vector loop steps at once before its single-vector loop. */
    private static final int GROUPS = 4;
    /** While rendering an outer vector loop: how many lane groups, and the one being written (0: the first). */
    private int groups = 1, group;

    /** The body of an outer vector loop, each statement once per lane group; the reduce loops are shared. */
    private void laneBody(List<Stmt> body) {
        for (Stmt s : body) {
            if (s instanceof Stmt.Loop r) {
                String w = r.var().name();
                open("for (int " + w + " = 0; " + w + " < " + ix(r.var().extent()) + "; " + w + "++) {");
                laneBody(r.body());
                close("}");
                continue;
            }
            for (group = 0; group < groups; group++) laneStatement(s);
            group = 0;
        }
    }

    private void laneStatement(Stmt s) {
        switch (s) {
            case Stmt.Let t -> vectorLet(t);
            case Stmt.Acc a when a.type() == DType.FLOAT64 -> {
                pairAccs.add(a.id());
                String acc = name(new Sx.Ref(a.id(), a.type()));
                line("DoubleVector " + acc + "Lo = DoubleVector.broadcast(D, " + expr(a.init()) + "), " + acc + "Hi = "
                        + acc + "Lo;");
            }
            case Stmt.Acc a -> {
                laneAccs.add(a.id());
                vectorTemps.add(a.id());
                line("FloatVector " + name(new Sx.Ref(a.id(), a.type())) + " = FloatVector.broadcast(F, "
                        + expr(a.init()) + ");");
            }
            case Stmt.Assign a when pairAccs.contains(a.id()) -> {
                Sx.Cast widened = (Sx.Cast) ((Sx.Binary) a.value()).b();
                String e = "e" + laneTemps++, acc = name(new Sx.Ref(a.id(), DType.FLOAT64));
                line("FloatVector " + e + " = " + asVector(widened.x()) + ";");
                line(acc + "Lo = " + acc + "Lo.add(" + e + ".convertShape(VectorOperators.F2D, D, 0));");
                line(acc + "Hi = " + acc + "Hi.add(" + e + ".convertShape(VectorOperators.F2D, D, 1));");
            }
            case Stmt.Assign a -> {
                Sx.Binary b = (Sx.Binary) a.value();
                String acc = name(new Sx.Ref(a.id(), b.type()));
                line(acc + " = " + acc + "." + b.op().name().toLowerCase(Locale.ROOT) + "(" + asVector(b.b()) + ");");
            }
            case Stmt.Store st -> {
                KernelIR.Buffer b = kernel.buffers().get(st.buffer());
                Ix at = laneIndex(st.index());
                line(asVector(st.value()) + (segments ? ".intoMemorySegment(" + b.name() + ", " + byteOffset(b, at)
                        + ", NATIVE);" : ".intoArray(" + b.name() + ", " + index(b, at) + ");"));
            }
            case Stmt.Loop r -> throw new IllegalStateException("loops are laneBody's");
        }
    }

    /** Index {@code i} (unit stride along the lane) for the current lane group: shifted by its vectors. */
    private Ix laneIndex(Ix i) { return group == 0 ? i : Ix.add(i, new Ix.Size(lane.name() + "_" + group)); }

    /** Temporaries and accumulators of lane group k > 0 are suffixed {@code _k}. */
    @Override
    protected String name(Sx.Ref r) {
        return group == 0 || !groupIds.contains(r.id()) ? super.name(r) : super.name(r) + "_" + group;
    }

    /** The temporaries and accumulators an outer vector loop's body defines (each lane group has its own). */
    private final Set<Integer> groupIds = new HashSet<>();

    private void collectIds(List<Stmt> body) {
        for (Stmt s : body) {
            switch (s) {
                case Stmt.Let t -> groupIds.add(t.id());
                case Stmt.Acc a -> groupIds.add(a.id());
                case Stmt.Loop r -> collectIds(r.body());
                default -> { }
            }
        }
    }

    /** One half (0 low, 1 high) of a float64 value of the lanes, as a double vector. */
    private String pairHalf(Sx x, int half) {
        return switch (x) {
            case Sx.Ref r when pairAccs.contains(r.id()) -> name(r) + (half == 0 ? "Lo" : "Hi");
            case Sx.Binary b -> pairHalf(b.a(), half) + "." + b.op().name().toLowerCase(Locale.ROOT) + "("
                    + pairHalf(b.b(), half) + ")";
            default -> "DoubleVector.broadcast(D, " + expr(x) + ")";
        };
    }

    /** Vector expression text, or scalar text when nothing in it moves with the lane. */
    private record V(String text, boolean vector) {}

    private V vector(Sx x) {
        return switch (x) {
            case Sx.Load l when Ix.strideAlong(l.index(), lane) instanceof Ix.Lit(long s) && s == 1 -> {
                KernelIR.Buffer b = kernel.buffers().get(l.buffer());
                Ix at = laneIndex(l.index());
                yield new V(segments
                        ? "FloatVector.fromMemorySegment(F, " + b.name() + ", " + byteOffset(b, at) + ", NATIVE)"
                        : "FloatVector.fromArray(F, " + b.name() + ", " + index(b, at) + ")", true);
            }
            case Sx.Ref r when vectorTemps.contains(r.id()) -> new V(name(r), true);
            case Sx.Cast c when c.type() == DType.FLOAT32 && usesPair(c.x()) -> new V("((FloatVector) "
                    + pairHalf(c.x(), 0) + ".convertShape(VectorOperators.D2F, F, 0)).blend((FloatVector) "
                    + pairHalf(c.x(), 1) + ".convertShape(VectorOperators.D2F, F, -1), HIGH)", true);
            case Sx.Unary u when vector(u.x()).vector() -> {
                String a = vector(u.x()).text();
                yield new V(switch (u.op()) {
                    case NEG -> a + ".neg()";
                    case ABS -> a + ".abs()";
                    case SQRT -> a + ".sqrt()";
                    case NOT -> a + ".not()";
                    case ERF -> inline(ERF_VECTOR, a);
                    case TANH -> inline(TANH_VECTOR, a);
                    case EXP -> inline(EXP_VECTOR, a);
                    default -> a + ".lanewise(VectorOperators." + u.op().name() + ")";
                }, true);
            }
            case Sx.Binary b when geluArgument(b) instanceof Sx v && vector(v).vector() ->
                    new V(inline(GELU_VECTOR, vector(v).text()), true);
            case Sx.Binary b when vector(b.a()).vector() || vector(b.b()).vector() -> binary(b);
            case Sx.Select s when vector(s.cond()).vector() || vector(s.a()).vector() || vector(s.b()).vector() -> {
                String m = mask(s.cond());
                V a = vector(s.a()), c = vector(s.b());
                if (c.vector()) yield new V(c.text() + ".blend(" + a.text() + ", " + m + ")", true);
                // The scalar other side broadcast (a loop invariant) rather than a.blend(c, m.not()): the mask's
                // negation is one instruction more per vector (Relu's x > 0 ? x : 0 in a tanh chain, about 3%).
                yield new V("FloatVector.broadcast(F, " + c.text() + ").blend(" + a.text() + ", " + m + ")", true);
            }
            default -> new V(expr(x), false);
        };
    }

    /**
     * {@code v} when {@code b} is the erf form of Gelu on float32 lanes as {@code ScalarOps} writes it,
     * {@code (v * 0.5) * (erf(v * sqrt(1/2)) + 1)} with each product and sum in either order, else null: it is
     * rendered as {@link #GELU_VECTOR}, three vector instructions fewer than the formula (the halving and the scaling
     * by sqrt(1/2) go into the fit's coefficients, and the sign symmetry turns the clamp into one compare and blend).
     */
    private static Sx geluArgument(Sx.Binary b) {
        if (b.op() != Sx.BinOp.MUL || b.type() != DType.FLOAT32) return null;
        for (int side = 0; side < 2; side++) {
            Sx half = side == 0 ? b.a() : b.b(), gate = side == 0 ? b.b() : b.a();
            Sx v = factorOf(half, 0.5);
            if (v == null || !(gate instanceof Sx.Binary(Sx.BinOp op, Sx g0, Sx g1)) || op != Sx.BinOp.ADD) continue;
            Sx erf = isConst(g1, 1) ? g0 : isConst(g0, 1) ? g1 : null;
            if (erf instanceof Sx.Unary(Sx.UnOp u, Sx z) && u == Sx.UnOp.ERF && v.equals(factorOf(z, Math.sqrt(0.5))))
                return v;
        }
        return null;
    }

    /** {@code v} when {@code x} is {@code v * c} or {@code c * v} with c the float32 value of {@code c}, else null. */
    private static Sx factorOf(Sx x, double c) {
        if (!(x instanceof Sx.Binary(Sx.BinOp op, Sx a, Sx b)) || op != Sx.BinOp.MUL) return null;
        return isConst(b, c) ? a : isConst(a, c) ? b : null;
    }

    private static boolean isConst(Sx x, double c) {
        return x instanceof Sx.Const(DType t, double v) && t == DType.FLOAT32 && (float) v == (float) c;
    }

    private V binary(Sx.Binary b) {
        V a = vector(b.a()), c = vector(b.b());
        if (b.a().type() == DType.BOOL) {
            String m = mask(b.a()), n = mask(b.b());
            return new V(switch (b.op()) {
                case AND -> m + ".and(" + n + ")";
                case OR -> m + ".or(" + n + ")";
                case XOR, NE -> m + ".xor(" + n + ")";
                case EQ -> m + ".eq(" + n + ")";
                default -> throw new IllegalStateException(b.op() + " on masks");
            }, true);
        }
        if (b.op().isComparison()) {
            if (a.vector()) return new V(a.text() + ".compare(VectorOperators." + b.op() + ", " + c.text() + ")", true);
            return new V(c.text() + ".compare(VectorOperators." + flip(b.op()) + ", " + a.text() + ")", true);
        }
        String m = b.op().name().toLowerCase(Locale.ROOT);
        boolean commutes = b.op() == Sx.BinOp.ADD || b.op() == Sx.BinOp.MUL || b.op() == Sx.BinOp.MAX
                || b.op() == Sx.BinOp.MIN;
        if (a.vector()) return new V(a.text() + "." + m + "(" + c.text() + ")", true);
        if (commutes) return new V(c.text() + "." + m + "(" + a.text() + ")", true);
        return new V("FloatVector.broadcast(F, " + a.text() + ")." + m + "(" + c.text() + ")", true);
    }

    private String mask(Sx cond) {
        V m = vector(cond);
        return m.vector() ? m.text() : "F.maskAll(" + m.text() + ")";
    }

    private String asVector(Sx x) {
        V v = vector(x);
        return v.vector() ? v.text() : "FloatVector.broadcast(F, " + v.text() + ")";
    }

    private static Sx.BinOp flip(Sx.BinOp op) {
        return switch (op) {
            case LT -> Sx.BinOp.GT;
            case LE -> Sx.BinOp.GE;
            case GT -> Sx.BinOp.LT;
            case GE -> Sx.BinOp.LE;
            default -> op;
        };
    }

    /** Marks every loop the Vector API can run: parallel, innermost, float32 elementwise with unit-stride access. */
    private void findVectorLoops(List<Stmt> body) {
        if (!vectorize) return;
        for (Stmt s : body) {
            if (!(s instanceof Stmt.Loop l)) continue;
            findVectorLoops(l.body());
            if (l.kind() == Stmt.Kind.REDUCE) {
                Fold f = vectorFold(l);
                if (f != null) vectorFolds.put(l, f);
                continue;
            }
            pairAccs.clear();
            laneAccs.clear();
            boolean ok = true;
            for (Stmt t : l.body()) {
                ok &= switch (t) {
                    case Stmt.Let x -> vectorizable(x.value(), l.var());
                    case Stmt.Store x -> kernel.buffers().get(x.buffer()).type() == DType.FLOAT32
                            && Ix.ONE.equals(Ix.strideAlong(x.index(), l.var())) && vectorizable(x.value(), l.var());
                    default -> false;
                };
            }
            if (ok) vectorLoops.add(l);
            else if (outerVectorizable(l)) outerVectorLoops.add(l);
        }
    }

    /**
     * A parallel loop of lets, float32 stores with unit stride along its variable, float accumulators and reduce
     * loops (lets and folds: float64 sums of float32 elements, float32 max or min), where some load in a reduce loop
     * has unit stride along the variable: {@link #outerVectorLoop}.
     */
    private boolean outerVectorizable(Stmt.Loop l) {
        pairAccs.clear();
        laneAccs.clear();
        for (Stmt t : l.body()) {
            boolean ok = switch (t) {
                case Stmt.Acc a when a.init() instanceof Sx.Const && a.type() == DType.FLOAT64 -> pairAccs.add(a.id());
                case Stmt.Acc a when a.init() instanceof Sx.Const && a.type() == DType.FLOAT32 -> laneAccs.add(a.id());
                case Stmt.Loop r -> r.kind() == Stmt.Kind.REDUCE && reduceBody(r.body(), l.var());
                case Stmt.Let x -> vectorizable(x.value(), l.var());
                case Stmt.Store x -> kernel.buffers().get(x.buffer()).type() == DType.FLOAT32
                        && Ix.ONE.equals(Ix.strideAlong(x.index(), l.var())) && vectorizable(x.value(), l.var());
                default -> false;
            };
            if (!ok) return false;
        }
        if (!laneLoad(l.body(), l.var(), false)) return false; // also: there is a reduce loop
        if (!pairAccs.isEmpty()) pairs = true;
        return true;
    }

    private boolean reduceBody(List<Stmt> body, Ix.Var v) {
        for (Stmt t : body) {
            boolean ok = switch (t) {
                case Stmt.Let x -> vectorizable(x.value(), v);
                case Stmt.Loop r -> r.kind() == Stmt.Kind.REDUCE && reduceBody(r.body(), v);
                case Stmt.Assign a when a.value() instanceof Sx.Binary(Sx.BinOp op, Sx.Ref acc, Sx e) && acc.id() == a.id() ->
                        pairAccs.contains(a.id()) ? op == Sx.BinOp.ADD && e instanceof Sx.Cast(Sx x, DType to)
                                && x.type() == DType.FLOAT32 && vectorizable(x, v)
                        : laneAccs.contains(a.id()) && (op == Sx.BinOp.MAX || op == Sx.BinOp.MIN)
                                && e.type() == DType.FLOAT32 && vectorizable(e, v);
                default -> false;
            };
            if (!ok) return false;
        }
        return true;
    }

    /** True when some load inside a reduce loop of {@code body} has unit stride along {@code v}. */
    private static boolean laneLoad(List<Stmt> body, Ix.Var v, boolean inReduce) {
        for (Stmt t : body) {
            boolean hit = switch (t) {
                case Stmt.Loop r -> r.kind() == Stmt.Kind.REDUCE && laneLoad(r.body(), v, true);
                case Stmt.Let y -> inReduce && loadsAlong(y.value(), v);
                case Stmt.Assign z -> inReduce && loadsAlong(z.value(), v);
                default -> false;
            };
            if (hit) return true;
        }
        return false;
    }

    private static boolean loadsAlong(Sx x, Ix.Var v) {
        return switch (x) {
            case Sx.Load l -> Ix.ONE.equals(Ix.strideAlong(l.index(), v));
            case Sx.Unary u -> loadsAlong(u.x(), v);
            case Sx.Binary b -> loadsAlong(b.a(), v) || loadsAlong(b.b(), v);
            case Sx.Select s -> loadsAlong(s.cond(), v) || loadsAlong(s.a(), v) || loadsAlong(s.b(), v);
            case Sx.Cast c -> loadsAlong(c.x(), v);
            default -> false;
        };
    }

    /** A float64 expression of the float64 sums of an outer vector loop, constants and values fixed across lanes. */
    private boolean pairable(Sx x, Ix.Var v) {
        if (x.type() != DType.FLOAT64) return false;
        return switch (x) {
            case Sx.Ref r -> pairAccs.contains(r.id());
            case Sx.Const c -> true;
            case Sx.Binary b -> (b.op() == Sx.BinOp.ADD || b.op() == Sx.BinOp.SUB || b.op() == Sx.BinOp.MUL
                    || b.op() == Sx.BinOp.DIV) && pairable(b.a(), v) && pairable(b.b(), v);
            case Sx.Cast c -> c.x() instanceof Sx.Index i && !Ix.uses(i.index(), v);
            default -> false;
        };
    }

    private boolean usesPair(Sx x) {
        return switch (x) {
            case Sx.Ref r -> pairAccs.contains(r.id());
            case Sx.Binary b -> usesPair(b.a()) || usesPair(b.b());
            default -> false;
        };
    }

    /** The fold a reduce loop does, when the Vector API can do it: float32 lets, then one sum, max or min. */
    private Fold vectorFold(Stmt.Loop l) {
        List<Stmt> body = l.body();
        if (body.isEmpty() || !(body.getLast() instanceof Stmt.Assign a)) return null;
        for (Stmt t : body.subList(0, body.size() - 1))
            if (!(t instanceof Stmt.Let x) || !vectorizable(x.value(), l.var())) return null;
        if (!(a.value() instanceof Sx.Binary(Sx.BinOp op, Sx.Ref acc, Sx e)) || acc.id() != a.id()) return null;
        if (op == Sx.BinOp.ADD && acc.type() == DType.FLOAT64 && e instanceof Sx.Cast(Sx x, DType to)
                && x.type() == DType.FLOAT32 && vectorizable(x, l.var()))
            return new Fold(a, op, x, true);
        if (op == Sx.BinOp.ADD && acc.type() == DType.FLOAT64 && widenable(e, l.var(), a.id()))
            return new Fold(a, op, e, true);
        boolean floatFold = op == Sx.BinOp.MAX || op == Sx.BinOp.MIN;
        if (floatFold && acc.type() == DType.FLOAT32 && e.type() == DType.FLOAT32 && vectorizable(e, l.var()))
            return new Fold(a, op, e, false);
        return null;
    }

    /**
     * A float64 element of a sum that the lanes can compute as two double vectors: float32 lane values widened,
     * loop-invariant float64 values, and +, -, *, / of them (a variance's {@code ((double) x - mean)^2}); each lane
     * then does the scalar loop's arithmetic on its element, and only the order of the sum changes.
     */
    private boolean widenable(Sx x, Ix.Var v, int acc) {
        if (x.type() != DType.FLOAT64) return false;
        return switch (x) {
            case Sx.Const c -> true;
            case Sx.Ref r -> r.id() != acc;
            case Sx.Cast c -> c.x().type() == DType.FLOAT32 && vectorizable(c.x(), v);
            case Sx.Binary b -> (b.op() == Sx.BinOp.ADD || b.op() == Sx.BinOp.SUB || b.op() == Sx.BinOp.MUL
                    || b.op() == Sx.BinOp.DIV) && widenable(b.a(), v, acc) && widenable(b.b(), v, acc);
            default -> false;
        };
    }

    /** Half {@code half} (0 low, 1 high) of the lanes of a {@link #widenable} float64 element, as a double vector. */
    private String widenedHalf(Sx x, int half) {
        return switch (x) {
            case Sx.Cast c when vector(c.x()).vector() -> "((DoubleVector) " + vector(c.x()).text()
                    + ".convertShape(VectorOperators.F2D, D, " + half + "))";
            case Sx.Binary b -> widenedHalf(b.a(), half) + "." + b.op().name().toLowerCase(Locale.ROOT) + "("
                    + widenedHalf(b.b(), half) + ")";
            default -> "DoubleVector.broadcast(D, " + expr(x) + ")";
        };
    }

    private boolean vectorizable(Sx x, Ix.Var v) {
        if (x.type() != DType.FLOAT32 && x.type() != DType.BOOL) return false;
        return switch (x) {
            case Sx.Const c -> true;
            case Sx.Ref r -> true;
            case Sx.Load l -> l.type() == DType.FLOAT32 && Ix.strideAlong(l.index(), v) instanceof Ix.Lit(long s)
                    && (s == 1 || s == 0);
            case Sx.Unary u -> VECTOR_UNARY.contains(u.op()) && vectorizable(u.x(), v);
            case Sx.Binary b -> vectorizable(b.a(), v) && vectorizable(b.b(), v)
                    && (b.a().type() == DType.FLOAT32 ? b.op() != Sx.BinOp.AND && b.op() != Sx.BinOp.OR
                    && b.op() != Sx.BinOp.XOR : b.op() == Sx.BinOp.AND || b.op() == Sx.BinOp.OR
                    || b.op() == Sx.BinOp.XOR || b.op() == Sx.BinOp.EQ || b.op() == Sx.BinOp.NE);
            case Sx.Select s -> s.type() == DType.FLOAT32 && vectorizable(s.cond(), v) && vectorizable(s.a(), v)
                    && vectorizable(s.b(), v);
            case Sx.Cast c -> c.type() == DType.FLOAT32 && pairable(c.x(), v) && usesPair(c.x());
            case Sx.Index i -> false;
        };
    }

    private void findErf(List<Stmt> body) {
        for (Stmt s : body) {
            switch (s) {
                case Stmt.Loop l -> findErf(l.body());
                case Stmt.Let t -> findErf(t.value());
                case Stmt.Acc a -> findErf(a.init());
                case Stmt.Assign a -> findErf(a.value());
                case Stmt.Store st -> findErf(st.value());
            }
        }
    }

    private void findErf(Sx x) {
        switch (x) {
            case Sx.Unary u -> {
                if (u.op() == Sx.UnOp.ERF) {
                    if (u.x().type() == DType.FLOAT32) erf32 = true;
                    else erf64 = true;
                }
                findErf(u.x());
            }
            case Sx.Binary b -> { findErf(b.a()); findErf(b.b()); }
            case Sx.Select s -> { findErf(s.cond()); findErf(s.a()); findErf(s.b()); }
            case Sx.Cast c -> findErf(c.x());
            default -> { }
        }
    }

    /** The byte offset of element {@code i} of segment buffer {@code b}. */
    private String byteOffset(KernelIR.Buffer b, Ix i) { return "4L * (" + index(b, i) + ")"; }

    // ---- scalar Java ----------------------------------------------------------------------------------------------------

    private String bufferType(DType t) { return segments ? "MemorySegment" : arrayType(t); }

    /** The {@code ValueLayout} constant of element type {@code t} in a segment (bools are bytes). */
    private static String layout(DType t) {
        return switch (t) {
            case FLOAT32 -> "ValueLayout.JAVA_FLOAT";
            case FLOAT64 -> "ValueLayout.JAVA_DOUBLE";
            case INT32 -> "ValueLayout.JAVA_INT";
            case INT64 -> "ValueLayout.JAVA_LONG";
            case BOOL -> "ValueLayout.JAVA_BYTE";
            default -> throw new IllegalArgumentException("no segment layout for " + t);
        };
    }

    private static String arrayType(DType t) {
        return switch (t) {
            case FLOAT32 -> "float[]";
            case FLOAT64 -> "double[]";
            case INT32 -> "int[]";
            case INT64 -> "long[]";
            case BOOL -> "byte[]";
            default -> throw new IllegalArgumentException("no Java array for " + t);
        };
    }

    @Override
    protected String indexMath() { return "Math."; }

    @Override
    protected String typeName(DType t) {
        return switch (t) {
            case FLOAT32 -> "float";
            case FLOAT64 -> "double";
            case INT32 -> "int";
            case INT64 -> "long";
            case BOOL -> "boolean";
            default -> throw new IllegalArgumentException("no Java type for " + t);
        };
    }

    @Override
    protected Code call(Sx.UnOp op, DType t, String x) {
        if (op == Sx.UnOp.ABS) return new Code("Math.abs(" + x + ")", PRIMARY);
        if (op == Sx.UnOp.ERF) return new Code("erf(" + x + ")", PRIMARY);
        String f = "Math." + op.name().toLowerCase(Locale.ROOT) + "(" + x + ")";
        return t == DType.FLOAT32 ? new Code("(float) " + f, UNARY) : new Code(f, PRIMARY);
    }

    @Override
    protected Code call(Sx.BinOp op, DType t, String a, String b) {
        String f = "Math." + op.name().toLowerCase(Locale.ROOT) + "(" + a + ", " + b + ")";
        return op == Sx.BinOp.POW && t == DType.FLOAT32 ? new Code("(float) " + f, UNARY) : new Code(f, PRIMARY);
    }

    @Override
    protected String infinity(DType t) { return t == DType.FLOAT32 ? "Float.POSITIVE_INFINITY" : "Double.POSITIVE_INFINITY"; }

    @Override
    protected String nan(DType t) { return t == DType.FLOAT32 ? "Float.NaN" : "Double.NaN"; }

    @Override
    protected String load(KernelIR.Buffer b, String index) {
        String s = segments ? b.name() + ".getAtIndex(" + layout(b.type()) + ", " + index + ")"
                : b.name() + "[" + index + "]";
        return b.type() == DType.BOOL ? "(" + s + " != 0)" : s;
    }

    @Override
    protected String store(KernelIR.Buffer b, String index, String value) {
        if (b.type() == DType.BOOL) value = "(byte) (" + value + " ? 1 : 0)";
        if (segments) return b.name() + ".setAtIndex(" + layout(b.type()) + ", " + index + ", " + value + ");";
        return b.name() + "[" + index + "] = " + value + ";";
    }

    @Override
    protected Code cast(DType from, DType to, Code x) {
        if (to == DType.BOOL) return new Code(paren(x, RELATIONAL) + " != " + literal(from, 0).text(), EQUALITY);
        if (from == DType.BOOL)
            return new Code(paren(x, OR) + " ? " + literal(to, 1).text() + " : " + literal(to, 0).text(), TERNARY);
        return super.cast(from, to, x);
    }

    private static String indent(String s) { return s.indent(4).replaceAll("(?m)^ +$", ""); }

    // ---- helpers emitted when used --------------------------------------------------------------------------------------

    /** erf for float32 results: a Taylor polynomial below 0.5, above it 1 - erfc with Numerical Recipes' erfcc. */
    private static final String ERF_FLOAT = """

            private static float erf(float v) {
                double x = v, a = Math.abs(x);
                if (a < 0.5) {
                    double z = x * x;
                    return (float) (x * (1.1283791670955126 + z * (-0.37612638903183754 + z * (0.11283791670955126
                            + z * (-0.026866170645131252 + z * (0.005223977625442188 + z * (-8.548327023450852e-4
                            + z * (1.2055332981789664e-4 - z * 1.492565035840625e-5))))))));
                }
                double t = 1 / (1 + 0.5 * a);
                double r = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
                        + t * 0.17087277)))))))));
                return (float) (x < 0 ? r - 1 : 1 - r);
            }
            """;

    /**
     * A vector function's body ({@link #ERF_VECTOR}, {@link #EXP_VECTOR}, {@link #TANH_VECTOR}) written where it is
     * used, as a switch expression (in parentheses, so that a method call may follow) whose block yields the result,
     * its temporaries named {@code u<count>_}. Not a helper method: a method that takes and returns vectors is a call
     * C2 may decline to inline (the kernel's inlining budget spent, or the helper compiled on its own first), and then
     * every vector that crosses it is boxed on the heap; in the generated training kernels of the 784-256-10 MLP the
     * JIT compiled the erf and exp helpers on their own before the loops that call them. The count also moves when
     * {@link #vector} renders an expression only to ask whether it is a vector, so the names are unique, not dense.
     */
    private String inline(String body, String arg) {
        String u = "u" + inlines++ + "_";
        return "(switch (0) { default -> { FloatVector " + u + "a = " + arg + "; "
                + body.strip().replace("\n", " ").replace("$", u) + " } })";
    }

    /*
     * The polynomials of the rational fits below are evaluated in Estrin's form (pairs c0 + c1 z, then combined by
     * powers z^2, z^4), not Horner's. C2 emits an FMA into its addend's register: in Horner's form every addend is a
     * coefficient, a loop invariant held in a register, so each FMA came with a register copy, ten per vector in Gelu,
     * which compete with the FMAs for the two 512-bit vector ports. Estrin's form has half as many FMAs onto a
     * coefficient, and shorter dependency chains. A probe of the Gelu body alone over 64K floats on one core (Intel,
     * AVX-512) took 6.3-6.8 ns a vector in Horner's form, 5.9 in Estrin's, 4.8-5.0 with a product for the division;
     * but the generated bias + Gelu and tanh-chain kernels ran alike in both forms (ElementwiseBench, impl=codegen,
     * 64K floats, one thread: bias_gelu 26.5 and 26.0 GB/s, chain6 22.7 and 22.4): there the division bounds them.
     */

    /**
     * erf of float32 lanes: a rational minimax fit {@code x P(x^2) / Q(x^2)} on [-4, 4] (beyond it erf is +-1 in
     * float32), as Eigen's {@code generic_fast_erf_float}: FMAs and one division, no exp; error below 5e-7 absolute
     * and relative.
     */
    private static final String ERF_VECTOR = """
            FloatVector $x = $a.blend(-4f, $a.lt(-4f));
            $x = $x.blend(4f, $x.compare(VectorOperators.GT, 4f));
            FloatVector $x2 = $x.mul($x);
            FloatVector $x4 = $x2.mul($x2);
            FloatVector $e0 = $x2.fma(FloatVector.broadcast(F, -2.95459980854025e-03f), FloatVector.broadcast(F, -1.60960333262415e-02f));
            FloatVector $e1 = $x2.fma(FloatVector.broadcast(F, -5.69250639462346e-05f), FloatVector.broadcast(F, -7.34990630326855e-04f));
            FloatVector $e2 = $x2.fma(FloatVector.broadcast(F, 2.77068142495902e-08f), FloatVector.broadcast(F, -2.10102402082508e-06f));
            FloatVector $p = $x4.fma($x4.fma($x4.fma(FloatVector.broadcast(F, -2.72614225801306e-10f), $e2), $e1), $e0).mul($x);
            FloatVector $f0 = $x2.fma(FloatVector.broadcast(F, -7.37332916720468e-03f), FloatVector.broadcast(F, -1.42647390514189e-02f));
            FloatVector $f1 = $x2.fma(FloatVector.broadcast(F, -2.13374055278905e-04f), FloatVector.broadcast(F, -1.68282697438203e-03f));
            FloatVector $q = $x4.fma($x4.fma(FloatVector.broadcast(F, -1.45660718464996e-05f), $f1), $f0);
            yield $p.div($q);
            """;

    /**
     * Gelu of float32 lanes, {@code 0.5 x (1 + erf(x / sqrt 2))}, from {@link #ERF_VECTOR}'s fit: with a = |x| and
     * ac = min(a, 4 sqrt 2), {@code 0.5 x erf(x / sqrt 2) = a ac P(ac^2) / Q(ac^2)}, P and Q being the fit's polynomials
     * with the argument's scaling (z^2 = ac^2 / 2) and the 1/2 taken into their coefficients, and
     * {@code gelu = 0.5 x + a (ac P / Q)} (a times the ratio last: a times ac first overflowed to infinity for x near
     * the float32 maximum). Error within 1.2e-6 absolute of float64's 0.5 x (1 + erf(x / sqrt 2)) on [-10, 10] (the
     * formula with ERF_VECTOR's erf: 1.4e-6); NaN stays NaN.
     */
    private static final String GELU_VECTOR = """
            FloatVector $x = $a.abs();
            FloatVector $c = $x.blend(5.65685425f, $x.compare(VectorOperators.GT, 5.65685425f));
            FloatVector $y = $c.mul($c);
            FloatVector $y2 = $y.mul($y);
            FloatVector $e0 = $y.fma(FloatVector.broadcast(F, -5.2230439e-04f), FloatVector.broadcast(F, -5.69080716e-03f));
            FloatVector $e1 = $y.fma(FloatVector.broadcast(F, -2.51575617e-06f), FloatVector.broadcast(F, -6.49646074e-05f));
            FloatVector $e2 = $y.fma(FloatVector.broadcast(F, 3.06119941e-10f), FloatVector.broadcast(F, -4.64265104e-08f));
            FloatVector $p = $y2.fma($y2.fma($y2.fma(FloatVector.broadcast(F, -1.50599506e-12f), $e2), $e1), $e0);
            FloatVector $f0 = $y.fma(FloatVector.broadcast(F, -3.68666458e-03f), FloatVector.broadcast(F, -1.42647391e-02f));
            FloatVector $f1 = $y.fma(FloatVector.broadcast(F, -2.66717569e-05f), FloatVector.broadcast(F, -4.20706744e-04f));
            FloatVector $q = $y2.fma($y2.fma(FloatVector.broadcast(F, -9.1037949e-07f), $f1), $f0);
            yield $a.fma(FloatVector.broadcast(F, 0.5f), $x.mul($c.mul($p).div($q)));
            """;

    /**
     * exp of float32 lanes (Cephes' expf): n = round(x / ln 2) by the 1.5 * 2^23 trick, r = x - n ln 2 in two parts,
     * a degree-6 polynomial, times 2^n built in the exponent bits as two factors (so that n = 128 and results below
     * the normal range come out right); +inf above the float32 range, NaN stays NaN. Error below 1e-7 relative.
     * About twice as fast as VectorOperators.EXP, which calls a native math library.
     */
    private static final String EXP_VECTOR = """
            FloatVector $x = $a.blend(-104f, $a.lt(-104f));
            $x = $x.blend(88.72283935546875f, $x.compare(VectorOperators.GT, 88.72283935546875f));
            FloatVector $t = $x.fma(FloatVector.broadcast(F, 1.44269504088896341f), FloatVector.broadcast(F, 12582912f));
            FloatVector $n = $t.sub(12582912f);
            FloatVector $r = $n.fma(FloatVector.broadcast(F, -0.693359375f), $x);
            $r = $n.fma(FloatVector.broadcast(F, 2.12194440e-4f), $r);
            FloatVector $p = $r.fma(FloatVector.broadcast(F, 1.9875691500e-4f), FloatVector.broadcast(F, 1.3981999507e-3f));
            $p = $p.fma($r, FloatVector.broadcast(F, 8.3334519073e-3f));
            $p = $p.fma($r, FloatVector.broadcast(F, 4.1665795894e-2f));
            $p = $p.fma($r, FloatVector.broadcast(F, 1.6666665459e-1f));
            $p = $p.fma($r, FloatVector.broadcast(F, 5.0000001201e-1f));
            FloatVector $y = $p.fma($r.mul($r), $r).add(1f);
            jdk.incubator.vector.IntVector $k = $t.reinterpretAsInts().sub(0x4B400000);
            jdk.incubator.vector.IntVector $h = $k.lanewise(VectorOperators.ASHR, 1);
            FloatVector $s1 = $h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector $s2 = $k.sub($h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            yield $y.mul($s1).mul($s2).blend(Float.POSITIVE_INFINITY, $a.compare(VectorOperators.GT, 88.72283935546875f));
            """;

    /**
     * tanh of float32 lanes: a rational minimax fit {@code x P(x^2) / Q(x^2)} on [-7.9, 7.9] (beyond it tanh is +-1
     * in float32), as Eigen's {@code generic_fast_tanh_float}; error below 4e-7 absolute and relative for normal x.
     * Eigen returns x itself below 4e-4, where the fit is within 2 ulp of it anyway (1.3e-7 relative); that blend
     * (three instructions) cost a fused tanh chain 10-15% of its throughput at 1M floats. Several times faster than
     * the Vector API's TANH, which calls a native math library.
     */
    private static final String TANH_VECTOR = """
            FloatVector $x = $a.blend(-7.90531110763549805f, $a.lt(-7.90531110763549805f));
            $x = $x.blend(7.90531110763549805f, $x.compare(VectorOperators.GT, 7.90531110763549805f));
            FloatVector $x2 = $x.mul($x);
            FloatVector $x4 = $x2.mul($x2);
            FloatVector $e0 = $x2.fma(FloatVector.broadcast(F, 6.37261928875436e-04f), FloatVector.broadcast(F, 4.89352455891786e-03f));
            FloatVector $e1 = $x2.fma(FloatVector.broadcast(F, 5.12229709037114e-08f), FloatVector.broadcast(F, 1.48572235717979e-05f));
            FloatVector $e2 = $x2.fma(FloatVector.broadcast(F, 2.00018790482477e-13f), FloatVector.broadcast(F, -8.60467152213735e-11f));
            FloatVector $p = $x4.fma($x4.fma($x4.fma(FloatVector.broadcast(F, -2.76076847742355e-16f), $e2), $e1), $e0).mul($x);
            FloatVector $q = $x4.fma($x2.fma(FloatVector.broadcast(F, 1.19825839466702e-06f), FloatVector.broadcast(F, 1.18534705686654e-04f)),
                    $x2.fma(FloatVector.broadcast(F, 2.26843463243900e-03f), FloatVector.broadcast(F, 4.89352518554385e-03f)));
            yield $p.div($q);
            """;


    /** erf for float64: the series {@code 2x/sqrt(pi) e^(-x^2) sum (2x^2)^n / (1*3*...*(2n+1))} below 3, else erfc's continued fraction. */
    private static final String ERF_DOUBLE = """

            private static double erf(double x) {
                double a = Math.abs(x);
                if (a >= 6) return Math.signum(x);
                if (a < 3) {
                    double z = 2 * a * a, term = 1, sum = 1;
                    for (int n = 1; term > 1e-17 * sum; n++) {
                        term *= z / (2 * n + 1);
                        sum += term;
                    }
                    return Math.copySign(1.1283791670955126 * a * Math.exp(-a * a) * sum, x);
                }
                double f = a;
                for (int k = 60; k >= 1; k--) f = a + k / 2.0 / f;
                return Math.copySign(1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f, x);
            }
            """;
}
