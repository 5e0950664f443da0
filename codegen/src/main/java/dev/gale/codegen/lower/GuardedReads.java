package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.codegen.kir.Sx.BinOp.*;
import static dev.gale.codegen.kir.Sx.bin;

/**
 * Injective ops whose output element reads an input only under a condition: Pad (constant and edge modes), Concat
 * and gale::SliceGrad. Every read happens (loads are hoisted and computed eagerly), so its coordinates are clamped
 * into the input's range, which makes the read safe; a select then picks the read value where the condition holds:
 * <pre>
 *   pad(x)[c]      = 0 <= c - b < n ? x[clamp(c - b)] : value          (edge mode: x[clamp(c - b)])
 *   concat(x,y)[c] = c < n ? x[clamp(c)] : y[clamp(c - n)]
 *   sliceGrad[c]   = c in start, start + step, ... ? dy[clamp((c - start) / step)] : 0
 * </pre>
 */
final class GuardedReads {
    private GuardedReads() {}

    static Sx pad(KernelLowering l, Node n, List<Ix> at) {
        String mode = n.attr("mode") instanceof Attr.StringAttr s ? s.value() : "constant";
        if (!mode.equals("constant") && !mode.equals("edge"))
            throw new NotLowerable(n.describe() + ": Pad mode '" + mode + "' is not supported in kernels");
        String x = n.input(0).name();
        List<Ix> in = l.dims(x);
        int rank = in.size();
        long[] pads = l.constantLongs(n, 1, null);
        long[] axes = l.constantLongs(n, 3, null);
        if (axes == null) {
            axes = new long[rank];
            for (int k = 0; k < rank; k++) axes[k] = k;
        }
        List<Ix> src = new ArrayList<>(at);
        Sx cond = null;
        for (int j = 0; j < axes.length; j++) {
            int a = (int) (axes[j] < 0 ? axes[j] + rank : axes[j]);
            if (pads[j] == 0 && pads[j + axes.length] == 0) continue;
            Ix c = Ix.add(at.get(a), Ix.lit(-pads[j]));
            if (mode.equals("constant")) cond = and(cond, inRange(c, Ix.ZERO, in.get(a)));
            src.set(a, Ix.clamp(c, Ix.ZERO, Ix.add(in.get(a), Ix.lit(-1))));
        }
        Sx v = l.valueAt(x, src);
        if (cond == null) return v;
        DType t = v.type();
        Sx fill = Sx.c(t, 0);
        if (n.hasInput(2)) {
            String c = n.input(2).name();
            List<Ix> zero = new ArrayList<>();
            for (int k = 0; k < l.dims(c).size(); k++) zero.add(Ix.ZERO);
            fill = l.valueAt(c, zero);
        }
        return l.let(Sx.select(cond, v, fill));
    }

    static Sx concat(KernelLowering l, Node n, List<Ix> at) {
        int rank = at.size();
        long a = n.attr("axis") instanceof Attr.IntAttr i ? i.value() : 0;
        int axis = (int) (a < 0 ? a + rank : a);
        // Within one input's range (a nest over one region, Regions), read just that input.
        long[] c = Ix.bounds(at.get(axis));
        Ix from = Ix.ZERO;
        for (Value v : n.inputs()) {
            Ix len = l.dims(v.name()).get(axis);
            long[] f = Ix.bounds(from), e = Ix.bounds(Ix.add(from, len));
            if (f[1] <= c[0] && c[1] < e[0]) {
                List<Ix> src = new ArrayList<>(at);
                src.set(axis, Ix.add(at.get(axis), Ix.mul(Ix.lit(-1), from)));
                return l.valueAt(v.name(), src);
            }
            from = Ix.add(from, len);
        }
        List<Sx> parts = new ArrayList<>();
        List<Ix> starts = new ArrayList<>();
        Ix offset = Ix.ZERO;
        for (Value v : n.inputs()) {
            Ix len = l.dims(v.name()).get(axis);
            if (len.equals(Ix.ZERO)) continue;
            List<Ix> src = new ArrayList<>(at);
            src.set(axis, Ix.clamp(Ix.add(at.get(axis), Ix.mul(Ix.lit(-1), offset)), Ix.ZERO, Ix.add(len, Ix.lit(-1))));
            parts.add(l.valueAt(v.name(), src));
            starts.add(offset);
            offset = Ix.add(offset, len);
        }
        if (parts.isEmpty()) throw new NotLowerable(n.describe() + ": concatenates only empty tensors");
        Sx r = parts.getLast();
        for (int j = parts.size() - 2; j >= 0; j--)
            r = Sx.select(bin(LT, index(at.get(axis)), index(starts.get(j + 1))), parts.get(j), r);
        return l.let(r);
    }

    /** gale::SliceGrad(dy, shape, starts, ends[, axes[, steps]]): dy where Slice read x, zeros elsewhere. */
    static Sx sliceGrad(KernelLowering l, Node n, List<Ix> at) {
        String dy = n.input(0).name();
        List<Ix> out = l.dims(n.output(0).name()), in = l.dims(dy);
        int rank = out.size();
        long[] starts = l.constantLongs(n, 2, null);
        long[] axes = l.constantLongs(n, 4, null), steps = l.constantLongs(n, 5, null);
        List<Ix> src = new ArrayList<>(at);
        Sx cond = null;
        for (int j = 0; j < starts.length; j++) {
            int a = (int) (axes == null ? j : axes[j] < 0 ? axes[j] + rank : axes[j]);
            long step = steps == null ? 1 : steps[j];
            long start = starts[j];
            if (out.get(a) instanceof Ix.Lit(long dim)) {
                if (start < 0) start += dim;
                start = step > 0 ? Math.clamp(start, 0, dim) : Math.clamp(start, 0, dim - 1);
            } else if (start < 0 || step < 0) {
                // A start past a symbolic end needs no clamping: dy is then empty along the axis and all reads fail
                // the q < len test below. Negative starts and steps need the dimension to normalize them.
                throw new NotLowerable(n.describe() + ": slices a symbolic dimension from its end");
            }
            // Distance from the slice's first element in the slice's direction, and its position in dy.
            Ix d = step > 0 ? Ix.add(at.get(a), Ix.lit(-start)) : Ix.add(Ix.lit(start), Ix.mul(Ix.lit(-1), at.get(a)));
            Ix dn = Ix.max(d, Ix.ZERO), k = Ix.lit(Math.abs(step));
            Ix q = Ix.div(dn, k);
            // Outside the slice for every coordinate of this nest (a region of it, Regions): zero, nothing read.
            if (Ix.bounds(d)[1] < 0 || Ix.bounds(q)[0] >= Ix.bounds(in.get(a))[1])
                return Sx.c(l.elementType(dy), 0);
            cond = and(cond, inRange(d, Ix.ZERO, Ix.lit(Long.MAX_VALUE)));
            if (Math.abs(step) > 1) cond = and(cond, bin(EQ, index(Ix.mod(dn, k)), index(Ix.ZERO)));
            cond = and(cond, inRange(q, Ix.ZERO, in.get(a)));
            src.set(a, Ix.min(q, Ix.add(in.get(a), Ix.lit(-1))));
        }
        Sx v = l.valueAt(dy, src);
        return cond == null ? v : l.let(Sx.select(cond, v, Sx.c(v.type(), 0)));
    }

    /** {@code lo <= c < hi} as a bool, leaving out what the bounds of {@code c} already prove; null if all is. */
    static Sx inRange(Ix c, Ix lo, Ix hi) {
        long[] b = Ix.bounds(c), bl = Ix.bounds(lo), bh = Ix.bounds(hi);
        Sx r = null;
        if (b[0] < bl[1]) r = bin(GE, index(c), index(lo));
        boolean below = c instanceof Ix.Var v && v.extent().equals(hi); // a loop variable is below its extent
        if (!below && (b[1] == Long.MAX_VALUE || b[1] >= bh[0])) r = and(r, bin(LT, index(c), index(hi)));
        return r;
    }

    static Sx and(Sx a, Sx b) { return a == null ? b : b == null ? a : bin(AND, a, b); }

    static Sx index(Ix x) { return x instanceof Ix.Lit(long v) ? Sx.c(DType.INT64, v) : new Sx.Index(x); }
}
