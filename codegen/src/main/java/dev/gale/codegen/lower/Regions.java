package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.ir.Attr;
import dev.gale.ir.Node;
import dev.gale.ir.Value;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where an output's source changes along one axis: a Concat, or a sum of unit-step gale::SliceGrads (the gradient of
 * a tensor split into slices, such as the query, key and value projections' gradients summed back into the fused
 * in-projection's). One nest per region between consecutive cut points then reads each source without the clamped
 * reads and selects of {@link GuardedReads}: the region's bounds on the coordinate decide every guard, so a Concat
 * reads one input and a SliceGrad reads its gradient or is zero. Measured on the transformer encoder's training step,
 * the dQ/dK/dV kernel ([64, 8, 384] from three [64, 8, 128] slices): 0.44 ms as one guarded nest.
 */
final class Regions {
    /** At most this many regions (a longer Concat stays one guarded nest). */
    static final int MAX_REGIONS = 8;
    /** The narrowest region along the innermost axis (one 512-bit vector of floats). */
    static final long MIN_INNER_WIDTH = 16;

    private Regions() {}

    /**
     * The axis and sorted cut points (0 and the extent included) at which {@code value}'s guarded sources change, or
     * null when there are none, they lie on more than one axis, or they are too many. Only a choice of nests: what
     * the search cannot read (a value of underivable size, a slice bound that is not constant) means no regions, and
     * the lowering itself says whether the kernel can be expressed.
     */
    static Cuts of(KernelLowering l, Map<String, Node> producers, String value, List<Ix> shape) {
        Map<Integer, Set<Long>> points = new java.util.HashMap<>();
        try {
            collect(l, producers, value, shape, points, 0);
        } catch (NotLowerable e) {
            return null;
        }
        if (points.size() != 1) return null;
        int axis = points.keySet().iterator().next();
        if (!(shape.get(axis) instanceof Ix.Lit(long extent))) return null;
        TreeSet<Long> cuts = new TreeSet<>();
        cuts.add(0L);
        cuts.add(extent);
        for (long p : points.get(axis)) if (p > 0 && p < extent) cuts.add(p);
        if (cuts.size() < 3 || cuts.size() > MAX_REGIONS + 1) return null;
        long[] p = cuts.stream().mapToLong(Long::longValue).toArray();
        // Along the innermost axis a narrow region would be a loop too short for vectors: keep the guarded nest.
        boolean innermost = true;
        for (int k = axis + 1; k < shape.size(); k++) innermost &= shape.get(k).equals(Ix.ONE);
        if (innermost)
            for (int r = 0; r + 1 < p.length; r++) if (p[r + 1] - p[r] < MIN_INNER_WIDTH) return null;
        return new Cuts(axis, p);
    }

    record Cuts(int axis, long[] points) {}

    private static final Set<String> PASS_THROUGH = Set.of("Add", "Sub", "Mul", "Neg", "Identity");

    private static void collect(KernelLowering l, Map<String, Node> producers, String value, List<Ix> shape,
                                Map<Integer, Set<Long>> points, int depth) {
        Node n = producers.get(value);
        if (n == null || depth > 16 || !l.dims(value).equals(shape)) return;
        String op = n.qualifiedOp();
        if (PASS_THROUGH.contains(op)) {
            for (Value in : n.inputs()) collect(l, producers, in.name(), shape, points, depth + 1);
        } else if (op.equals("Concat")) {
            int rank = shape.size();
            long a = n.attr("axis") instanceof Attr.IntAttr i ? i.value() : 0;
            int axis = (int) (a < 0 ? a + rank : a);
            long offset = 0;
            for (Value in : n.inputs()) {
                if (!(l.dims(in.name()).get(axis) instanceof Ix.Lit(long len))) return;
                offset += len;
                points.computeIfAbsent(axis, k -> new TreeSet<>()).add(offset);
            }
        } else if (op.equals("gale::SliceGrad")) {
            long[] starts = l.constantLongs(n, 2, null), axes = l.constantLongs(n, 4, null), steps = l.constantLongs(n, 5, null);
            if (starts.length != 1 || steps != null && steps[0] != 1) return;
            int rank = shape.size();
            int axis = (int) (axes == null ? 0 : axes[0] < 0 ? axes[0] + rank : axes[0]);
            if (!(shape.get(axis) instanceof Ix.Lit(long dim))
                    || !(l.dims(n.input(0).name()).get(axis) instanceof Ix.Lit(long len))) return;
            long start = Math.clamp(starts[0] < 0 ? starts[0] + dim : starts[0], 0, dim);
            Set<Long> s = points.computeIfAbsent(axis, k -> new TreeSet<>());
            s.add(start);
            s.add(Math.min(dim, start + len));
        }
    }
}
