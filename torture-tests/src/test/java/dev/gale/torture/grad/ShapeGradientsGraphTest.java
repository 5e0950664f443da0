package dev.gale.torture.grad;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.Autodiff;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shape-family rules inside whole graphs, as PyTorch exports them: a symbolic batch, shapes and slice bounds computed
 * by Shape/Gather/Unsqueeze/Concat chains at run time, Split outputs that are partly unused, and Compress (whose
 * output shape depends on data). The loss is {@code sum(y^2)}; every trained initializer's gradient is checked
 * against central differences, and where shapes are symbolic the backward graph must read them with Shape nodes.
 */
class ShapeGradientsGraphTest {
    private final Random r = new Random(5);

    private static final Map<String, Attr> NONE = Map.of();

    private static Value op(GraphBuilder g, String op, Map<String, Attr> attrs, Value... in) {
        return g.op(op, List.of(in), attrs);
    }

    private static Value ints(GraphBuilder g, long... v) { return g.constant(Tensor.vector(v)); }

    private static Map<String, Attr> axis(long a) { return Map.of("axis", Attr.of(a)); }

    /** {@code Unsqueeze(Gather(Shape(v), k), [0])}: one dimension of v as a 1-element vector, as torch exports it. */
    private static Value dimOf(GraphBuilder g, Value v, long k) {
        Value d = op(g, "Gather", NONE, op(g, "Shape", NONE, v), g.constant(Tensor.scalarLong(DType.INT64, k)));
        return op(g, "Unsqueeze", NONE, d, ints(g, 0));
    }

    @Test
    void embeddingLookupWithLearnedPositions() {
        GraphBuilder g = Graph.builder("embedding");
        Value tokens = g.input("tokens", DType.INT64, "batch", 4);
        Value table = g.initializer("table", GradientCheck.random(r, -1, 1, 6, 3));
        Value pos = g.initializer("pos", GradientCheck.random(r, -1, 1, 1, 4, 3));
        Value y = g.add(op(g, "Gather", NONE, table, tokens), pos);
        // Ids repeat within and across rows; -1 is the last row.
        Tensor ids = Tensor.ofLongs(new long[] {2, 4}, 1, 5, 1, 0, -1, 1, 3, 3);
        check(g, y, Map.of(tokens.name(), ids), false);
    }

    @Test
    void attentionHeadSplitWithRuntimeBounds() {
        // in_proj output [seq, batch, 3 d] sliced into q, k, v with bounds computed from its shape, then reshaped to
        // [seq, batch * heads, d / heads] and transposed, as torch's multi-head attention exports.
        GraphBuilder g = Graph.builder("attention");
        Value x = g.input("x", DType.FLOAT64, 5, "batch", 6);
        Value h = g.mul(x, g.initializer("w", GradientCheck.random(r, -1, 1, 6)));
        Value d = op(g, "Div", NONE, dimOf(g, h, 2), ints(g, 3));
        Value d2 = op(g, "Mul", NONE, d, ints(g, 2)), d3 = op(g, "Mul", NONE, d, ints(g, 3));
        Value minus1 = ints(g, -1);
        Value q = op(g, "Slice", NONE, h, ints(g, 0), d, minus1);
        Value k = op(g, "Slice", NONE, h, d, d2, minus1);
        Value v = op(g, "Slice", NONE, h, d2, d3, minus1);
        Value heads = op(g, "Concat", axis(0), dimOf(g, h, 0), op(g, "Mul", NONE, dimOf(g, h, 1), ints(g, 2)),
                ints(g, -1));
        Map<String, Attr> perm = Map.of("perm", Attr.of(1L, 0L, 2L));
        Value qh = op(g, "Transpose", perm, op(g, "Reshape", NONE, q, heads));
        Value kh = op(g, "Transpose", Map.of("perm", Attr.of(1L, 2L, 0L)), op(g, "Reshape", NONE, k, heads));
        Value vh = op(g, "Transpose", perm, op(g, "Reshape", NONE, v, heads));
        Value scores = g.mul(op(g, "Unsqueeze", NONE, qh, ints(g, -1)), op(g, "Unsqueeze", NONE, kh, ints(g, 1)));
        Value y = g.mul(op(g, "ReduceSum", Map.of("keepdims", Attr.of(0L)), scores, ints(g, -2)), vh);
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 5, 2, 6)), true);
    }

    @Test
    void concatAlongBatchThenSplitWithUnusedOutput() {
        GraphBuilder g = Graph.builder("concat_split");
        Value x = g.input("x", DType.FLOAT64, "batch", 3);
        Value h1 = g.mul(x, g.initializer("w1", GradientCheck.random(r, -1, 1, 3)));
        Value h2 = g.mul(x, g.initializer("w2", GradientCheck.random(r, -1, 1, 3)));
        Value h3 = g.mul(x, g.initializer("w3", GradientCheck.random(r, -1, 1, 3)));
        Value cat = op(g, "Concat", axis(0), h1, h2, h3);
        // Equal split of 3 batch rows into 3; the middle part is unused, so w2 gets a zero gradient.
        List<Value> parts = g.op("", "Split", List.of(cat), Map.of("num_outputs", Attr.of(3L)), 3);
        // The last part split again by columns [2, 1]; only the 1-column piece is used.
        Value col = g.op("", "Split", List.of(parts.get(2), ints(g, 2, 1)), Map.of("axis", Attr.of(1L)), 2).get(1);
        Value y = g.add(parts.get(0), col);
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 3)), true);
    }

    @Test
    void reshapeFamilyOnSymbolicBatch() {
        GraphBuilder g = Graph.builder("reshapes");
        Value x = g.input("x", DType.FLOAT64, "batch", 3, 4);
        Value h = g.mul(x, g.initializer("w", GradientCheck.random(r, -1, 1, 3, 4)));
        Value t = op(g, "Flatten", Map.of("axis", Attr.of(2L)), op(g, "Unsqueeze", NONE, h, ints(g, 1)));
        t = op(g, "Reshape", NONE, t, ints(g, 0, -1, 2));
        t = op(g, "Squeeze", NONE, op(g, "Unsqueeze", NONE, t, ints(g, 0)), ints(g, 0));
        Value y = g.mul(op(g, "Transpose", Map.of("perm", Attr.of(2L, 0L, 1L)), t),
                g.initializer("v", GradientCheck.random(r, -1, 1, 2, 1, 6)));
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 3, 4)), true);
    }

    @Test
    void expandAndTileToRuntimeShapes() {
        GraphBuilder g = Graph.builder("expand_tile");
        Value x = g.input("x", DType.FLOAT64, "batch", 3, 4);
        Value reps = g.input("reps", DType.INT64, 3);
        Value b = op(g, "Expand", NONE, g.initializer("w", GradientCheck.random(r, -1, 1, 1, 4)), op(g, "Shape", NONE, x));
        Value h = g.mul(x, b);
        Value tiled = op(g, "Tile", NONE, h, reps);
        Value y = op(g, "Tile", NONE, g.mul(tiled, tiled), ints(g, 1, 2, 1));
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 3, 4), reps.name(), Tensor.vector(2, 1, 3)), true);
    }

    @Test
    void padsAndSlicesWithRuntimeAmounts() {
        GraphBuilder g = Graph.builder("pads");
        Value x = g.input("x", DType.FLOAT64, "batch", 3, 4);
        Value pads = g.input("pads", DType.INT64, 4);
        Value h = g.mul(x, g.initializer("w", GradientCheck.random(r, -1, 1, 3, 4)));
        Value cp = op(g, "Pad", NONE, h, pads, g.initializer("value", Tensor.ofDoubles(new long[0], 0.25)), ints(g, 1, 2));
        Value rp = op(g, "Pad", Map.of("mode", Attr.of("reflect")), h, pads, Value.NONE, ints(g, -2, -1));
        Value ep = op(g, "Pad", Map.of("mode", Attr.of("edge")), h, ints(g, 0, 1, 1, 0, 1, 2));
        // ep is [batch, 5, 7]: rows 0, 2, 4 and, through a start computed at run time, all 7 columns.
        Value starts = op(g, "Concat", axis(0), op(g, "Sub", NONE, dimOf(g, ep, 2), ints(g, 7)), ints(g, 0));
        Value s = op(g, "Slice", NONE, ep, starts, ints(g, Long.MAX_VALUE, 5), ints(g, 2, 1), ints(g, 1, 2));
        Value y = g.add(g.mul(cp, rp), op(g, "ReduceSum", Map.of("keepdims", Attr.of(1L)), s, ints(g, 1)));
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 3, 4), pads.name(), Tensor.vector(1, 2, 0, 1)),
                true);
    }

    @Test
    void elementGathersAndScattersOnSymbolicBatch() {
        GraphBuilder g = Graph.builder("elements");
        Value x = g.input("x", DType.FLOAT64, "batch", 4);
        Value idx = g.input("idx", DType.INT64, "batch", 2);
        Value h = g.mul(x, g.initializer("w", GradientCheck.random(r, -1, 1, 4)));
        Value picked = op(g, "GatherElements", axis(1), h, idx);
        Value u = g.mul(picked, g.initializer("u", GradientCheck.random(r, -1, 1, 2)));
        Value y = op(g, "ScatterElements", axis(1), h, idx, u);
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 4),
                idx.name(), Tensor.ofLongs(new long[] {2, 2}, 3, 0, -1, 1)), true);
    }

    @Test
    void depthToSpaceCrdOnSymbolicBatch() {
        GraphBuilder g = Graph.builder("d2s");
        Value x = g.input("x", DType.FLOAT64, "batch", 8, "h", 3);
        Value h = g.mul(x, g.initializer("w", GradientCheck.random(r, -1, 1, 8, 1, 3)));
        Value y = op(g, "DepthToSpace", Map.of("blocksize", Attr.of(2L), "mode", Attr.of("CRD")), h);
        Value z = op(g, "SpaceToDepth", Map.of("blocksize", Attr.of(2L)), g.mul(y, y));
        check(g, z, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 8, 2, 3)), true);
    }

    @Test
    void compressAlongAnAxisAndFlattened() {
        GraphBuilder g = Graph.builder("compress");
        Value x = g.input("x", DType.FLOAT64, "batch", 4);
        Value h = g.mul(x, g.initializer("w", GradientCheck.random(r, -1, 1, 4)));
        Value cond = g.constant(Tensor.ofBools(new long[] {3}, true, false, true));
        Value a = op(g, "Compress", axis(1), h, cond);
        Value f = op(g, "Compress", NONE, h, g.constant(Tensor.ofBools(new long[] {6}, false, true, true, false, false, true)));
        Value y = g.add(op(g, "ReduceSum", NONE, g.mul(a, a)), op(g, "ReduceSum", NONE, g.mul(f, f)));
        check(g, y, Map.of(x.name(), GradientCheck.random(r, -1, 1, 2, 4)), true);
    }

    /**
     * Differentiates {@code loss = sum(y^2)} for every floating-point initializer and compares with central
     * differences; {@code symbolic}: the backward graph must read a shape at run time.
     */
    private static void check(GraphBuilder g, Value y, Map<String, Object> feeds, boolean symbolic) {
        Value loss = g.op("ReduceSum", List.of(g.mul(y, y)), Map.of("keepdims", Attr.of(0L)));
        g.output(loss);
        Graph forward = g.build();
        List<String> params = new ArrayList<>();
        for (var e : forward.initializers().entrySet()) if (e.getValue().dtype().isFloat()) params.add(e.getKey());
        Autodiff.Result train = Autodiff.differentiate(forward, loss.name(), params, List.of());
        List<Node> backward = train.graph().nodes().subList(forward.nodes().size(), train.graph().nodes().size());
        if (symbolic)
            assertTrue(backward.stream().anyMatch(n -> n.op().equals("Shape") || n.op().equals("Size")),
                    "the backward graph should read a shape at run time");
        Map<String, Object> trainFeeds = new HashMap<>(feeds);
        for (String p : params) trainFeeds.put(p, forward.initializers().get(p));
        List<Object> out = Interpreter.run(Model.of(train.graph()), trainFeeds);
        assertEquals(1 + params.size(), out.size());
        int k = 1;
        for (String p : train.gradients().keySet()) {
            Tensor analytic = (Tensor) out.get(k++), w = forward.initializers().get(p);
            assertEquals(w.numel(), analytic.numel(), p);
            GradientCheck.assertMatchesFiniteDifferences(forward, feeds, p, analytic, "");
        }
        assertEquals(params.size(), train.gradients().size(), "every parameter reaches the loss");
    }
}
