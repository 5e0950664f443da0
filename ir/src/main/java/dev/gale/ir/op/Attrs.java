package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;

import java.util.List;

/** Typed reads of attribute values with errors that name the node and attribute. */
public final class Attrs {
    private Attrs() {}

    private static GaleException missing(Node n, String name) {
        return new GaleException(n.describe() + ": missing required attribute '" + name + "'");
    }

    private static GaleException wrongKind(Node n, String name, Attr a, String want) {
        return new GaleException(n.describe() + ": attribute '" + name + "' is " + a.kind() + ", expected " + want);
    }

    public static long asInt(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.IntAttr i) return i.value();
        throw wrongKind(n, name, a, "INT");
    }

    public static float asFloat(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.FloatAttr f) return f.value();
        if (a instanceof Attr.IntAttr i) return i.value();
        throw wrongKind(n, name, a, "FLOAT");
    }

    public static String asString(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.StringAttr s) return s.value();
        throw wrongKind(n, name, a, "STRING");
    }

    public static long[] asInts(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.IntsAttr i) return i.values().clone();
        if (a instanceof Attr.IntAttr i) return new long[] {i.value()};
        throw wrongKind(n, name, a, "INTS");
    }

    public static float[] asFloats(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.FloatsAttr f) return f.values().clone();
        throw wrongKind(n, name, a, "FLOATS");
    }

    public static List<String> asStrings(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.StringsAttr s) return s.values();
        throw wrongKind(n, name, a, "STRINGS");
    }

    public static Tensor asTensor(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.TensorAttr t) return t.value();
        throw wrongKind(n, name, a, "TENSOR");
    }

    public static Graph asGraph(Attr a, Node n, String name) {
        if (a == null) throw missing(n, name);
        if (a instanceof Attr.GraphAttr g) return g.value();
        throw wrongKind(n, name, a, "GRAPH");
    }
}
