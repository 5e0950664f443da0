package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The partly known contents of a small integer tensor computed from shapes: a scalar or a vector whose elements are
 * each known or unknown ({@code null}). PyTorch exports {@code x.view(b, -1, d)} as
 * {@code Concat(Unsqueeze(Gather(Shape(x), 0)), ...)}; when {@code x}'s type fixes some dims, those elements are
 * known even though no input is a constant, which is what shape folding exploits.
 *
 * <p>Propagated through Shape, Size, Gather, Slice, Concat, Unsqueeze, Squeeze, Reshape, Cast, Identity and integer
 * Add/Sub/Mul/Div; anything else is unknown. Every rule here is exact: an element is known only when its value at
 * run time is certain (an out-of-range index or a negative division makes the result unknown, not guessed).
 */
record ShapeData(boolean scalar, Long[] elems) {
    /** Longer vectors are not shapes; leave them to constant folding. */
    private static final int MAX_LENGTH = 64;
    private static final int MAX_DEPTH = 32;

    boolean fullyKnown() {
        for (Long e : elems) if (e == null) return false;
        return true;
    }

    int unknowns() {
        int n = 0;
        for (Long e : elems) if (e == null) n++;
        return n;
    }

    /** The contents of {@code v}, or null when nothing is known about them. */
    static ShapeData of(Value v, GraphView view) { return of(v, view, 0); }

    /** The contents of {@code n}'s first output, computed from its inputs, or null. */
    static ShapeData ofNode(Node n, GraphView view) { return ofNode(n, view, 0); }

    private static ShapeData of(Value v, GraphView view, int depth) {
        if (v.isNone() || depth > MAX_DEPTH) return null;
        Tensor t = view.constant(v);
        if (t != null) {
            if (!t.dtype().isInteger() || t.rank() > 1 || t.numel() > MAX_LENGTH) return null;
            Long[] e = new Long[t.numel()];
            for (int i = 0; i < e.length; i++) e[i] = t.getLong(i);
            return new ShapeData(t.rank() == 0, e);
        }
        Node p = view.producer(v);
        if (p == null || !p.output(0).name().equals(v.name())) return null;
        return ofNode(p, view, depth + 1);
    }

    private static ShapeData ofNode(Node n, GraphView view, int depth) {
        if (!n.domain().isEmpty()) return null;
        return switch (n.op()) {
            case "Shape" -> shape(n, view);
            case "Size" -> size(n, view);
            case "Identity" -> of(n.input(0), view, depth);
            case "Cast" -> cast(n, of(n.input(0), view, depth));
            case "Unsqueeze" -> unsqueeze(of(n.input(0), view, depth), view.constant(n.input(1)));
            case "Squeeze" -> squeeze(of(n.input(0), view, depth), n.hasInput(1) ? view.constant(n.input(1)) : null,
                    n.hasInput(1));
            case "Concat" -> concat(n, view, depth);
            case "Gather" -> gather(n, of(n.input(0), view, depth), view.constant(n.input(1)));
            case "Slice" -> slice(n, of(n.input(0), view, depth), view);
            case "Reshape" -> reshape(of(n.input(0), view, depth), view.constant(n.input(1)));
            case "Add", "Sub", "Mul", "Div" -> view.type(n.output(0)) instanceof Type.TensorType t && t.dtype().isInteger()
                    ? arith(n.op(), of(n.input(0), view, depth), of(n.input(1), view, depth)) : null;
            default -> null;
        };
    }

    private static ShapeData shape(Node n, GraphView view) {
        if (!(view.type(n.input(0)) instanceof Type.TensorType t) || t.shape() == null) return null;
        int rank = t.shape().rank();
        long start = n.attr("start") instanceof Attr.IntAttr s ? s.value() : 0;
        long end = n.attr("end") instanceof Attr.IntAttr e ? e.value() : rank;
        start = Math.clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.clamp(end < 0 ? end + rank : end, 0, rank);
        List<Long> e = new ArrayList<>();
        for (long k = start; k < end; k++) {
            long d = t.shape().dim((int) k).sizeOr(-1);
            e.add(d < 0 ? null : d);
        }
        return new ShapeData(false, e.toArray(Long[]::new));
    }

    private static ShapeData size(Node n, GraphView view) {
        if (!(view.type(n.input(0)) instanceof Type.TensorType t) || t.shape() == null) return null;
        long numel = t.shape().numelOrMinus1();
        for (var d : t.shape().dims()) if (d.sizeOr(-1) == 0) numel = 0;
        return new ShapeData(true, new Long[] {numel < 0 ? null : numel});
    }

    private static ShapeData cast(Node n, ShapeData in) {
        if (in == null || !(n.attr("to") instanceof Attr.IntAttr to)) return null;
        DType t = DType.fromOnnx((int) to.value());
        Long[] e = new Long[in.elems.length];
        for (int i = 0; i < e.length; i++) e[i] = in.elems[i] != null && fits(in.elems[i], t) ? in.elems[i] : null;
        return new ShapeData(in.scalar, e);
    }

    /** Whether {@code x} converts to element type {@code t} and back unchanged (so the value stays known). */
    static boolean fits(long x, DType t) {
        return switch (t) {
            case INT64 -> true;
            case UINT64 -> x >= 0;
            case INT32 -> x >= Integer.MIN_VALUE && x <= Integer.MAX_VALUE;
            case UINT32 -> x >= 0 && x <= 0xffffffffL;
            case INT16 -> x >= Short.MIN_VALUE && x <= Short.MAX_VALUE;
            case UINT16 -> x >= 0 && x <= 0xffff;
            case INT8 -> x >= Byte.MIN_VALUE && x <= Byte.MAX_VALUE;
            case UINT8 -> x >= 0 && x <= 0xff;
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> Math.abs(x) <= 256;
            default -> false;
        };
    }

    private static ShapeData unsqueeze(ShapeData in, Tensor axes) {
        if (in == null || !in.scalar || axes == null || axes.numel() != 1) return null;
        long a = axes.getLong(0);
        return a == 0 || a == -1 ? new ShapeData(false, in.elems) : null;
    }

    private static ShapeData squeeze(ShapeData in, Tensor axes, boolean hasAxes) {
        if (in == null || in.scalar || in.elems.length != 1) return null;
        if (hasAxes && (axes == null || axes.numel() != 1 || (axes.getLong(0) != 0 && axes.getLong(0) != -1)))
            return null;
        return new ShapeData(true, in.elems);
    }

    private static ShapeData concat(Node n, GraphView view, int depth) {
        if (!(n.attr("axis") instanceof Attr.IntAttr axis) || (axis.value() != 0 && axis.value() != -1)) return null;
        List<Long> e = new ArrayList<>();
        for (Value v : n.inputs()) {
            ShapeData d = of(v, view, depth);
            if (d == null || d.scalar) return null;
            e.addAll(Arrays.asList(d.elems));
        }
        return e.size() > MAX_LENGTH ? null : new ShapeData(false, e.toArray(Long[]::new));
    }

    private static ShapeData gather(Node n, ShapeData data, Tensor idx) {
        long axis = n.attr("axis") instanceof Attr.IntAttr a ? a.value() : 0;
        if (data == null || data.scalar || idx == null || !idx.dtype().isInteger() || idx.rank() > 1
                || (axis != 0 && axis != -1))
            return null;
        int len = data.elems.length;
        Long[] e = new Long[idx.numel()];
        for (int i = 0; i < e.length; i++) {
            long k = idx.getLong(i);
            if (k < -len || k >= len) return null;
            e[i] = data.elems[(int) (k < 0 ? k + len : k)];
        }
        return new ShapeData(idx.rank() == 0, e);
    }

    private static ShapeData slice(Node n, ShapeData data, GraphView view) {
        if (data == null || data.scalar) return null;
        Tensor starts = view.constant(n.input(1)), ends = view.constant(n.input(2));
        Tensor axes = n.hasInput(3) ? view.constant(n.input(3)) : null;
        Tensor steps = n.hasInput(4) ? view.constant(n.input(4)) : null;
        if (starts == null || ends == null || starts.numel() != 1 || ends.numel() != 1) return null;
        if (n.hasInput(3) && (axes == null || axes.numel() != 1 || (axes.getLong(0) != 0 && axes.getLong(0) != -1)))
            return null;
        if (n.hasInput(4) && (steps == null || steps.numel() != 1)) return null;
        long len = data.elems.length, step = steps == null ? 1 : steps.getLong(0);
        if (step == 0) return null;
        long s = starts.getLong(0), e = ends.getLong(0);
        if (s < 0) s += len;
        if (e < 0) e += len;
        List<Long> r = new ArrayList<>();
        if (step > 0) {
            s = Math.clamp(s, 0, len);
            e = Math.clamp(e, 0, len);
            for (long k = s; k < e; k += step) r.add(data.elems[(int) k]);
        } else {
            s = Math.clamp(s, 0, len - 1);
            e = Math.clamp(e, -1, len - 1);
            for (long k = s; k > e; k += step) r.add(data.elems[(int) k]);
        }
        return new ShapeData(false, r.toArray(Long[]::new));
    }

    private static ShapeData reshape(ShapeData data, Tensor shape) {
        if (data == null || shape == null || shape.numel() > 1) return null;
        long[] s = shape.toLongArray();
        if (s.length == 0) return data.elems.length == 1 ? new ShapeData(true, data.elems) : null;
        return s[0] == -1 || s[0] == data.elems.length ? new ShapeData(false, data.elems) : null;
    }

    private static ShapeData arith(String op, ShapeData a, ShapeData b) {
        if (a == null || b == null) return null;
        int la = a.elems.length, lb = b.elems.length;
        if (la != lb && la != 1 && lb != 1) return null;
        int len = Math.max(la, lb);
        Long[] e = new Long[len];
        for (int i = 0; i < len; i++) {
            Long x = a.elems[la == 1 ? 0 : i], y = b.elems[lb == 1 ? 0 : i];
            e[i] = x == null || y == null ? null : apply(op, x, y);
        }
        return new ShapeData(a.scalar && b.scalar, e);
    }

    private static Long apply(String op, long x, long y) {
        try {
            return switch (op) {
                case "Add" -> Math.addExact(x, y);
                case "Sub" -> Math.subtractExact(x, y);
                case "Mul" -> Math.multiplyExact(x, y);
                // Truncating and flooring division agree on non-negative operands; shapes need no more.
                default -> x >= 0 && y > 0 ? x / y : null;
            };
        } catch (ArithmeticException e) {
            return null;
        }
    }

    /** The tensor of this data as element type {@code t}; call only when {@link #fullyKnown}. */
    Tensor toTensor(DType t) {
        Tensor r = Tensor.zeros(t, scalar ? new long[0] : new long[] {elems.length});
        for (int i = 0; i < elems.length; i++) r.setLong(i, elems[i]);
        return r;
    }
}
