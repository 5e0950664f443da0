package dev.gale.passes.memory;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.FusionCategory;

/**
 * Rough floating-point operation counts of one node, for weighing recomputation: 2·M·N·K for MatMul and Gemm (plus
 * M·N for Gemm's bias), 2 · output elements · (input channels per group x kernel size) for Conv, input elements
 * for reductions, output elements for everything else (elementwise math and data movement alike). A fused kernel
 * counts its body. Unknown sizes count as zero; symbols take the sizes' bindings.
 */
public final class FlopEstimate {
    private FlopEstimate() {}

    public static long of(Node n, TensorSizes sizes) {
        TensorSizes s = sizes.lenient();
        if (OpKinds.isKernel(n) && n.attr("body") instanceof Attr.GraphAttr body) {
            long sum = 0;
            for (Node b : body.value().nodes()) sum += of(b, s);
            return sum;
        }
        String op = n.domain().isEmpty() ? n.op() : "";
        return switch (op) {
            case "MatMul" -> 2 * elements(n.output(0), s) * lastDim(n.input(0), 1);
            case "Gemm" -> {
                boolean transA = n.attr("transA") instanceof Attr.IntAttr t && t.value() != 0;
                long k = dim(n.input(0), transA ? 0 : 1);
                long mn = elements(n.output(0), s);
                yield 2 * mn * k + (n.hasInput(2) ? mn : 0);
            }
            case "Conv" -> 2 * elements(n.output(0), s) * elementsFrom(n.input(1), 1);
            case "ConvTranspose" -> 2 * elements(n.input(0), s) * elementsFrom(n.input(1), 1);
            default -> {
                if (OpKinds.category(n) == FusionCategory.REDUCTION) yield n.hasInput(0) ? elements(n.input(0), s) : 0;
                long sum = 0;
                for (Value v : n.outputs()) if (!v.isNone()) sum += elements(v, s);
                yield sum;
            }
        };
    }

    /** Sum over a graph's nodes. */
    public static long of(Graph g, TensorSizes sizes) {
        long sum = 0;
        for (Node n : g.nodes()) sum += of(n, sizes);
        return sum;
    }

    private static long elements(Value v, TensorSizes s) { return Math.max(0, s.elements(v)); }

    private static Shape shape(Value v) {
        return v.type() instanceof Type.TensorType t ? t.shape() : null;
    }

    /** The size of the last dimension but {@code fromEnd - 1} (1 = the last), or 0 when unknown. */
    private static long lastDim(Value v, int fromEnd) {
        Shape sh = shape(v);
        return sh == null || sh.rank() < fromEnd ? 0 : Math.max(0, sh.dim(sh.rank() - fromEnd).sizeOr(0));
    }

    private static long dim(Value v, int i) {
        Shape sh = shape(v);
        return sh == null || sh.rank() <= i ? 0 : Math.max(0, sh.dim(i).sizeOr(0));
    }

    /** Product of the dimensions from {@code from} on (weights have no symbolic dims), or 0 when unknown. */
    private static long elementsFrom(Value v, int from) {
        Shape sh = shape(v);
        if (sh == null) return 0;
        long p = 1;
        for (int i = from; i < sh.rank(); i++) p *= Math.max(0, sh.dim(i).sizeOr(0));
        return p;
    }
}
