package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.Sx;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.op.ConvGeometry;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.gale.codegen.kir.Sx.BinOp.*;
import static dev.gale.codegen.kir.Sx.bin;
import static dev.gale.codegen.kir.Sx.cast;

/**
 * Pooling as folds over the window: MaxPool and AveragePool (window geometry from {@link ConvGeometry}, as the
 * interpreter uses it) and their Global forms. A window position in the padding reads a clamped index and does not
 * count: -inf for max, nothing for the sum; AveragePool divides by the positions inside the input, or with
 * {@code count_include_pad} also those in the explicit padding (never those past it that ceil_mode adds).
 * <pre>
 *   p = o * stride + k * dilation - pad_begin     (per spatial axis; o output, k window coordinate)
 * </pre>
 */
final class Pools {
    private Pools() {}

    static Sx window(KernelLowering l, Node n, int output, List<Ix> at) {
        if (output != 0) throw new NotLowerable(n.describe() + ": MaxPool's Indices output is not supported in kernels");
        String x = n.input(0).name();
        List<Ix> in = l.dims(x);
        DType t = l.elementType(x);
        int r = in.size() - 2;
        if (r < 1 || !t.isFloat()) throw new NotLowerable(n.describe() + ": needs a floating-point N x C x spatial input");
        long[] spatial = new long[r];
        for (int a = 0; a < r; a++) {
            if (!(in.get(a + 2) instanceof Ix.Lit(long d)))
                throw new NotLowerable(n.describe() + ": pools over a symbolic spatial size");
            spatial[a] = d;
        }
        ConvGeometry g = ConvGeometry.forward(spatial, ints(n, "kernel_shape"), ints(n, "strides"), ints(n, "dilations"),
                ints(n, "pads"), ConvGeometry.autoPad(string(n, "auto_pad"), NotLowerable::new),
                n.attr("ceil_mode") instanceof Attr.IntAttr c && c.value() != 0, NotLowerable::new);
        List<Ix> window = new ArrayList<>();
        for (long k : g.kernel()) window.add(Ix.lit(k));
        boolean max = n.op().equals("MaxPool");
        boolean includePad = n.attr("count_include_pad") instanceof Attr.IntAttr c && c.value() != 0;
        DType w = DType.FLOAT64;
        Sx sum = l.foldOver(at, window, max ? Sx.c(t, Double.NEGATIVE_INFINITY) : Sx.c(w, 0),
                (acc, v) -> bin(max ? MAX : ADD, acc, v), k -> {
                    List<Ix> src = new ArrayList<>(at.subList(0, 2));
                    Sx valid = null;
                    for (int a = 0; a < r; a++) {
                        Ix p = position(g, a, at.get(a + 2), k.get(a));
                        valid = GuardedReads.and(valid, GuardedReads.inRange(p, Ix.ZERO, Ix.lit(spatial[a])));
                        src.add(Ix.clamp(p, Ix.ZERO, Ix.lit(spatial[a] - 1)));
                    }
                    Sx v = l.valueAt(x, src);
                    if (max) return valid == null ? v : Sx.select(valid, v, Sx.c(t, Double.NEGATIVE_INFINITY));
                    return valid == null ? cast(v, w) : Sx.select(valid, cast(v, w), Sx.c(w, 0));
                });
        if (max) return sum;
        boolean inside = true; // every window position of every output lies inside the input: no padding to count
        for (int a = 0; a < r; a++) {
            long out = g.out()[a];
            inside &= g.padsBegin()[a] == 0 && (out - 1) * g.strides()[a] + (g.kernel()[a] - 1) * g.dilations()[a] < spatial[a];
        }
        if (inside) {
            long size = 1;
            for (long k : g.kernel()) size *= k;
            return l.let(cast(bin(DIV, sum, Sx.c(w, size)), t));
        }
        Sx count = l.foldOver(at, window, Sx.c(w, 0), (acc, v) -> bin(ADD, acc, v), k -> {
            Sx counted = null;
            for (int a = 0; a < r; a++) {
                Ix p = position(g, a, at.get(a + 2), k.get(a));
                counted = GuardedReads.and(counted, includePad
                        ? GuardedReads.inRange(p, Ix.lit(-g.padsBegin()[a]), Ix.lit(spatial[a] + g.padsEnd()[a]))
                        : GuardedReads.inRange(p, Ix.ZERO, Ix.lit(spatial[a])));
            }
            return counted == null ? Sx.c(w, 1) : Sx.select(counted, Sx.c(w, 1), Sx.c(w, 0));
        });
        return l.let(cast(Sx.select(bin(EQ, count, Sx.c(w, 0)), Sx.c(w, 0), bin(DIV, sum, count)), t));
    }

    /** GlobalMaxPool, GlobalAveragePool: a fold over all spatial axes. */
    static Sx global(KernelLowering l, Node n, List<Ix> at) {
        String x = n.input(0).name();
        List<Ix> in = l.dims(x);
        DType t = l.elementType(x);
        if (in.size() < 2 || !t.isFloat()) throw new NotLowerable(n.describe() + ": needs a floating-point N x C input");
        List<Ix> kept = new ArrayList<>(at.subList(0, 2));
        Set<Integer> reduced = new HashSet<>();
        for (int a = 2; a < in.size(); a++) {
            kept.add(null);
            reduced.add(a);
        }
        Folds.Context c = new Folds.Context(l, x, kept, in, reduced, t);
        if (n.op().equals("GlobalMaxPool"))
            return l.fold(c, Sx.c(t, Double.NEGATIVE_INFINITY), (acc, v) -> bin(MAX, acc, v), v -> v);
        DType w = DType.FLOAT64;
        Sx sum = l.fold(c, Sx.c(w, 0), (acc, v) -> bin(ADD, acc, v), v -> cast(v, w));
        return l.let(cast(bin(DIV, sum, cast(c.count(), w)), t));
    }

    private static Ix position(ConvGeometry g, int a, Ix o, Ix k) {
        return Ix.sum(List.of(Ix.mul(o, Ix.lit(g.strides()[a])), Ix.mul(k, Ix.lit(g.dilations()[a])),
                Ix.lit(-g.padsBegin()[a])));
    }

    private static long[] ints(Node n, String name) { return n.attr(name) instanceof Attr.IntsAttr a ? a.values() : null; }

    private static String string(Node n, String name) {
        return n.attr(name) instanceof Attr.StringAttr s ? s.value() : "NOTSET";
    }
}
