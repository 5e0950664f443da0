package dev.gale.ir.op;

import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Symbolic values of shape computations, so that exported models keep exact shapes through
 * {@code Shape -> Gather -> Unsqueeze -> Concat -> Reshape} chains (ONNX calls this data propagation).
 *
 * <p>A small integer (or bool) tensor of rank 0 or 1 may carry a value: one {@link SymInt} per element, known when
 * the element is, a symbol when it equals a symbolic dimension of some tensor (the {@code batch} that {@code Shape}
 * read), unknown otherwise. Type inference reads it through {@link InferContext#shapeValue}; a value whose elements
 * are all known is also recorded as a constant, so every op's inference sees it through
 * {@link InferContext#constant}. Each rule below computes a node's output 0 from its inputs' values; ops without a
 * rule produce no value. Rules never guess: an element they cannot prove is {@link SymInt#UNKNOWN}. Symbols stand
 * for dimension sizes, so they are never negative (which decides {@code Equal(batch, -1)}).
 */
public final class ShapeValues {
    private ShapeValues() {}

    /** Values longer than this are not tracked; shape vectors are short. */
    static final int MAX_LENGTH = 64;

    private interface Rule {
        List<SymInt> apply(InferContext c);
    }

    private static final Map<String, Rule> RULES = new HashMap<>();

    static {
        RULES.put("Shape", c -> {
            Shape s = c.shape(0);
            if (s == null) return null;
            int r = s.rank();
            long start = c.attrInt("start"), end = c.hasAttr("end") ? c.attrInt("end") : r;
            start = Math.clamp(start < 0 ? start + r : start, 0, r);
            end = Math.clamp(end < 0 ? end + r : end, 0, r);
            List<SymInt> v = new ArrayList<>();
            for (long i = start; i < end; i++) v.add(SymInt.of(s.dim((int) i)));
            return v;
        });
        RULES.put("Size", c -> c.shape(0) == null ? null : List.of(SymInt.of(ShapeOps.product(c.shape(0).dims()))));
        // Ops that keep the elements in order (a scalar and a 1-element vector hold the same value).
        for (String op : List.of("Identity", "Reshape", "Squeeze", "Unsqueeze"))
            RULES.put(op, c -> c.shapeValue(0));
        RULES.put("Cast", ShapeValues::cast);
        RULES.put("Concat", c -> {
            List<SymInt> out = new ArrayList<>();
            for (int i = 0; i < c.numInputs(); i++) {
                List<SymInt> v = c.shapeValue(i);
                if (v == null) return null;
                out.addAll(v);
            }
            return out;
        });
        RULES.put("Gather", ShapeValues::gather);
        RULES.put("Slice", ShapeValues::slice);
        RULES.put("ConstantOfShape", c -> {
            List<SymInt> shape = c.shapeValue(0);
            if (shape == null || shape.size() > 1 || !c.hasAttr("value")) return null;
            Long n = shape.isEmpty() ? Long.valueOf(1) : shape.get(0).value();
            Tensor v = Attrs.asTensor(c.attr("value"), c.node(), "value");
            if (n == null || n < 0 || n > MAX_LENGTH || v.numel() != 1 || !carriesValue(v.dtype())) return null;
            return Collections.nCopies(n.intValue(), SymInt.of(v.getLong(0)));
        });
        // x + 0 and x * 1 keep a symbol; x / 1 too. Division is exact only for non-negative operands.
        RULES.put("Add", c -> zip(c, (a, b) -> a + b, (s, k) -> k == 0 ? s : null));
        RULES.put("Sub", c -> zip(c, (a, b) -> a - b, null));
        RULES.put("Mul", c -> zip(c, (a, b) -> a * b, (s, k) -> k == 1 ? s : null));
        RULES.put("Div", c -> zip(c, (a, b) -> b > 0 && a >= 0 ? a / b : null, null));
        RULES.put("Equal", c -> zip(c, (a, b) -> a == b ? 1L : 0L, (s, k) -> k < 0 ? SymInt.of(0) : null));
        RULES.put("Where", ShapeValues::where);
    }

    /**
     * Computes the value of {@code typed}'s output 0 (when its op has a rule and the output is a small integer or
     * bool tensor of rank 0 or 1) and records it in {@code values}, and in {@code constants} when fully known.
     */
    public static void record(InferContext c, Node typed, Map<String, Tensor> constants,
                              Map<String, List<SymInt>> values) {
        Rule rule = typed.domain().isEmpty() ? RULES.get(typed.op()) : null;
        if (rule == null || typed.outputs().isEmpty() || typed.output(0).isNone()) return;
        if (!(typed.output(0).type() instanceof Type.TensorType t) || !carriesValue(t.dtype())) return;
        Shape s = t.shape();
        if (s == null || s.rank() > 1) return;
        List<SymInt> v;
        try {
            v = rule.apply(c);
        } catch (RuntimeException e) {
            return; // inference has already judged the node; a value is only a refinement
        }
        if (v == null || v.size() > MAX_LENGTH) return;
        boolean scalar = s.rank() == 0;
        if (scalar ? v.size() != 1 : s.dim(0).isFixed() && s.dim(0).sizeOr(0) != v.size()) return;
        // Known elements wrap to the element type's width as the op's arithmetic would (int32 Add, bool Equal).
        Tensor cell = Tensor.zeros(t.dtype());
        List<SymInt> wrapped = new ArrayList<>(v.size());
        for (SymInt e : v) {
            if (!e.isKnown()) {
                wrapped.add(e);
                continue;
            }
            cell.setLong(0, e.value());
            wrapped.add(SymInt.of(cell.getLong(0)));
        }
        v = wrapped;
        String name = typed.output(0).name();
        values.put(name, List.copyOf(v));
        for (SymInt e : v) if (!e.isKnown()) return;
        Tensor folded = Tensor.zeros(t.dtype(), scalar ? new long[0] : new long[] {v.size()});
        for (int i = 0; i < v.size(); i++) folded.setLong(i, v.get(i).value());
        constants.putIfAbsent(name, folded);
    }

    /** uint64 is left out: its values above 2^63 do not fit the signed arithmetic of the rules. */
    static boolean carriesValue(DType t) { return t.isInteger() && t != DType.UINT64 || t == DType.BOOL; }

    /** The value of a constant tensor, when it is a small integer or bool tensor of rank 0 or 1. */
    static List<SymInt> ofConstant(Tensor t) {
        if (t == null || t.rank() > 1 || t.numel() > MAX_LENGTH || !carriesValue(t.dtype())) return null;
        List<SymInt> v = new ArrayList<>(t.numel());
        for (int i = 0; i < t.numel(); i++) v.add(SymInt.of(t.getLong(i)));
        return v;
    }

    /** Known elements convert as the element type does (wrapping, bool as 0/1); sizes survive a cast to int32/int64. */
    private static List<SymInt> cast(InferContext c) {
        List<SymInt> v = c.shapeValue(0);
        if (v == null) return null;
        DType to = DType.fromOnnx((int) c.attrInt("to"));
        if (!carriesValue(to)) return null;
        Tensor cell = Tensor.zeros(to);
        List<SymInt> out = new ArrayList<>(v.size());
        for (SymInt e : v) {
            if (e.isKnown()) {
                cell.setLong(0, e.value());
                out.add(SymInt.of(cell.getLong(0)));
            } else {
                out.add(e.isSymbol() && (to == DType.INT64 || to == DType.INT32) ? e : SymInt.UNKNOWN);
            }
        }
        return out;
    }

    private static List<SymInt> gather(InferContext c) {
        List<SymInt> data = c.shapeValue(0), idx = c.shapeValue(1);
        if (data == null || idx == null || c.shape(0) == null || c.shape(0).rank() != 1) return null;
        List<SymInt> out = new ArrayList<>();
        for (SymInt k : idx) {
            if (!k.isKnown()) return null;
            long j = k.value() < 0 ? k.value() + data.size() : k.value();
            if (j < 0 || j >= data.size()) return null;
            out.add(data.get((int) j));
        }
        return out;
    }

    private static List<SymInt> slice(InferContext c) {
        List<SymInt> data = c.shapeValue(0);
        Tensor starts = c.constant(1), ends = c.constant(2);
        Tensor axes = c.hasInput(3) ? c.constant(3) : null, steps = c.hasInput(4) ? c.constant(4) : null;
        if (data == null || starts == null || ends == null || starts.numel() != 1 || ends.numel() != 1) return null;
        if (c.hasInput(3) && (axes == null || axes.numel() != 1 || axes.getLong(0) != 0 && axes.getLong(0) != -1))
            return null;
        if (c.hasInput(4) && (steps == null || steps.numel() != 1)) return null;
        var s = ShapeMath.slice(data.size(), starts.getLong(0), ends.getLong(0), steps == null ? 1 : steps.getLong(0),
                IllegalArgumentException::new);
        List<SymInt> out = new ArrayList<>();
        for (long i = 0; i < s.count(); i++) out.add(data.get((int) (s.start() + i * s.step())));
        return out;
    }

    private interface LongOp {
        /** The result for two known elements, or null when it is not exact. */
        Long apply(long a, long b);
    }

    private interface SymbolOp {
        /** The result when one operand is the symbol {@code s} and the other the number {@code k}, or null. */
        SymInt apply(SymInt s, long k);
    }

    /** An elementwise integer op with numpy broadcasting of scalars and 1-element vectors. */
    private static List<SymInt> zip(InferContext c, LongOp f, SymbolOp symbolic) {
        List<SymInt> a = c.shapeValue(0), b = c.shapeValue(1);
        if (a == null || b == null) return null;
        int n = Math.max(a.size(), b.size());
        if (a.size() != n && a.size() != 1 || b.size() != n && b.size() != 1) return null;
        List<SymInt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SymInt x = a.get(a.size() == 1 ? 0 : i), y = b.get(b.size() == 1 ? 0 : i);
            SymInt r = null;
            if (x.isKnown() && y.isKnown()) {
                Long v = f.apply(x.value(), y.value());
                r = v == null ? null : SymInt.of(v);
            } else if (symbolic != null && x.isSymbol() && y.isKnown()) {
                r = symbolic.apply(x, y.value());
            } else if (symbolic != null && y.isSymbol() && x.isKnown()) {
                r = symbolic.apply(y, x.value());
            }
            out.add(r == null ? SymInt.UNKNOWN : r);
        }
        return out;
    }

    private static List<SymInt> where(InferContext c) {
        List<SymInt> cond = c.shapeValue(0), x = c.shapeValue(1), y = c.shapeValue(2);
        if (cond == null || x == null || y == null) return null;
        int n = Math.max(cond.size(), Math.max(x.size(), y.size()));
        for (List<SymInt> v : List.of(cond, x, y)) if (v.size() != n && v.size() != 1) return null;
        List<SymInt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SymInt k = cond.get(cond.size() == 1 ? 0 : i);
            out.add(!k.isKnown() ? SymInt.UNKNOWN : k.value() != 0 ? x.get(x.size() == 1 ? 0 : i)
                    : y.get(y.size() == 1 ? 0 : i));
        }
        return out;
    }
}
