package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: shape manipulation (Reshape, Transpose, Concat, Split, Slice, Pad, Resize, ...).
 *
 * <p>Inference reads constant inputs (a Reshape's shape, a Slice's starts) through {@link InferContext#constant} to
 * give static shapes; a symbolic dimension survives where the op passes it through unchanged, and a dimension that
 * depends on a non-constant input becomes unknown. The rank is kept whenever it is known.
 */
final class ShapeOps {
    private ShapeOps() {}

    static void register() {
        define("Reshape").inputs(2).outputs(1).attr("allowzero", 0L).category(INJECTIVE)
                .infer(ShapeOps::reshape).register();
        define("Transpose").inputs(1).outputs(1).optional("perm", Attr.Kind.INTS).category(INJECTIVE)
                .infer(ShapeOps::transpose).register();
        define("Concat").inputs(1, OpSchema.VARIADIC).outputs(1).required("axis", Attr.Kind.INT).category(INJECTIVE)
                .infer(ShapeOps::concat).register();
        define("Split").inputs(1, 2).outputs(1, OpSchema.VARIADIC).attr("axis", 0L)
                .optional("num_outputs", Attr.Kind.INT).category(INJECTIVE).infer(ShapeOps::split).register();
        define("Slice").inputs(3, 5).outputs(1).category(INJECTIVE).infer(ShapeOps::slice).register();
        define("Squeeze").inputs(1, 2).outputs(1).category(INJECTIVE).infer(ShapeOps::squeeze).register();
        define("Unsqueeze").inputs(2).outputs(1).category(INJECTIVE).infer(ShapeOps::unsqueeze).register();
        define("Flatten").inputs(1).outputs(1).attr("axis", 1L).category(INJECTIVE)
                .infer(ShapeOps::flatten).register();
        define("Shape").inputs(1).outputs(1).attr("start", 0L).optional("end", Attr.Kind.INT).category(OPAQUE)
                .infer(ShapeOps::shape).register();
        define("Size").inputs(1).outputs(1).category(OPAQUE)
                .infer(c -> List.of(Type.tensor(DType.INT64, Shape.SCALAR))).register();
        define("ConstantOfShape").inputs(1).outputs(1).optional("value", Attr.Kind.TENSOR).category(OPAQUE)
                .infer(ShapeOps::constantOfShape).register();
        define("Expand").inputs(2).outputs(1).category(BROADCAST).infer(ShapeOps::expand).register();
        define("Tile").inputs(2).outputs(1).category(INJECTIVE).infer(ShapeOps::tile).register();
        define("Pad").inputs(2, 4).outputs(1).attr("mode", "constant").category(INJECTIVE)
                .infer(ShapeOps::pad).register();
        define("Range").inputs(3).outputs(1).category(OPAQUE).infer(ShapeOps::range).register();
        define("Trilu").inputs(1, 2).outputs(1).attr("upper", 1L).category(INJECTIVE).infer(c -> {
            Shape s = c.shape(0);
            if (s != null && s.rank() < 2) throw c.error("Trilu needs a tensor of rank >= 2, got " + s);
            return List.of(c.inputType(0));
        }).register();
        define("DepthToSpace").inputs(1).outputs(1).required("blocksize", Attr.Kind.INT).attr("mode", "DCR")
                .category(INJECTIVE).infer(c -> spaceDepth(c, true)).register();
        define("SpaceToDepth").inputs(1).outputs(1).required("blocksize", Attr.Kind.INT).category(INJECTIVE)
                .infer(c -> spaceDepth(c, false)).register();
        define("EyeLike").inputs(1).outputs(1).optional("dtype", Attr.Kind.INT).attr("k", 0L).category(INJECTIVE)
                .infer(ShapeOps::eyeLike).register();
        define("CenterCropPad").inputs(2).outputs(1).optional("axes", Attr.Kind.INTS).category(INJECTIVE)
                .infer(ShapeOps::centerCropPad).register();
        define("Col2Im").inputs(3).outputs(1).optional("dilations", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS).category(OPAQUE)
                .infer(ShapeOps::col2im).register();
        define("Resize").inputs(1, 4).outputs(1).attr("antialias", 0L).optional("axes", Attr.Kind.INTS)
                .attr("coordinate_transformation_mode", "half_pixel").attr("cubic_coeff_a", -0.75f)
                .attr("exclude_outside", 0L).attr("extrapolation_value", 0f)
                .attr("keep_aspect_ratio_policy", "stretch").attr("mode", "nearest")
                .attr("nearest_mode", "round_prefer_floor").category(INJECTIVE).infer(ShapeOps::resize).register();
        define("Upsample").inputs(2).outputs(1).attr("mode", "nearest").category(INJECTIVE)
                .infer(ShapeOps::upsample).register();
    }

    // ---- dimension arithmetic shared with IndexingOps ----

    /** {@code a * b}: exact when both are fixed, the other operand when one is 1, 0 when one is 0, else unknown. */
    static Dim mul(Dim a, Dim b) {
        if (a.equals(Dim.of(0)) || b.equals(Dim.of(0))) return Dim.of(0);
        if (a.equals(Dim.of(1))) return b;
        if (b.equals(Dim.of(1))) return a;
        if (a.isFixed() && b.isFixed()) return Dim.of(a.sizeOr(0) * b.sizeOr(0));
        return Dim.UNKNOWN;
    }

    static Dim product(List<Dim> dims) {
        Dim acc = Dim.of(1);
        for (Dim d : dims) acc = mul(acc, d);
        return acc;
    }

    /** {@code d + delta} for a padding or cropping amount. */
    static Dim plus(Dim d, long delta, InferContext c) {
        if (delta == 0) return d;
        if (!d.isFixed()) return Dim.UNKNOWN;
        long v = d.sizeOr(0) + delta;
        if (v < 0) throw c.error("dimension " + d + " becomes negative (" + v + ")");
        return Dim.of(v);
    }

    static List<Dim> unknownDims(int rank) {
        List<Dim> d = new ArrayList<>(rank);
        for (int i = 0; i < rank; i++) d.add(Dim.UNKNOWN);
        return d;
    }

    /** A shape of {@code n} unknown dimensions where {@code n} is the static length of 1-D input {@code i}. */
    static Shape unknownOfLength(InferContext c, int i, int extra) {
        Shape s = c.shape(i);
        if (s == null || s.rank() != 1 || !s.dim(0).isFixed()) return null;
        return new Shape(unknownDims((int) s.dim(0).sizeOr(0) + extra));
    }

    /** The values of constant input {@code i} as longs, or null when it is not constant. */
    static long[] longs(InferContext c, int i) {
        Tensor t = c.constant(i);
        return t == null ? null : t.toLongArray();
    }

    /** The input's shape with dims in {@code axes} replaced by unknown; null when the rank is unknown. */
    static Shape unknownAt(Shape s, int[] axes) {
        if (s == null) return null;
        List<Dim> d = new ArrayList<>(s.dims());
        for (int a : axes) d.set(a, Dim.UNKNOWN);
        return new Shape(d);
    }

    static int[] allAxes(int rank) {
        int[] a = new int[rank];
        for (int i = 0; i < rank; i++) a[i] = i;
        return a;
    }

    // ---- inference rules ----

    private static List<Type> reshape(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        List<SymInt> spec = c.shapeValue(1);
        if (spec == null) return List.of(Type.tensor(t, unknownOfLength(c, 1, 0)));
        boolean allowZero = c.attrInt("allowzero") != 0;
        long[] known = longs(c, 1);
        if (known != null && in != null && in.isStatic())
            return List.of(Type.tensor(t, Shape.of(ShapeMath.reshape(in.sizes(), known, allowZero, c::error))));
        List<Dim> out = new ArrayList<>();
        int infer = -1;
        boolean unknownEntry = false;
        for (int i = 0; i < spec.size(); i++) {
            SymInt e = spec.get(i);
            if (!e.isKnown()) {
                // A symbol is a dimension size; an unknown entry could even be 0 or -1.
                unknownEntry |= !e.isSymbol();
                out.add(e.asDim());
                continue;
            }
            long v = e.value();
            if (v == -1) {
                if (infer >= 0) throw c.error("shape " + spec + " has more than one -1");
                infer = i;
                out.add(Dim.UNKNOWN);
            } else if (v < -1) {
                throw c.error("shape " + spec + " has invalid dimension " + v);
            } else if (v == 0 && !allowZero) {
                if (in != null && i >= in.rank())
                    throw c.error("shape " + spec + " copies dimension " + i + " but the input " + in + " has rank "
                            + in.rank());
                out.add(in == null ? Dim.UNKNOWN : in.dim(i));
            } else {
                out.add(Dim.of(v));
            }
        }
        if (infer >= 0 && in != null && !unknownEntry) {
            List<Dim> others = new ArrayList<>(out);
            others.remove(infer);
            out.set(infer, quotient(in.dims(), others, c));
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    /** The dims a shape operand describes (symbols kept), or null when nothing is known about it. */
    static List<Dim> shapeOperand(InferContext c, int i) {
        List<SymInt> v = c.shapeValue(i);
        if (v == null) return null;
        List<Dim> dims = new ArrayList<>(v.size());
        for (SymInt e : v) {
            if (e.isKnown() && e.value() < 0) throw c.error("shape " + v + " has a negative dimension");
            dims.add(e.asDim());
        }
        return dims;
    }

    /**
     * The dimension {@code -1} stands for: the input's element count divided by the other output dimensions, with
     * symbols cancelling ({@code [batch,3,4] -> [batch,-1]} gives 12). Unknown when it cannot be proved.
     */
    private static Dim quotient(List<Dim> in, List<Dim> others, InferContext c) {
        Map<String, Integer> syms = new HashMap<>();
        long inFixed = 1, outFixed = 1;
        for (Dim d : in) {
            if (d instanceof Dim.Sym s) syms.merge(s.name(), 1, Integer::sum);
            else if (d.isFixed()) inFixed *= d.sizeOr(0);
            else return Dim.UNKNOWN;
        }
        for (Dim d : others) {
            if (d instanceof Dim.Sym s) {
                Integer n = syms.get(s.name());
                if (n == null) return Dim.UNKNOWN;
                if (n == 1) syms.remove(s.name());
                else syms.put(s.name(), n - 1);
            } else if (d.isFixed()) {
                outFixed *= d.sizeOr(0);
            } else {
                return Dim.UNKNOWN;
            }
        }
        if (inFixed == 0 || outFixed == 0) return Dim.UNKNOWN;
        if (syms.isEmpty()) {
            if (inFixed % outFixed != 0)
                throw c.error("cannot reshape " + in + " to " + others + " with one -1 dimension");
            return Dim.of(inFixed / outFixed);
        }
        if (syms.size() == 1 && syms.values().iterator().next() == 1 && inFixed == outFixed)
            return Dim.sym(syms.keySet().iterator().next());
        return Dim.UNKNOWN;
    }

    private static List<Type> transpose(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        long[] perm = c.hasAttr("perm") ? c.attrInts("perm") : null;
        if (in == null) return List.of(Type.tensor(t, perm == null ? null : new Shape(unknownDims(perm.length))));
        int r = in.rank();
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        }
        if (perm.length != r) throw c.error("perm " + Arrays.toString(perm) + " does not match rank " + r);
        boolean[] seen = new boolean[r];
        List<Dim> out = new ArrayList<>();
        for (long p : perm) {
            if (p < 0 || p >= r || seen[(int) p]) throw c.error("perm " + Arrays.toString(perm) + " is not a permutation");
            seen[(int) p] = true;
            out.add(in.dim((int) p));
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    /** Two dimensions that must be equal at run time: a fixed size beats a symbol, a symbol beats unknown. */
    static Dim same(Dim a, Dim b, InferContext c, String what) {
        if (a.isFixed() && b.isFixed() && !a.equals(b)) throw c.error(what + ": dimensions " + a + " and " + b + " differ");
        if (a.isFixed()) return a;
        if (b.isFixed()) return b;
        return a instanceof Dim.Sym ? a : b;
    }

    private static List<Type> concat(InferContext c) {
        DType t = c.dtype(0);
        Shape ref = null;
        for (int i = 0; i < c.numInputs(); i++) {
            if (c.dtype(i) != t) throw c.error("input " + i + " has element type " + c.dtype(i) + ", input 0 " + t);
            if (ref == null) ref = c.shape(i);
        }
        if (ref == null) return List.of(Type.unranked(t));
        int r = ref.rank();
        int axis = Infer.axis(c.attrInt("axis"), r, c);
        List<Dim> out = new ArrayList<>(ref.dims());
        Dim sum = Dim.of(0);
        for (int i = 0; i < c.numInputs(); i++) {
            Shape s = c.shape(i);
            if (s == null) {
                sum = Dim.UNKNOWN;
                continue;
            }
            if (s.rank() != r) throw c.error("input " + i + " has shape " + s + ", input 0 " + ref + " (ranks differ)");
            for (int k = 0; k < r; k++)
                if (k != axis) out.set(k, same(out.get(k), s.dim(k), c, "input " + i + " axis " + k));
            Dim d = s.dim(axis);
            sum = sum.isFixed() && d.isFixed() ? Dim.of(sum.sizeOr(0) + d.sizeOr(0))
                    : sum.equals(Dim.of(0)) ? d : d.equals(Dim.of(0)) ? sum : Dim.UNKNOWN;
        }
        out.set(axis, sum);
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> split(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        int n = c.numOutputs();
        if (c.hasAttr("num_outputs") && c.attrInt("num_outputs") != n)
            throw c.error("num_outputs is " + c.attrInt("num_outputs") + " but the node has " + n + " outputs");
        if (in == null) return Infer.repeat(Type.unranked(t), n);
        int axis = Infer.axis(c.attrInt("axis"), in.rank(), c);
        Dim dim = in.dim(axis);
        Dim[] parts = new Dim[n];
        if (c.hasInput(1)) {
            long[] split = longs(c, 1);
            if (split == null) {
                Arrays.fill(parts, Dim.UNKNOWN);
            } else {
                if (split.length != n) throw c.error("split has " + split.length + " sizes for " + n + " outputs");
                long total = 0;
                for (int i = 0; i < n; i++) {
                    if (split[i] < 0) throw c.error("split " + Arrays.toString(split) + " has a negative size");
                    parts[i] = Dim.of(split[i]);
                    total += split[i];
                }
                if (dim.isFixed() && total != dim.sizeOr(0))
                    throw c.error("split " + Arrays.toString(split) + " sums to " + total + ", not " + dim);
            }
        } else if (dim.isFixed()) {
            long[] sizes = ShapeMath.equalSplit(dim.sizeOr(0), n, c::error);
            for (int i = 0; i < n; i++) parts[i] = Dim.of(sizes[i]);
        } else {
            Arrays.fill(parts, n == 1 ? dim : Dim.UNKNOWN);
        }
        List<Type> out = new ArrayList<>(n);
        for (Dim p : parts) {
            List<Dim> d = new ArrayList<>(in.dims());
            d.set(axis, p);
            out.add(Type.tensor(t, new Shape(d)));
        }
        return out;
    }

    private static List<Type> slice(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        if (in == null) return List.of(Type.unranked(t));
        int r = in.rank();
        List<SymInt> starts = c.shapeValue(1), ends = c.shapeValue(2);
        List<SymInt> steps = c.hasInput(4) ? c.shapeValue(4) : null;
        long[] axesIn = c.hasInput(3) ? longs(c, 3) : null;
        if (c.hasInput(3) && axesIn == null) return List.of(Type.tensor(t, new Shape(unknownDims(r))));
        int n = starts != null ? starts.size() : ends != null ? ends.size() : axesIn != null ? axesIn.length : -1;
        if (n < 0) return List.of(Type.tensor(t, new Shape(unknownDims(r))));
        int[] axes = axesIn == null ? allAxes(n) : ShapeMath.axes(axesIn, r, c::error);
        if (axesIn == null && n > r) throw c.error("Slice has " + n + " starts for rank " + r);
        if (starts == null || ends == null || steps == null && c.hasInput(4))
            return List.of(Type.tensor(t, unknownAt(in, axes)));
        if (ends.size() != n || starts.size() != n || axes.length != n || steps != null && steps.size() != n)
            throw c.error("starts, ends, axes and steps must have the same length");
        List<Dim> out = new ArrayList<>(in.dims());
        for (int i = 0; i < n; i++) {
            SymInt step = steps == null ? SymInt.of(1) : steps.get(i), start = starts.get(i), end = ends.get(i);
            if (step.equals(SymInt.of(0))) throw c.error("slice step must not be 0");
            out.set(axes[i], sliced(in.dim(axes[i]), start, end, step, c));
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    /** The length of one sliced axis; a dynamic axis keeps its size only for provably whole slices. */
    private static Dim sliced(Dim d, SymInt start, SymInt end, SymInt step, InferContext c) {
        boolean known = start.isKnown() && end.isKnown() && step.isKnown();
        if (known && d.isFixed())
            return Dim.of(ShapeMath.slice(d.sizeOr(0), start.value(), end.value(), step.value(), c::error).count());
        if (d.isFixed() || !step.isKnown()) return Dim.UNKNOWN;
        long s = step.value();
        // [0:] or [0:n] of an axis of size n, and [::-1].
        boolean whole = s == 1 && start.equals(SymInt.of(0))
                && (end.isKnown() && end.value() >= Integer.MAX_VALUE || end.isSymbol() && end.asDim().equals(d))
                || s == -1 && start.isKnown() && (start.value() == -1 || start.value() >= Integer.MAX_VALUE)
                && end.isKnown() && end.value() <= -(long) Integer.MAX_VALUE;
        return whole ? d : Dim.UNKNOWN;
    }

    private static List<Type> squeeze(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        if (!c.hasInput(1)) {
            if (in == null) return List.of(Type.unranked(t));
            List<Dim> out = new ArrayList<>();
            for (Dim d : in.dims()) {
                if (!d.isFixed()) return List.of(Type.unranked(t));
                if (!d.equals(Dim.of(1))) out.add(d);
            }
            return List.of(Type.tensor(t, new Shape(out)));
        }
        long[] axesIn = longs(c, 1);
        if (in == null) return List.of(Type.unranked(t));
        if (axesIn == null) {
            Shape k = c.shape(1);
            boolean len = k != null && k.rank() == 1 && k.dim(0).isFixed();
            return List.of(Type.tensor(t, len ? new Shape(unknownDims(in.rank() - (int) k.dim(0).sizeOr(0))) : null));
        }
        int[] axes = ShapeMath.axes(axesIn, in.rank(), c::error);
        boolean[] drop = new boolean[in.rank()];
        for (int a : axes) {
            Dim d = in.dim(a);
            if (d.isFixed() && !d.equals(Dim.of(1))) throw c.error("cannot squeeze axis " + a + " of size " + d);
            drop[a] = true;
        }
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < in.rank(); i++) if (!drop[i]) out.add(in.dim(i));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> unsqueeze(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        long[] axesIn = longs(c, 1);
        if (in == null) return List.of(Type.unranked(t));
        if (axesIn == null) return List.of(Type.tensor(t, unknownOfLength(c, 1, in.rank())));
        int r = in.rank() + axesIn.length;
        int[] axes = ShapeMath.axes(axesIn, r, c::error);
        boolean[] inserted = new boolean[r];
        for (int a : axes) inserted[a] = true;
        List<Dim> out = new ArrayList<>(r);
        int k = 0;
        for (int i = 0; i < r; i++) out.add(inserted[i] ? Dim.of(1) : in.dim(k++));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> flatten(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        if (in == null) return List.of(Type.tensor(t, new Shape(unknownDims(2))));
        int r = in.rank();
        long axis = c.attrInt("axis");
        if (axis < -r || axis > r) throw c.error("axis " + axis + " is out of range [" + -r + ", " + r + "]");
        int a = (int) (axis < 0 ? axis + r : axis);
        return List.of(Type.tensor(t, Shape.of(product(in.dims().subList(0, a)), product(in.dims().subList(a, r)))));
    }

    private static List<Type> shape(InferContext c) {
        Shape in = c.shape(0);
        if (in == null) return List.of(Type.tensor(DType.INT64, Shape.of(Dim.UNKNOWN)));
        int r = in.rank();
        long start = c.attrInt("start"), end = c.hasAttr("end") ? c.attrInt("end") : r;
        start = Math.clamp(start < 0 ? start + r : start, 0, r);
        end = Math.clamp(end < 0 ? end + r : end, 0, r);
        return List.of(Type.tensor(DType.INT64, Math.max(0, end - start)));
    }

    private static List<Type> constantOfShape(InferContext c) {
        DType t = DType.FLOAT32;
        if (c.hasAttr("value")) {
            Tensor v = Attrs.asTensor(c.attr("value"), c.node(), "value");
            if (v.numel() != 1) throw c.error("value must hold exactly one element, has " + v.numel());
            t = v.dtype();
        }
        List<Dim> shape = shapeOperand(c, 0);
        return List.of(Type.tensor(t, shape == null ? unknownOfLength(c, 0, 0) : new Shape(shape)));
    }

    private static List<Type> expand(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        List<Dim> shape = shapeOperand(c, 1);
        if (shape != null) return List.of(Type.tensor(t, in == null ? null : Infer.broadcast(in, new Shape(shape), c)));
        Shape len = unknownOfLength(c, 1, 0);
        if (in == null || len == null) return List.of(Type.unranked(t));
        // A fixed input dimension other than 1 is the output dimension whatever the shape operand holds.
        int r = Math.max(in.rank(), len.rank());
        List<Dim> out = unknownDims(r);
        for (int k = 0; k < in.rank(); k++) {
            Dim d = in.dim(k);
            if (d.isFixed() && !d.equals(Dim.of(1))) out.set(k + r - in.rank(), d);
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> tile(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        long[] reps = longs(c, 1);
        if (in == null) return List.of(Type.unranked(t));
        if (reps == null) return List.of(Type.tensor(t, new Shape(unknownDims(in.rank()))));
        if (reps.length != in.rank())
            throw c.error("repeats " + Arrays.toString(reps) + " must have one entry per axis of " + in);
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < reps.length; i++) {
            if (reps[i] < 0) throw c.error("repeats " + Arrays.toString(reps) + " has a negative entry");
            out.add(mul(in.dim(i), Dim.of(reps[i])));
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> pad(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        String mode = c.attrString("mode");
        if (!List.of("constant", "reflect", "edge", "wrap").contains(mode))
            throw c.error("unknown mode '" + mode + "' (expected constant, reflect, edge or wrap)");
        if (in == null) return List.of(Type.unranked(t));
        int r = in.rank();
        long[] axesIn = c.hasInput(3) ? longs(c, 3) : null;
        if (c.hasInput(3) && axesIn == null) return List.of(Type.tensor(t, new Shape(unknownDims(r))));
        int[] axes = axesIn == null ? allAxes(r) : ShapeMath.axes(axesIn, r, c::error);
        long[] pads = longs(c, 1);
        if (pads == null) return List.of(Type.tensor(t, unknownAt(in, axes)));
        if (pads.length != 2 * axes.length)
            throw c.error("pads has " + pads.length + " entries, expected " + 2 * axes.length);
        List<Dim> out = new ArrayList<>(in.dims());
        for (int i = 0; i < axes.length; i++)
            out.set(axes[i], plus(in.dim(axes[i]), pads[i] + pads[i + axes.length], c));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> range(InferContext c) {
        DType t = c.dtype(0);
        for (int i = 0; i < 3; i++) {
            if (c.dtype(i) != t) throw c.error("start, limit and delta must have the same element type");
            Shape s = c.shape(i);
            if (s != null && s.numelOrMinus1() != 1 && s.isStatic())
                throw c.error("input " + i + " must be a scalar, has shape " + s);
        }
        Tensor start = c.constant(0), limit = c.constant(1), delta = c.constant(2);
        if (start == null || limit == null || delta == null) {
            // Range(0, n, 1) has n elements, also when n is a symbolic size.
            List<SymInt> s0 = c.shapeValue(0), n = c.shapeValue(1), d = c.shapeValue(2);
            boolean counts = s0 != null && d != null && n != null && s0.size() == 1 && d.size() == 1 && n.size() == 1
                    && n.get(0).isSymbol()
                    && s0.getFirst().equals(SymInt.of(0)) && d.getFirst().equals(SymInt.of(1));
            return List.of(Type.tensor(t, Shape.of(counts ? n.get(0).asDim() : Dim.UNKNOWN)));
        }
        long n = t.isFloat()
                ? ShapeMath.rangeCount(start.getDouble(0), limit.getDouble(0), delta.getDouble(0), c::error)
                : ShapeMath.rangeCount(start.getLong(0), limit.getLong(0), delta.getLong(0), c::error);
        return List.of(Type.tensor(t, n));
    }

    private static List<Type> spaceDepth(InferContext c, boolean toSpace) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        long b = c.attrInt("blocksize");
        if (b <= 0) throw c.error("blocksize must be positive, is " + b);
        if (toSpace && !List.of("DCR", "CRD").contains(c.attrString("mode")))
            throw c.error("mode must be DCR or CRD, is '" + c.attrString("mode") + "'");
        if (in == null) return List.of(Type.tensor(t, new Shape(unknownDims(4))));
        if (in.rank() != 4) throw c.error("input must have rank 4 (N, C, H, W), has shape " + in);
        Dim n = in.dim(0), ch = in.dim(1), h = in.dim(2), w = in.dim(3);
        Shape out = toSpace
                ? Shape.of(n, divide(ch, b * b, c), mul(h, Dim.of(b)), mul(w, Dim.of(b)))
                : Shape.of(n, mul(ch, Dim.of(b * b)), divide(h, b, c), divide(w, b, c));
        return List.of(Type.tensor(t, out));
    }

    private static Dim divide(Dim d, long by, InferContext c) {
        if (by == 1) return d;
        if (!d.isFixed()) return Dim.UNKNOWN;
        if (d.sizeOr(0) % by != 0) throw c.error("dimension " + d + " is not divisible by " + by);
        return Dim.of(d.sizeOr(0) / by);
    }

    private static List<Type> eyeLike(InferContext c) {
        DType t = c.hasAttr("dtype") ? DType.fromOnnx((int) c.attrInt("dtype")) : c.dtype(0);
        Shape in = c.shape(0);
        if (in != null && in.rank() != 2) throw c.error("input must be 2-D, has shape " + in);
        return List.of(Type.tensor(t, in == null ? new Shape(unknownDims(2)) : in));
    }

    private static List<Type> centerCropPad(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        if (in == null) return List.of(Type.unranked(t));
        int[] axes = c.hasAttr("axes") ? ShapeMath.axes(c.attrInts("axes"), in.rank(), c::error) : allAxes(in.rank());
        long[] shape = longs(c, 1);
        if (shape == null) return List.of(Type.tensor(t, unknownAt(in, axes)));
        if (shape.length != axes.length)
            throw c.error("shape has " + shape.length + " entries for " + axes.length + " axes");
        List<Dim> out = new ArrayList<>(in.dims());
        for (int i = 0; i < axes.length; i++) {
            if (shape[i] < 0) throw c.error("shape " + Arrays.toString(shape) + " has a negative entry");
            out.set(axes[i], Dim.of(shape[i]));
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> col2im(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        if (in != null && in.rank() != 3) throw c.error("input must have rank 3 (N, C*prod(block), L), has " + in);
        long[] image = longs(c, 1), block = longs(c, 2);
        if (image == null) {
            Shape s = unknownOfLength(c, 1, 2);
            return List.of(Type.tensor(t, s));
        }
        List<Dim> out = new ArrayList<>();
        out.add(in == null ? Dim.UNKNOWN : in.dim(0));
        Dim ch = Dim.UNKNOWN;
        if (block != null && in != null) {
            long prod = 1;
            for (long b : block) prod *= b;
            if (prod <= 0) throw c.error("block_shape must be positive");
            ch = divide(in.dim(1), prod, c);
        }
        out.add(ch);
        for (long d : image) out.add(Dim.of(d));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> resize(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        String mode = c.attrString("mode");
        if (!List.of("nearest", "linear", "cubic").contains(mode))
            throw c.error("unknown mode '" + mode + "' (expected nearest, linear or cubic)");
        String coord = c.attrString("coordinate_transformation_mode");
        if (!List.of("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                "tf_crop_and_resize").contains(coord))
            throw c.error("unknown coordinate_transformation_mode '" + coord + "'");
        if (!List.of("round_prefer_floor", "round_prefer_ceil", "floor", "ceil").contains(c.attrString("nearest_mode")))
            throw c.error("unknown nearest_mode '" + c.attrString("nearest_mode") + "'");
        if (c.attrInt("antialias") != 0 && mode.equals("nearest"))
            throw c.error("antialias is defined for linear and cubic modes only");
        String policy = c.attrString("keep_aspect_ratio_policy");
        if (!List.of("stretch", "not_larger", "not_smaller").contains(policy))
            throw c.error("unknown keep_aspect_ratio_policy '" + policy + "'");
        if (in == null) return List.of(Type.unranked(t));
        int r = in.rank();
        int[] axes = c.hasAttr("axes") ? ShapeMath.axes(c.attrInts("axes"), r, c::error) : allAxes(r);
        Tensor scales = c.hasInput(2) ? c.constant(2) : null, sizes = c.hasInput(3) ? c.constant(3) : null;
        if (!c.hasInput(2) && !c.hasInput(3)) throw c.error("one of scales and sizes must be given");
        if (scales != null && scales.numel() > 0 && sizes != null && sizes.numel() > 0)
            throw c.error("only one of scales and sizes may be given");
        List<Dim> out = new ArrayList<>(in.dims());
        if (sizes != null && sizes.numel() > 0) {
            long[] s = sizes.toLongArray();
            if (s.length != axes.length) throw c.error("sizes has " + s.length + " entries for " + axes.length + " axes");
            if (policy.equals("stretch")) {
                for (int i = 0; i < axes.length; i++) out.set(axes[i], Dim.of(s[i]));
            } else {
                // The aspect-ratio policies rescale every axis by one factor, which needs every size.
                long[] dims = new long[axes.length];
                for (int i = 0; i < axes.length; i++) {
                    if (!in.dim(axes[i]).isFixed()) return List.of(Type.tensor(t, unknownAt(in, axes)));
                    dims[i] = in.dim(axes[i]).sizeOr(0);
                }
                long[] o = ResizeMath.aspectSizes(dims, s, policy);
                for (int i = 0; i < axes.length; i++) out.set(axes[i], Dim.of(o[i]));
            }
        } else if (scales != null && scales.numel() > 0) {
            if (scales.numel() != axes.length)
                throw c.error("scales has " + scales.numel() + " entries for " + axes.length + " axes");
            for (int i = 0; i < axes.length; i++) {
                double s = scales.getDouble(i);
                if (!(s > 0)) throw c.error("scales must be positive, got " + s);
                Dim d = in.dim(axes[i]);
                out.set(axes[i], s == 1 ? d : d.isFixed() ? Dim.of(ResizeMath.scaledSize(d.sizeOr(0), s)) : Dim.UNKNOWN);
            }
        } else {
            return List.of(Type.tensor(t, unknownAt(in, axes)));
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> upsample(InferContext c) {
        DType t = c.dtype(0);
        Shape in = c.shape(0);
        if (!List.of("nearest", "linear").contains(c.attrString("mode")))
            throw c.error("unknown mode '" + c.attrString("mode") + "' (expected nearest or linear)");
        if (in == null) return List.of(Type.unranked(t));
        Tensor scales = c.constant(1);
        if (scales == null) return List.of(Type.tensor(t, new Shape(unknownDims(in.rank()))));
        if (scales.numel() != in.rank()) throw c.error("scales has " + scales.numel() + " entries for rank " + in.rank());
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < in.rank(); i++) {
            double s = scales.getDouble(i);
            if (!(s >= 1)) throw c.error("Upsample scales must be >= 1, got " + s);
            Dim d = in.dim(i);
            out.add(s == 1 ? d : d.isFixed() ? Dim.of(ResizeMath.scaledSize(d.sizeOr(0), s)) : Dim.UNKNOWN);
        }
        return List.of(Type.tensor(t, new Shape(out)));
    }
}
