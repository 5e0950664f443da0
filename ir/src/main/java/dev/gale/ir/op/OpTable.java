package dev.gale.ir.op;

import dev.gale.ir.GaleException;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.UnsupportedException;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The op table: the one place that says, for every op Gale knows, its attributes, type inference and fusion
 * category. Families of ops are declared in their own files and registered here in a fixed order.
 */
public final class OpTable {
    private static final Map<String, OpSchema> TABLE = new TreeMap<>();

    static {
        ElementwiseOps.register();
        ReductionOps.register();
        NnOps.register();
        RecurrentOps.register();
        ShapeOps.register();
        IndexingOps.register();
        ControlFlowOps.register();
        SequenceOps.register();
        QuantizationOps.register();
        SignalOps.register();
        VisionOps.register();
        TextOps.register();
        RandomOps.register();
        TrainingOps.register();
        GaleOps.register();
        Gradients.attach();
    }

    private OpTable() {}

    /** The entry for an op that must exist (used by companion files that attach gradient rules). */
    static OpSchema entry(String domain, String op) {
        OpSchema s = TABLE.get(key(domain, op));
        if (s == null) throw new IllegalStateException("no op table entry for " + key(domain, op));
        return s;
    }

    public static String key(String domain, String op) {
        return domain == null || domain.isEmpty() || domain.equals("ai.onnx") ? op : domain + "::" + op;
    }

    static void register(OpSchema s) {
        if (TABLE.putIfAbsent(s.key(), s) != null) throw new IllegalStateException("op registered twice: " + s.key());
    }

    /** The entry for an op, or null when Gale does not know it. */
    public static OpSchema lookup(String domain, String op) { return TABLE.get(key(domain, op)); }

    /** The entry for an op; a clear error when Gale does not know it. */
    public static OpSchema require(String domain, String op, String where) {
        OpSchema s = lookup(domain, op);
        if (s != null) return s;
        String d = domain == null || domain.isEmpty() ? "ai.onnx" : domain;
        boolean knownDomain = d.equals("ai.onnx") || d.equals(OpsetInfo.TRAINING_DOMAIN);
        throw new UnsupportedException(where + ": unsupported op '" + op + "' in domain '" + d + "'"
                + (knownDomain ? "; Gale's op table has no entry for it (`gale ops` lists the supported ops)"
                : "; Gale reads only the ai.onnx and " + OpsetInfo.TRAINING_DOMAIN + " domains"));
    }

    public static Collection<OpSchema> all() { return Collections.unmodifiableCollection(TABLE.values()); }
}
