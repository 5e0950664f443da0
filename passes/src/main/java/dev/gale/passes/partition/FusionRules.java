package dev.gale.passes.partition;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What fusion partitioning knows about a single node: its kind (the op table's fusion category, made opaque where
 * the node cannot live in a kernel body), whether recomputing it is cheap, and whether two values provably have the
 * same shape. The partitioner reads nothing else about ops.
 */
final class FusionRules {
    private FusionRules() {}

    /** A node's role in fusion; ordered like {@link dev.gale.ir.op.FusionCategory}. */
    enum Kind {
        ELEMENTWISE, BROADCAST, INJECTIVE, REDUCTION,
        /** Out-elementwise-fusable (MatMul, Conv, Gemm, Softmax, ...): takes an elementwise epilogue. */
        ANCHOR,
        /** A {@code Constant}: never a kernel of its own, copied into every kernel that reads it. */
        CONSTANT,
        OPAQUE;

        boolean elementwiseLike() { return this == ELEMENTWISE || this == BROADCAST; }

        /** Kinds that may sit in an anchorless group or a reduction's prologue. */
        boolean free() { return this == ELEMENTWISE || this == BROADCAST || this == INJECTIVE; }
    }

    /** {@code types}: the type of every value of the graph (inputs, initializers, node outputs). */
    static Kind kind(Node n, java.util.Map<String, Type> types) {
        if (n.domain().isEmpty() && n.op().equals("Constant") && n.inputs().isEmpty()) return Kind.CONSTANT;
        OpSchema s = OpTable.lookup(n.domain(), n.op());
        if (s == null || hasNestedGraph(n)) return Kind.OPAQUE;
        // Kernel bodies pass tensors only; sequences, optionals and untyped values stay between plain nodes.
        for (Value v : n.inputs()) if (!v.isNone() && !(types.get(v.name()) instanceof Type.TensorType))
            return Kind.OPAQUE;
        for (Value v : n.outputs()) if (!v.isNone() && !(v.type() instanceof Type.TensorType)) return Kind.OPAQUE;
        if (n.outputs().stream().allMatch(Value::isNone)) return Kind.OPAQUE;
        return switch (s.category()) {
            case ELEMENTWISE -> Kind.ELEMENTWISE;
            case BROADCAST -> Kind.BROADCAST;
            case INJECTIVE -> Kind.INJECTIVE;
            case REDUCTION -> Kind.REDUCTION;
            case OUT_ELEMENTWISE_FUSABLE -> Kind.ANCHOR;
            case OPAQUE -> Kind.OPAQUE;
        };
    }

    /**
     * An elementwise op on one input ({@code Relu(x)}, {@code Cast(x)}, {@code Mul(x, x)}, {@code Mul(x, 0.5)} with
     * a constant): recomputing it in each consumer costs less than writing its result once and reading it back in
     * every consumer. {@code constant} says which values {@code Constant} nodes produce; those cost nothing to read.
     */
    static boolean cheap(Node n, Kind k, java.util.function.Predicate<String> constant) {
        if (!k.elementwiseLike() || n.outputs().size() != 1) return false;
        Set<String> distinct = new LinkedHashSet<>();
        for (Value v : n.inputs()) if (!v.isNone() && !constant.test(v.name())) distinct.add(v.name());
        return distinct.size() == 1;
    }

    static boolean hasNestedGraph(Node n) {
        for (Attr a : n.attrs().values()) if (a instanceof Attr.GraphAttr || a instanceof Attr.GraphsAttr) return true;
        return false;
    }

    /**
     * Names a node reads from its enclosing scope through its nested graphs (If branches, Loop bodies). Every name
     * used inside is included; those that the nested graphs define themselves simply match no outer value.
     */
    static Set<String> captured(Node n) {
        Set<String> names = new LinkedHashSet<>();
        for (Attr a : n.attrs().values()) {
            if (a instanceof Attr.GraphAttr ga) collectUses(ga.value(), names);
            if (a instanceof Attr.GraphsAttr gs) for (Graph g : gs.values()) collectUses(g, names);
        }
        return names;
    }

    private static void collectUses(Graph g, Set<String> names) {
        for (Node n : g.nodes()) {
            for (Value v : n.inputs()) if (!v.isNone()) names.add(v.name());
            names.addAll(captured(n));
        }
        for (Value v : g.outputs()) names.add(v.name());
    }

    /** True when both are tensors whose shapes are equal dim by dim (fixed sizes or the same symbol). */
    static boolean sameShape(Type a, Type b) {
        if (!(a instanceof Type.TensorType ta) || !(b instanceof Type.TensorType tb)) return false;
        Shape sa = ta.shape(), sb = tb.shape();
        if (sa == null || sb == null || sa.rank() != sb.rank()) return false;
        for (int i = 0; i < sa.rank(); i++) {
            Dim x = sa.dim(i), y = sb.dim(i);
            boolean same = x instanceof Dim.Fixed || x instanceof Dim.Sym ? x.equals(y) : false;
            if (!same) return false;
        }
        return true;
    }
}
