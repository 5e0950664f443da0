package dev.gale.passes.memory;

import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.op.FusionCategory;
import dev.gale.ir.op.GaleOps;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;

/**
 * What memory planning needs to know about an op, read from its fusion category (or, for a fused
 * {@code gale::Kernel}, from the pattern the partitioner recorded): whether it may write its output over an input,
 * and whether it is cheap enough to compute twice.
 */
final class OpKinds {
    private OpKinds() {}

    /** The category of a node; a kernel's is that of its pattern ("elementwise", "broadcast", ...), else OPAQUE. */
    static FusionCategory category(Node n) {
        if (n.domain().equals(GaleOps.DOMAIN) && n.op().equals("Kernel")) {
            String p = n.attr("pattern") instanceof Attr.StringAttr s ? s.value() : "";
            return switch (p) {
                case "elementwise" -> FusionCategory.ELEMENTWISE;
                case "broadcast" -> FusionCategory.BROADCAST;
                case "injective" -> FusionCategory.INJECTIVE;
                default -> FusionCategory.OPAQUE;
            };
        }
        OpSchema s = OpTable.lookup(n.domain(), n.op());
        return s == null ? FusionCategory.OPAQUE : s.category();
    }

    /**
     * Output element i depends only on element i of each input of the output's size, so the output may be written
     * over such an input as it is read.
     */
    static boolean inPlaceCapable(Node n) {
        FusionCategory c = category(n);
        return (c == FusionCategory.ELEMENTWISE || c == FusionCategory.BROADCAST)
                && (isKernel(n) || NodeReads.nested(n).isEmpty());
    }

    /**
     * Cheap to recompute: elementwise, broadcast or injective work (a pass over memory, no reduction), or a Constant;
     * deterministic (random ops are OPAQUE) and without nested graphs.
     */
    static boolean cheap(Node n) {
        if (!NodeReads.nested(n).isEmpty() && !isKernel(n)) return false;
        if (n.domain().isEmpty() && n.op().equals("Constant")) return true;
        FusionCategory c = category(n);
        return c == FusionCategory.ELEMENTWISE || c == FusionCategory.BROADCAST || c == FusionCategory.INJECTIVE;
    }

    static boolean isKernel(Node n) { return n.domain().equals(GaleOps.DOMAIN) && n.op().equals("Kernel"); }
}
