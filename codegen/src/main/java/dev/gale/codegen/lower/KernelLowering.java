package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.ControlFlowOps;
import dev.gale.ir.op.GaleOps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lowers a fused kernel (a {@code gale::Kernel} node, or directly its body graph) to the kernel IR.
 *
 * <p>Algorithm: outputs are grouped by shape, one loop nest per group, with one parallel loop per output dimension
 * (size-1 dimensions get none). Each output is then evaluated at the loop coordinates by walking the body graph
 * backwards from it, demand-driven: a body input becomes a load at the row-major offset of its coordinates, an
 * elementwise or broadcast op evaluates its operands at the broadcast coordinates and combines them
 * ({@link ScalarOps}), an injective op evaluates its operand at coordinates computed from its own
 * ({@link IndexMaps}), and a reduction opens reduce loops over its reduced axes and folds into an accumulator. Every
 * value is computed once per set of coordinates (memoized while visible) and placed by {@link LoopBuilder} in the
 * outermost loop its coordinates allow, so a softmax row maximum is computed once per row, not once per element.
 *
 * <p>Anything the kernel IR cannot express makes the whole kernel not lowerable, with a reason; the runtime then
 * runs that kernel another way (the interpreter). Never silently wrong: unknown dimensions, ambiguous broadcasts,
 * operands that must be constants but are not, and unsupported ops or element types are all refused.
 */
public final class KernelLowering {
    /** What lowering gives: a kernel, or the reason there is none. */
    public sealed interface Result {}

    public record Lowered(KernelIR kernel) implements Result {}

    public record Rejected(String reason) implements Result {}

    private static final Set<String> INJECTIVE = Set.of("Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
            "Transpose", "Expand", "Slice", "Tile", "Split", "Gather");
    private static final Set<String> REDUCTIONS = Set.of("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
            "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp");
    private static final Set<String> GUARDED = Set.of("Pad", "Concat", "gale::SliceGrad", "MaxPool", "AveragePool",
            "GlobalMaxPool", "GlobalAveragePool");
    private static final Set<String> NORMALIZATIONS = Set.of("Softmax", "LogSoftmax", "LayerNormalization");
    private static final Set<DType> TYPES = Set.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64, DType.BOOL);

    /** Lowers a {@code gale::Kernel} node: its {@code body} graph, named after its {@code name} attribute. */
    public static Result lower(Node kernel) {
        if (!kernel.domain().equals(GaleOps.DOMAIN) || !kernel.op().equals("Kernel"))
            return new Rejected(kernel.describe() + " is not a gale::Kernel");
        if (!(kernel.attr("body") instanceof Attr.GraphAttr body))
            return new Rejected(kernel.describe() + " has no body graph");
        String name = kernel.attr("name") instanceof Attr.StringAttr s && !s.value().isEmpty() ? s.value()
                : kernel.name().isEmpty() ? body.value().name() : kernel.name();
        return lower(body.value(), name);
    }

    /** Lowers a closed body graph of elementwise, broadcast, injective and reduction nodes. */
    public static Result lower(Graph body, String name) {
        try {
            return new Lowered(new KernelLowering(body, Names.identifier(name.isEmpty() ? "kernel" : name)).run());
        } catch (NotLowerable e) {
            return new Rejected(e.getMessage());
        }
    }

    private record Key(String value, List<Ix> at) {}

    private final Graph body;
    private final String name;
    private final Map<String, Type.TensorType> types = new HashMap<>();
    private final Map<String, Node> producers;
    private final Map<String, Tensor> constants = new HashMap<>();
    private final List<KernelIR.Buffer> buffers = new ArrayList<>();
    private final Map<String, Integer> inputBuffers = new HashMap<>();
    private final Map<String, KernelIR.SizeParam> sizes = new LinkedHashMap<>();
    private final Names names = new Names();
    private final Map<String, List<Ix>> dimsOf = new HashMap<>();
    private final Set<KernelIR.Check> checks = new java.util.LinkedHashSet<>();
    private final Map<Key, Sx> memo = new HashMap<>();
    /** Outputs that earlier nests have stored: later nests read them back instead of computing them again. */
    private final Map<String, Integer> stored = new HashMap<>();
    private LoopBuilder lb;
    private int parallelVars, reduceVars;

    private KernelLowering(Graph body, String name) {
        body = withSymbolicInputDims(body);
        this.body = body;
        this.name = name;
        this.producers = body.producers();
    }

    private KernelIR run() {
        for (Map.Entry<String, Type> e : body.valueTypes().entrySet())
            if (e.getValue() instanceof Type.TensorType t) types.put(e.getKey(), t);
        constants.putAll(body.initializers());
        for (Node n : body.nodes()) {
            if (n.domain().isEmpty() && n.op().equals("Constant")) {
                constants.put(n.output(0).name(), ControlFlowOps.constantValue(n.attrs(), null));
                continue;
            }
            boolean known = ScalarOps.supports(n) || n.domain().isEmpty() && (INJECTIVE.contains(n.op())
                    || REDUCTIONS.contains(n.op()) || NORMALIZATIONS.contains(n.op()))
                    || GUARDED.contains(n.qualifiedOp()) || n.qualifiedOp().equals("gale::ReduceSumToShape");
            if (!known) throw new NotLowerable(n.describe() + ": kernels cannot express " + n.qualifiedOp() + " yet");
        }
        // Sizes are bound from the inputs' dimensions, so every symbol must appear in an input's shape.
        for (Value v : body.inputs()) {
            if (constants.containsKey(v.name())) continue;
            Type.TensorType t = tensorType(v.name());
            int b = buffers.size();
            List<Ix> shape = new ArrayList<>();
            for (int k = 0; k < t.shape().rank(); k++) {
                if (t.shape().dim(k) instanceof Dim.Sym s && !sizes.containsKey(s.name()))
                    sizes.put(s.name(), new KernelIR.SizeParam(names.claim(s.name()), b, k));
                shape.add(dim(t.shape().dim(k), v.name()));
            }
            inputBuffers.put(v.name(), b);
            buffers.add(new KernelIR.Buffer(names.claim(v.name()), t.dtype(), false, shape));
        }
        // One nest per distinct output shape.
        Map<List<Ix>, List<Integer>> byShape = new LinkedHashMap<>();
        for (Value v : body.outputs()) {
            Type.TensorType t = tensorType(v.name());
            supported(t.dtype(), "output %" + v.name());
            List<Ix> shape = dims(v.name());
            byShape.computeIfAbsent(shape, s -> new ArrayList<>()).add(buffers.size());
            buffers.add(new KernelIR.Buffer(names.claim(v.name()), t.dtype(), true, shape));
        }
        List<KernelIR.Nest> nests = new ArrayList<>();
        int firstOutput = buffers.size() - body.outputs().size();
        for (Map.Entry<List<Ix>, List<Integer>> e : byShape.entrySet()) {
            List<Integer> outs = e.getValue();
            Regions.Cuts cuts = outs.size() != 1 ? null
                    : Regions.of(this, producers, body.outputs().get(outs.getFirst() - firstOutput).name(), e.getKey());
            if (cuts == null) {
                nests.add(nest(e.getKey(), outs, -1, 0, 0));
            } else {
                long[] p = cuts.points();
                for (int r = 0; r + 1 < p.length; r++) nests.add(nest(e.getKey(), outs, cuts.axis(), p[r], p[r + 1]));
            }
            // Later nests read these outputs back instead of computing them again (not the regions of one output).
            for (int b : outs) stored.put(body.outputs().get(b - firstOutput).name(), b);
        }
        List<KernelIR.SizeParam> sizeParams = new ArrayList<>(sizes.values());
        return new KernelIR(name, buffers, sizeParams, new ArrayList<>(checks), nests);
    }

    /**
     * The nest that stores {@code outputs} (all of {@code shape}); with {@code axis >= 0}, only the region
     * {@code [lo, hi)} of that axis ({@link Regions}).
     */
    private KernelIR.Nest nest(List<Ix> shape, List<Integer> outputs, int axis, long lo, long hi) {
        KernelIR.Nest plain = nest(shape, outputs, axis, lo, hi, 1);
        if (innermost == null || !(innermost.extent() instanceof Ix.Lit(long extent))) return plain;
        long split = InnerSplit.factor(plain, innermost, extent);
        if (split <= 1) return plain;
        KernelIR.Nest divided = nest(shape, outputs, axis, lo, hi, split);
        return InnerSplit.factor(divided, innermost, split) == 0 ? divided : plain;
    }

    /** The nest's innermost output loop (the last dimension's), or null when that dimension is 1. */
    private Ix.Var innermost;

    /**
     * {@link #nest} with the last dimension's loop split in two, {@code i = io * split + ii}, when {@code split > 1}
     * ({@link InnerSplit}).
     */
    private KernelIR.Nest nest(List<Ix> shape, List<Integer> outputs, int axis, long lo, long hi, long split) {
        lb = new LoopBuilder(new int[1]);
        memo.clear();
        parallelVars = reduceVars = 0;
        innermost = null;
        List<Ix> at = new ArrayList<>();
        int open = 0;
        for (int k = 0; k < shape.size(); k++) {
            Ix d = k == axis ? Ix.lit(hi - lo) : shape.get(k);
            boolean last = k == shape.size() - 1;
            if (d.equals(Ix.ONE)) {
                at.add(k == axis ? Ix.lit(lo) : Ix.ZERO);
            } else if (last && split > 1) {
                Ix.Var vo = lb.open("i" + parallelVars++, Ix.lit(((Ix.Lit) d).value() / split), Stmt.Kind.PARALLEL);
                innermost = lb.open("i" + parallelVars++, Ix.lit(split), Stmt.Kind.PARALLEL);
                Ix i = Ix.add(Ix.mul(vo, Ix.lit(split)), innermost);
                at.add(k == axis ? Ix.add(i, Ix.lit(lo)) : i);
                open += 2;
            } else {
                Ix.Var v = lb.open("i" + parallelVars++, d, Stmt.Kind.PARALLEL);
                if (last) innermost = v;
                at.add(k == axis ? Ix.add(v, Ix.lit(lo)) : v);
                open++;
            }
        }
        int firstOutput = buffers.size() - body.outputs().size();
        for (int b : outputs) {
            String value = body.outputs().get(b - firstOutput).name();
            lb.store(b, IndexMaps.flat(at, shape), value(value, at));
        }
        for (int k = 0; k < open; k++) lb.close();
        return new KernelIR.Nest(lb.finish());
    }

    // ---- values ---------------------------------------------------------------------------------------------------

    /** The element of {@code value} at coordinates {@code at}, computed once while it stays visible. */
    Sx valueAt(String value, List<Ix> at) { return value(value, at); }

    /** {@code compute}'s result, remembered under {@code key} at {@code at} while it stays visible. */
    Sx remembered(String key, List<Ix> at, java.util.function.Supplier<Sx> compute) {
        Key k = new Key("\0" + key, new ArrayList<>(at));
        Sx m = memo.get(k);
        if (m != null && lb.visible(m)) return m;
        Sx v = compute.get();
        memo.put(k, v);
        return v;
    }

    DType elementType(String value) { return tensorType(value).dtype(); }

    private Sx value(String value, List<Ix> at) {
        Key key = new Key(value, new ArrayList<>(at));
        Sx m = memo.get(key);
        if (m != null && lb.visible(m)) return m;
        Sx v = compute(value, at);
        memo.put(key, v);
        return v;
    }

    private Sx compute(String value, List<Ix> at) {
        Tensor c = constants.get(value);
        if (c != null) {
            if (c.numel() != 1)
                throw new NotLowerable("constant %" + value + " of shape " + java.util.Arrays.toString(c.shape())
                        + " is read as data; kernels take only scalar constants");
            supported(c.dtype(), "constant %" + value);
            return Sx.c(c.dtype(), c.dtype().isFloat() ? c.getDouble(0) : c.getLong(0));
        }
        Integer b = inputBuffers.get(value);
        if (b == null) b = stored.get(value);
        if (b != null) {
            KernelIR.Buffer buf = buffers.get(b);
            supported(buf.type(), "input %" + value);
            return lb.let(new Sx.Load(b, IndexMaps.flat(at, buf.shape()), buf.type()));
        }
        Node n = producers.get(value);
        if (n == null) throw new NotLowerable("%" + value + " is not defined in the kernel body");
        int output = 0;
        while (!n.outputs().get(output).name().equals(value)) output++;
        return node(n, output, at);
    }

    private Sx node(Node n, int output, List<Ix> at) {
        String v = n.outputs().get(output).name();
        Type.TensorType t = tensorType(v);
        supported(t.dtype(), "%" + v);
        List<Ix> out = dims(v);
        if (ScalarOps.supports(n)) {
            List<Sx> xs = new ArrayList<>();
            for (Value in : n.inputs())
                xs.add(in.isNone() ? null : value(in.name(), broadcast(n, at, out, in.name())));
            Sx r = ScalarOps.apply(n, xs, t.dtype());
            if (r.type() != t.dtype())
                throw new NotLowerable(n.describe() + ": computes " + r.type() + " where " + t.dtype() + " is declared");
            return lb.let(r);
        }
        if (n.qualifiedOp().equals("gale::ReduceSumToShape")) return reduceToShape(n, at);
        switch (n.qualifiedOp()) {
            case "Pad" -> { return GuardedReads.pad(this, n, at); }
            case "Concat" -> { return GuardedReads.concat(this, n, at); }
            case "gale::SliceGrad" -> { return GuardedReads.sliceGrad(this, n, at); }
            case "MaxPool", "AveragePool" -> { return Pools.window(this, n, output, at); }
            case "GlobalMaxPool", "GlobalAveragePool" -> { return Pools.global(this, n, at); }
            default -> { }
        }
        if (n.domain().isEmpty() && NORMALIZATIONS.contains(n.op())) {
            return switch (n.op()) {
                case "Softmax" -> Normalizations.softmax(this, n, at, false);
                case "LogSoftmax" -> Normalizations.softmax(this, n, at, true);
                default -> Normalizations.layerNorm(this, n, output, at);
            };
        }
        if (REDUCTIONS.contains(n.op())) return reduce(n, at);
        String x = n.input(0).name();
        List<Ix> in = dims(x);
        List<Ix> src = switch (n.op()) {
            case "Identity" -> at;
            case "Reshape", "Flatten", "Squeeze", "Unsqueeze" -> {
                Ix a = product(in), b = product(out);
                if (!a.equals(b)) checks.add(new KernelIR.Check(a, b, n.describe() + " keeps the element count"));
                yield IndexMaps.reshape(at, out, in);
            }
            case "Expand" -> IndexMaps.broadcast(at, out, in);
            case "Transpose" -> IndexMaps.transpose(at, perm(n, in.size()));
            case "Slice" -> slice(n, at, in);
            case "Tile" -> {
                List<Ix> r = new ArrayList<>();
                for (int k = 0; k < in.size(); k++) r.add(Ix.mod(at.get(k), in.get(k)));
                yield r;
            }
            case "Split" -> split(n, output, at);
            case "Gather" -> gather(n, at, in);
            default -> throw new NotLowerable(n.describe() + ": kernels cannot express " + n.op() + " yet");
        };
        if (src == null)
            throw new NotLowerable(n.describe() + ": cannot map shape " + out + " back to its input's " + in);
        return value(x, src);
    }

    /**
     * Broadcast coordinates of {@code input}. Where a symbolic input dimension meets a different output dimension it
     * might be 1 (and broadcast) or equal it; the kernel takes it as equal and checks that at run time.
     */
    List<Ix> broadcast(Node n, List<Ix> at, List<Ix> out, String input) {
        List<Ix> in = dims(input);
        List<Ix> r = IndexMaps.broadcast(at, out, in);
        if (r != null) return r;
        int shift = out.size() - in.size();
        r = new ArrayList<>();
        for (int k = 0; k < in.size(); k++) {
            Ix d = in.get(k), o = out.get(k + shift);
            if (d.equals(Ix.ONE)) {
                r.add(Ix.ZERO);
                continue;
            }
            if (!d.equals(o)) {
                if (d instanceof Ix.Lit && o instanceof Ix.Lit)
                    throw new NotLowerable(n.describe() + ": %" + input + " of shape " + in + " does not broadcast to " + out);
                checks.add(new KernelIR.Check(d, o, n.describe() + " reads %" + input + " without broadcasting"));
            }
            r.add(at.get(k + shift));
        }
        return r;
    }

    // ---- injective ops --------------------------------------------------------------------------------------------

    private static int[] perm(Node n, int rank) {
        int[] p = new int[rank];
        if (n.attr("perm") instanceof Attr.IntsAttr a) {
            for (int k = 0; k < rank; k++) p[k] = (int) a.values()[k];
        } else {
            for (int k = 0; k < rank; k++) p[k] = rank - 1 - k;
        }
        return p;
    }

    /** Slice with constant starts, ends, axes and steps over fixed-size axes: {@code start + i * step}. */
    private List<Ix> slice(Node n, List<Ix> at, List<Ix> in) {
        long[] starts = constantLongs(n, 1, null), ends = constantLongs(n, 2, null);
        long[] axes = constantLongs(n, 3, null), steps = constantLongs(n, 4, null);
        List<Ix> r = new ArrayList<>(at);
        for (int j = 0; j < starts.length; j++) {
            int axis = (int) (axes == null ? j : axes[j] < 0 ? axes[j] + in.size() : axes[j]);
            long step = steps == null ? 1 : steps[j];
            if (!(in.get(axis) instanceof Ix.Lit(long dim)))
                throw new NotLowerable(n.describe() + ": slices a symbolic dimension");
            long start = starts[j] < 0 ? starts[j] + dim : starts[j];
            start = step > 0 ? Math.clamp(start, 0, dim) : Math.clamp(start, 0, dim - 1);
            r.set(axis, Ix.add(Ix.lit(start), Ix.mul(Ix.lit(step), at.get(axis))));
        }
        return r;
    }

    /** Output {@code output} of Split reads its input shifted by the sizes of the outputs before it along the axis. */
    private List<Ix> split(Node n, int output, List<Ix> at) {
        int rank = at.size();
        long a = n.attr("axis") instanceof Attr.IntAttr i ? i.value() : 0;
        int axis = (int) (a < 0 ? a + rank : a);
        Ix offset = Ix.ZERO;
        for (int j = 0; j < output; j++) offset = Ix.add(offset, dims(n.output(j).name()).get(axis));
        List<Ix> r = new ArrayList<>(at);
        r.set(axis, Ix.add(at.get(axis), offset));
        return r;
    }

    /** Gather with constant indices: a scalar index, or a vector of evenly spaced ones ({@code x[:, 2:8:2]}). */
    private List<Ix> gather(Node n, List<Ix> at, List<Ix> in) {
        Tensor idx = constants.get(n.input(1).name());
        if (idx == null) throw new NotLowerable(n.describe() + ": gathers at indices known only at run time");
        long a = n.attr("axis") instanceof Attr.IntAttr i ? i.value() : 0;
        int axis = (int) (a < 0 ? a + in.size() : a);
        long[] v = idx.toLongArray();
        boolean fixed = in.get(axis) instanceof Ix.Lit;
        long dim = fixed ? ((Ix.Lit) in.get(axis)).value() : -1;
        for (int k = 0; k < v.length; k++) {
            if (v[k] < 0 && !fixed) throw new NotLowerable(n.describe() + ": negative index on a symbolic dimension");
            if (v[k] < 0) v[k] += dim;
            if (v[k] < 0 || fixed && v[k] >= dim) throw new NotLowerable(n.describe() + ": index out of range");
        }
        List<Ix> r = new ArrayList<>(at.subList(0, axis));
        if (idx.rank() == 0) {
            r.add(Ix.lit(v[0]));
            r.addAll(at.subList(axis, at.size()));
        } else if (idx.rank() == 1 && v.length > 0) {
            long step = v.length > 1 ? v[1] - v[0] : 0;
            for (int k = 1; k < v.length; k++)
                if (v[k] - v[k - 1] != step)
                    throw new NotLowerable(n.describe() + ": gathers at indices that are not evenly spaced");
            r.add(Ix.add(Ix.lit(v[0]), Ix.mul(Ix.lit(step), at.get(axis))));
            r.addAll(at.subList(axis + 1, at.size()));
        } else {
            throw new NotLowerable(n.describe() + ": gathers with indices of rank " + idx.rank());
        }
        return r;
    }

    // ---- reductions -----------------------------------------------------------------------------------------------

    /** Reduce*(x, axes): one accumulator per output element, reduce loops over the reduced axes. */
    private Sx reduce(Node n, List<Ix> at) {
        String x = n.input(0).name();
        List<Ix> in = dims(x);
        boolean keep = !(n.attr("keepdims") instanceof Attr.IntAttr k) || k.value() != 0;
        boolean noop = n.attr("noop_with_empty_axes") instanceof Attr.IntAttr e && e.value() != 0;
        long[] axes = n.hasInput(1) ? constantLongs(n, 1, null) : new long[0];
        Set<Integer> reduced = new HashSet<>();
        for (long a : axes) reduced.add((int) (a < 0 ? a + in.size() : a));
        if (reduced.isEmpty()) {
            if (noop) return value(x, at);
            for (int k = 0; k < in.size(); k++) reduced.add(k);
        }
        // Output coordinate of each kept input axis.
        List<Ix> kept = new ArrayList<>();
        for (int k = 0, pos = 0; k < in.size(); k++) {
            if (reduced.contains(k)) {
                kept.add(null);
                if (keep) pos++;
            } else {
                kept.add(at.get(pos++));
            }
        }
        DType t = tensorType(n.output(0).name()).dtype();
        Folds.Fold fold = Folds.of(n, t);
        return fold.lower(new Folds.Context(this, x, kept, in, reduced, t));
    }

    /** gale::ReduceSumToShape: sums the axes along which the target shape was broadcast to x's. */
    private Sx reduceToShape(Node n, List<Ix> at) {
        String x = n.input(0).name();
        List<Ix> in = dims(x), out = dims(n.output(0).name());
        int shift = in.size() - out.size();
        if (shift < 0) throw new NotLowerable(n.describe() + ": the target has a higher rank than the input");
        Set<Integer> reduced = new HashSet<>();
        List<Ix> kept = new ArrayList<>();
        for (int k = 0; k < in.size(); k++) {
            boolean r = k < shift || out.get(k - shift).equals(Ix.ONE) && !in.get(k).equals(Ix.ONE);
            if (!r && k >= shift && !out.get(k - shift).equals(in.get(k)))
                throw new NotLowerable(n.describe() + ": cannot tell which axes of " + in + " sum to " + out);
            if (r) reduced.add(k);
            kept.add(r ? null : at.get(k - shift));
        }
        DType t = tensorType(n.output(0).name()).dtype();
        return Folds.sum(t).lower(new Folds.Context(this, x, kept, in, reduced, t));
    }

    /**
     * Folds {@code element} of {@code x} over the reduced axes into accumulator {@code init} with {@code step}. The
     * accumulator and its loops go to the outermost loop that the kept coordinates allow; returns the accumulator.
     */
    Sx.Ref fold(Folds.Context c, Sx init, java.util.function.BinaryOperator<Sx> step,
                java.util.function.UnaryOperator<Sx> element) {
        List<Ix> extents = new ArrayList<>();
        for (int k = 0; k < c.in().size(); k++) if (c.kept().get(k) == null) extents.add(c.in().get(k));
        return foldOver(c.kept(), extents, init, step, vars -> {
            List<Ix> src = new ArrayList<>();
            for (int k = 0, j = 0; k < c.in().size(); k++) src.add(c.kept().get(k) != null ? c.kept().get(k) : vars.get(j++));
            return element.apply(value(c.x(), src));
        });
    }

    /**
     * The general fold: reduce loops over {@code extents} (none for an extent of 1, whose coordinate is 0), placed in
     * the outermost loop that the coordinates {@code deps} allow (nulls are ignored); {@code element} gives the
     * value folded at the reduce coordinates.
     */
    Sx.Ref foldOver(List<Ix> deps, List<Ix> extents, Sx init, java.util.function.BinaryOperator<Sx> step,
                    java.util.function.Function<List<Ix>, Sx> element) {
        Object cut = lb.detour(lb.depth(deps.stream().filter(java.util.Objects::nonNull).toList()));
        Sx.Ref acc = lb.acc(init);
        List<Ix> vars = new ArrayList<>();
        int open = 0;
        for (Ix e : extents) {
            if (e.equals(Ix.ONE)) {
                vars.add(Ix.ZERO);
            } else {
                vars.add(lb.open("r" + reduceVars++, e, Stmt.Kind.REDUCE));
                open++;
            }
        }
        lb.assign(acc, step.apply(acc, element.apply(vars)));
        for (int k = 0; k < open; k++) lb.close();
        lb.resume(cut);
        return acc;
    }

    Sx let(Sx x) { return lb.let(x); }

    // ---- types and constants --------------------------------------------------------------------------------------

    /**
     * The body with every unknown dimension of its inputs made a symbol of its own, and its types inferred again: a
     * kernel reads its inputs' sizes at run time anyway, and the symbols let inference carry them through the body
     * (an elementwise op on {@code [a,64]} gives {@code [a,64]}, where {@code [?,64]} gave {@code [?,64]}).
     */
    private static Graph withSymbolicInputDims(Graph body) {
        boolean unknown = false;
        List<Value> inputs = new ArrayList<>();
        for (Value v : body.inputs()) {
            if (v.type() instanceof Type.TensorType t && t.shape() != null
                    && t.shape().dims().stream().anyMatch(d -> d instanceof Dim.Unknown)) {
                List<Dim> dims = new ArrayList<>();
                for (int k = 0; k < t.shape().rank(); k++) {
                    Dim d = t.shape().dim(k);
                    dims.add(d instanceof Dim.Unknown ? Dim.sym(Names.identifier(v.name()) + "_d" + k) : d);
                }
                inputs.add(v.withType(Type.tensor(t.dtype(), new Shape(dims))));
                unknown = true;
            } else {
                inputs.add(v);
            }
        }
        if (!unknown) return body;
        Graph g = new Graph(body.name(), inputs, body.outputs(), body.nodes(), body.initializers());
        try {
            return dev.gale.ir.ShapeInference.run(g);
        } catch (RuntimeException e) {
            throw new NotLowerable("types of the body do not re-infer with sizes for its unknown input dimensions: "
                    + e.getMessage());
        }
    }

    /**
     * The dimensions held by shape operand {@code i} (int64, one dimension): its values when it is a constant, else
     * sizes read from the elements of the kernel input it is.
     */
    private List<Ix> shapeOperand(Node n, int i) {
        String v = n.input(i).name();
        Tensor c = constants.get(v);
        List<Ix> r = new ArrayList<>();
        if (c != null) {
            for (long d : c.toLongArray()) r.add(Ix.lit(d));
            return r;
        }
        Integer b = inputBuffers.get(v);
        List<Ix> len = b == null ? null : buffers.get(b).shape();
        if (b == null || buffers.get(b).type() != DType.INT64 || len.size() != 1 || !(len.getFirst() instanceof Ix.Lit(long k)))
            throw new NotLowerable(n.describe() + ": its shape operand %" + v + " is computed inside the kernel");
        for (int j = 0; j < k; j++) {
            int e = j;
            KernelIR.SizeParam p = sizes.computeIfAbsent("\0" + v + "[" + j + "]",
                    x -> new KernelIR.SizeParam(names.claim(buffers.get(b).name() + "_" + e), b, e, true));
            r.add(new Ix.Size(p.name()));
        }
        return r;
    }

    private static Ix product(List<Ix> dims) {
        Ix p = Ix.ONE;
        for (Ix d : dims) p = Ix.mul(p, d);
        return p;
    }

    private Type.TensorType tensorType(String value) {
        Type.TensorType t = types.get(value);
        if (t == null) throw new NotLowerable("%" + value + " is not a tensor of known type");
        if (t.shape() == null) throw new NotLowerable("%" + value + " has an unknown rank");
        return t;
    }

    /** The dimensions of a value as index expressions: literals and symbolic sizes bound from the inputs. */
    List<Ix> dims(String value) {
        List<Ix> r = dimsOf.get(value);
        if (r != null) return r;
        Shape s = tensorType(value).shape();
        r = new ArrayList<>();
        List<Ix> derived = null;
        for (int k = 0; k < s.rank(); k++) {
            Dim d = s.dim(k);
            if (d instanceof Dim.Unknown || d instanceof Dim.Sym y && !sizes.containsKey(y.name())) {
                // Type inference lost it (a reshape to [16,-1,16] of [16,b,64] has b*4 there); the kernel derives it.
                Node n = producers.get(value);
                if (n == null) throw new NotLowerable("%" + value + " has a dimension of unknown size");
                if (derived == null) derived = derivedDims(n, value);
                r.add(derived.get(k));
            } else {
                r.add(dim(d, value));
            }
        }
        r = List.copyOf(r);
        dimsOf.put(value, r);
        return r;
    }

    /**
     * The dimensions of a node's output computed from its inputs' dimensions, as index expressions, for outputs whose
     * type has unknown dimensions. Covers the ops whose output shape follows from input shapes and constants.
     */
    private List<Ix> derivedDims(Node n, String value) {
        String why = "%" + value + " has a dimension of unknown size";
        if (ScalarOps.supports(n)) {
            List<List<Ix>> ins = new ArrayList<>();
            int rank = 0;
            for (Value v : n.inputs()) {
                if (v.isNone()) continue;
                ins.add(dims(v.name()));
                rank = Math.max(rank, ins.getLast().size());
            }
            List<Ix> r = new ArrayList<>();
            for (int k = 0; k < rank; k++) {
                Set<Ix> seen = new java.util.LinkedHashSet<>();
                for (List<Ix> d : ins) {
                    int i = k - (rank - d.size());
                    if (i >= 0 && !d.get(i).equals(Ix.ONE)) seen.add(d.get(i));
                }
                // Distinct sizes here must be equal (or the graph is invalid), unless one is 1 at run time; the
                // kernel takes them as equal and checks it.
                Ix first = seen.isEmpty() ? Ix.ONE : seen.iterator().next();
                for (Ix d : seen)
                    if (!d.equals(first)) checks.add(new KernelIR.Check(d, first, n.describe() + " does not broadcast"));
                r.add(first);
            }
            return r;
        }
        if (n.op().equals("Identity") || NORMALIZATIONS.contains(n.op()) && n.output(0).name().equals(value))
            return dims(n.input(0).name());
        if (n.qualifiedOp().equals("gale::SliceGrad")) return shapeOperand(n, 1);
        List<Ix> in = n.inputs().isEmpty() ? List.of() : dims(n.input(0).name());
        switch (n.op()) {
            case "Transpose" -> {
                int[] p = perm(n, in.size());
                List<Ix> r = new ArrayList<>();
                for (int k : p) r.add(in.get(k));
                return r;
            }
            case "Reshape" -> {
                long[] shape = constantLongs(n, 1, null);
                boolean allowZero = n.attr("allowzero") instanceof Attr.IntAttr a && a.value() != 0;
                List<Ix> r = new ArrayList<>();
                int infer = -1;
                for (int k = 0; k < shape.length; k++) {
                    if (shape[k] == 0 && !allowZero) r.add(in.get(k));
                    else if (shape[k] == -1) {
                        infer = k;
                        r.add(Ix.ONE);
                    } else r.add(Ix.lit(shape[k]));
                }
                if (infer >= 0) {
                    Ix rest = product(r), total = product(in);
                    Ix q = Ix.div(total, rest);
                    if (!Ix.mul(q, rest).equals(total))
                        checks.add(new KernelIR.Check(Ix.mul(q, rest), total, n.describe() + " divides evenly"));
                    r.set(infer, q);
                }
                return r;
            }
            case "Flatten" -> {
                long a = n.attr("axis") instanceof Attr.IntAttr i ? i.value() : 1;
                int axis = (int) (a < 0 ? a + in.size() : a);
                return List.of(product(in.subList(0, axis)), product(in.subList(axis, in.size())));
            }
            case "Unsqueeze" -> {
                long[] axes = constantLongs(n, 1, null);
                int rank = in.size() + axes.length;
                Set<Integer> at = new HashSet<>();
                for (long a : axes) at.add((int) (a < 0 ? a + rank : a));
                List<Ix> r = new ArrayList<>();
                for (int k = 0, j = 0; k < rank; k++) r.add(at.contains(k) ? Ix.ONE : in.get(j++));
                return r;
            }
            case "Squeeze" -> {
                if (!n.hasInput(1)) throw new NotLowerable(why + " (Squeeze without axes)");
                Set<Integer> at = new HashSet<>();
                for (long a : constantLongs(n, 1, null)) at.add((int) (a < 0 ? a + in.size() : a));
                List<Ix> r = new ArrayList<>();
                for (int k = 0; k < in.size(); k++) if (!at.contains(k)) r.add(in.get(k));
                return r;
            }
            default -> {
                if (REDUCTIONS.contains(n.op()) && n.hasInput(1)) {
                    boolean keep = !(n.attr("keepdims") instanceof Attr.IntAttr k) || k.value() != 0;
                    Set<Integer> at = new HashSet<>();
                    for (long a : constantLongs(n, 1, null)) at.add((int) (a < 0 ? a + in.size() : a));
                    List<Ix> r = new ArrayList<>();
                    for (int k = 0; k < in.size(); k++) {
                        if (!at.contains(k)) r.add(in.get(k));
                        else if (keep) r.add(Ix.ONE);
                    }
                    return r;
                }
                throw new NotLowerable(why);
            }
        }
    }

    private Ix dim(Dim d, String value) {
        return switch (d) {
            case Dim.Fixed f -> Ix.lit(f.size());
            case Dim.Sym s -> {
                KernelIR.SizeParam p = sizes.get(s.name());
                if (p == null)
                    throw new NotLowerable("%" + value + ": symbolic size '" + s.name()
                            + "' is not a dimension of any kernel input");
                yield new Ix.Size(p.name());
            }
            case Dim.Unknown u -> throw new NotLowerable("%" + value + " has a dimension of unknown size");
        };
    }

    private static void supported(DType t, String what) {
        if (!TYPES.contains(t)) throw new NotLowerable(what + ": element type " + t + " is not supported in kernels");
    }

    /** Input {@code i} of {@code n} as constant integers; {@code dflt} when omitted; refused when not constant. */
    long[] constantLongs(Node n, int i, long[] dflt) {
        if (!n.hasInput(i)) return dflt;
        Tensor c = constants.get(n.input(i).name());
        if (c == null)
            throw new NotLowerable(n.describe() + ": input " + i + " (%" + n.input(i).name() + ") must be a constant");
        return c.toLongArray();
    }
}
