package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.Pattern;
import dev.gale.passes.simplify.RewriteRule;
import dev.gale.passes.simplify.Rewriter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.fuse.FusionFacts.Inner.heavy;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * A pooling of side-by-side windows after a 2-D convolution, folded into it:
 *
 * <pre>
 * MaxPool(Conv | gale::FusedConv (x, w[, b]))     {kernel_shape = strides = k} -> gale::FusedConv {pool = max, pool_kernel = k}
 * AveragePool(Conv | gale::FusedConv (x, w[, b])) {kernel_shape = strides = k} -> gale::FusedConv {pool = average, ...}
 * </pre>
 *
 * so that a backend can pool each block of the convolution's result while it is in cache, instead of writing the
 * whole result (k0 k1 times the pooled size) and reading it back. It runs after the bias and activation fusions, so
 * the activation (which comes before the pooling) is already inside the FusedConv it joins.
 *
 * <p>Conditions: the convolution's result is read only by the pooling (in a training graph the backward pass reads
 * it, so this fires on inference graphs and on forward parts nothing differentiates); it is a float tensor of rank 4
 * (a 2-D convolution); the producer has no pool yet; the pooling's window equals its strides and fits the result, it
 * has no padding (explicit pads zero, auto_pad NOTSET or VALID), dilations 1 and ceil_mode 0 (so AveragePool's
 * count_include_pad does not matter), and MaxPool's Indices output is unused.
 */
final class ConvPoolFusion {
    private ConvPoolFusion() {}

    static final List<RewriteRule> RULES;

    static {
        List<RewriteRule> rules = new ArrayList<>();
        for (String pooling : List.of("MaxPool", "AveragePool"))
            for (Pattern.Op producer : List.of(op("Conv").anyInputs().as("p"),
                    op("FusedConv").anyInputs().domain(GaleOps.DOMAIN).as("p"))) {
                String mode = pooling.equals("MaxPool") ? "max" : "average";
                rules.add(RewriteRule.of("fuse.conv-" + mode + "pool", op(pooling, producer), ConvPoolFusion::fits,
                        (m, r) -> fuse(m, r, mode)));
            }
        RULES = List.copyOf(rules);
    }

    private static boolean fits(Match m) {
        Node pool = m.root(), p = m.node("p");
        if (!m.outputUnused(1)) return false;
        if (p.attr("pool") instanceof Attr.StringAttr s && !s.value().equals("none")) return false;
        Type.TensorType y = FusionFacts.floatTensor(m, p.output(0));
        if (y == null || y.shape() == null || y.shape().rank() != 4) return false;
        long[] kernel = ints(pool, "kernel_shape");
        if (kernel == null || kernel.length != 2 || kernel[0] < 1 || kernel[1] < 1) return false;
        long[] strides = ints(pool, "strides");
        if (strides == null ? kernel[0] != 1 || kernel[1] != 1 : !Arrays.equals(strides, kernel)) return false;
        if (!allEqual(ints(pool, "pads"), 0) || !allEqual(ints(pool, "dilations"), 1)) return false;
        String autoPad = pool.attr("auto_pad") instanceof Attr.StringAttr s ? s.value() : "NOTSET";
        if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) return false;
        if (FusionFacts.intAttr(pool, "ceil_mode", 0) != 0) return false;
        for (int a = 0; a < 2; a++) {
            long d = y.shape().dim(2 + a).sizeOr(-1);
            if (d < kernel[a]) return false; // unknown, or an empty pooling: left to the pooling op's own checks
        }
        return FusionFacts.intermediatesOk(m, List.of(heavy(p, 1)));
    }

    private static List<Value> fuse(Match m, Rewriter r, String mode) {
        Node pool = m.root(), p = m.node("p");
        Map<String, Attr> attrs = new LinkedHashMap<>(p.attrs());
        attrs.put("pool", Attr.of(mode));
        attrs.put("pool_kernel", Attr.of(ints(pool, "kernel_shape")));
        List<Value> out = new ArrayList<>();
        out.add(r.node(GaleOps.DOMAIN, "FusedConv", p.inputs(), attrs, 1).get(0));
        for (int k = 1; k < pool.outputs().size(); k++) out.add(null);
        return out;
    }

    private static long[] ints(Node n, String name) { return n.attr(name) instanceof Attr.IntsAttr a ? a.values() : null; }

    /** Absent, or every value v. */
    private static boolean allEqual(long[] values, long v) {
        if (values == null) return true;
        for (long x : values) if (x != v) return false;
        return true;
    }
}
