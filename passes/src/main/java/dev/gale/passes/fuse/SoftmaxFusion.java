package dev.gale.passes.fuse;

import dev.gale.ir.Attr;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.simplify.Match;
import dev.gale.passes.simplify.Pattern;
import dev.gale.passes.simplify.RewriteRule;
import dev.gale.passes.simplify.Rewriter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.gale.passes.fuse.FusionFacts.Inner.light;
import static dev.gale.passes.simplify.Pattern.any;
import static dev.gale.passes.simplify.Pattern.constant;
import static dev.gale.passes.simplify.Pattern.op;

/**
 * Softmax and log-softmax written out, fused into {@code Softmax} and {@code LogSoftmax} along their axis:
 *
 * <pre>
 * Exp(x) / ReduceSum(Exp(x), [a])                  -> Softmax(x) {axis = a}
 * Exp(x - m) / ReduceSum(Exp(x - m), [a])          -> Softmax(x) {axis = a}      m = ReduceMax(x, [a])
 * x - Log(ReduceSum(Exp(x), [a]))                  -> LogSoftmax(x) {axis = a}
 * (x - m) - Log(ReduceSum(Exp(x - m), [a]))        -> LogSoftmax(x) {axis = a}
 * </pre>
 *
 * Subtracting the maximum changes nothing in exact arithmetic; the fused kernels always subtract it, so a form
 * without it that overflowed to inf / inf now gives the right probabilities instead of NaN.
 *
 * <p>Conditions: x is a float tensor of known rank; the sum (and the max) reduce over the same single constant
 * axis and keep it (keepdims = 1, so the division broadcasts back along that axis only); the two Exp of the
 * division read the same value (one node after CSE, or two equal ones); intermediates disappear or are cheap to
 * recompute.
 */
final class SoftmaxFusion {
    private SoftmaxFusion() {}

    static final List<RewriteRule> RULES;

    static {
        List<RewriteRule> rules = new ArrayList<>();
        Pattern x = any("x");
        Pattern.Op shift = op("Sub", any("x"), op("ReduceMax", any("x"), constant("maxAxes")).as("max")).as("shift");
        for (boolean shifted : List.of(true, false)) {
            Pattern in = shifted ? shift : x;
            Pattern.Op sum = op("ReduceSum", op("Exp", in).as("e2"), constant("axes")).as("sum");
            // e / sum(e)
            rules.add(RewriteRule.of("fuse.softmax", op("Div", op("Exp", in).as("e"), sum),
                    m -> fits(m, shifted, false), (m, r) -> fused(m, r, "Softmax")));
            // x - log(sum(e))
            rules.add(RewriteRule.of("fuse.log-softmax", op("Sub", in, op("Log", sum).as("log")),
                    m -> fits(m, shifted, true), (m, r) -> fused(m, r, "LogSoftmax")));
        }
        RULES = List.copyOf(rules);
    }

    private static List<Value> fused(Match m, Rewriter r, String op) {
        int rank = m.tensorType("x").shape().rank();
        Map<String, Attr> axis = Map.of("axis", Attr.of(FusionFacts.axes(m, "axes", rank)[0]));
        return List.of(r.op(op, List.of(m.value("x")), axis));
    }

    private static boolean fits(Match m, boolean shifted, boolean log) {
        Type.TensorType x = FusionFacts.floatTensor(m, m.value("x"));
        if (x == null) return false;
        int rank = x.shape().rank();
        long[] axes = FusionFacts.axes(m, "axes", rank);
        if (axes == null || axes.length != 1 || FusionFacts.intAttr(m.node("sum"), "keepdims", 1) != 1) return false;
        List<FusionFacts.Inner> inner = new ArrayList<>();
        if (shifted) {
            long[] maxAxes = FusionFacts.axes(m, "maxAxes", rank);
            if (maxAxes == null || maxAxes.length != 1 || maxAxes[0] != axes[0]
                    || FusionFacts.intAttr(m.node("max"), "keepdims", 1) != 1)
                return false;
            inner.add(light(m.node("max"), 1));
            inner.add(light(m.node("shift"), log ? 2 : sameNode(m) ? 1 : 2));
        }
        inner.add(light(m.node("sum"), 1));
        if (log) {
            inner.add(light(m.node("e2"), 1));
            inner.add(light(m.node("log"), 1));
        } else if (sameNode(m)) {
            inner.add(light(m.node("e"), 2));
        } else {
            inner.add(light(m.node("e"), 1));
            inner.add(light(m.node("e2"), 1));
        }
        return FusionFacts.intermediatesOk(m, inner);
    }

    private static boolean sameNode(Match m) { return m.node("e") == m.node("e2"); }
}
