package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the simplification passes need to know about ops beyond the op table: purity, effects, identity. */
final class OpFacts {
    private OpFacts() {}

    /** Ops whose result is not a function of their inputs (Dropout draws a mask in training mode). */
    private static final Set<String> IMPURE = Set.of("RandomUniform", "RandomNormal", "RandomUniformLike",
            "RandomNormalLike", "Bernoulli", "Multinomial", "Dropout");

    /** Two-input ops whose operands may be swapped without changing the result, bit for bit. */
    private static final Set<String> COMMUTATIVE = Set.of("Add", "Mul", "And", "Or", "Xor", "Equal", "Max", "Min",
            "Sum", "Mean", "BitwiseAnd", "BitwiseOr", "BitwiseXor");

    /** Whether two nodes with the same op, attributes and inputs may compute different values. */
    static boolean isImpure(Node n) {
        // A body may hold an impure op; bodies are not compared either.
        return (n.domain().isEmpty() && IMPURE.contains(n.op())) || ValueRefs.hasBodies(n);
    }

    /**
     * Whether removing the node could be observed other than through its outputs. ONNX ops are functions; only an
     * op unknown to the op table is kept as a precaution. (Dropping an unused random op changes which numbers later
     * random ops draw, which is not part of any op's meaning.)
     */
    static boolean hasSideEffects(Node n) { return OpTable.lookup(n.domain(), n.op()) == null; }

    /** Identity of a pure node for common subexpression elimination. */
    record Key(String domain, String op, Map<String, Attr> attrs, List<String> inputs, List<Boolean> outputs) {}

    /** The key of a pure node, or null when the node must never be merged with another. */
    static Key key(Node n) {
        if (isImpure(n) || n.outputs().isEmpty()) return null;
        List<String> in = new ArrayList<>();
        for (Value v : n.inputs()) in.add(v.isNone() ? "" : v.name());
        if (n.domain().isEmpty() && COMMUTATIVE.contains(n.op()) && in.size() == 2 && in.get(0).compareTo(in.get(1)) > 0)
            in = List.of(in.get(1), in.get(0));
        List<Boolean> outs = new ArrayList<>();
        for (Value v : n.outputs()) outs.add(!v.isNone());
        return new Key(n.domain(), n.op(), n.attrs(), in, outs);
    }
}
