package dev.gale.onnx;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.UnsupportedException;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Each rule of the opset upgrade, checked on the nodes it produces (structure, not values). */
class OpsetUpgraderTest {
    /** A scope with declared types and constants; fresh names count up. */
    private static final class FakeScope implements OpsetUpgrader.Scope {
        final Map<String, Type> types = new HashMap<>();
        final Map<String, Tensor> constants = new HashMap<>();
        final Set<String> names = new HashSet<>();
        final Map<String, String> dropped = new LinkedHashMap<>();

        FakeScope type(String name, DType t, long... shape) {
            types.put(name, Type.tensor(t, shape));
            return this;
        }

        @Override public Type typeOf(String value) { return types.get(value); }

        @Override public Map<String, Type> types() { return types; }

        @Override public Tensor constantOf(String value) { return constants.get(value); }

        @Override
        public String fresh(String hint) {
            String n = hint;
            for (int i = 1; !names.add(n); i++) n = hint + "_" + i;
            return n;
        }

        @Override public void dropped(String value, String reason) { dropped.put(value, reason); }
    }

    private static List<Node> upgrade(int opset, Node n, FakeScope s) {
        return new OpsetUpgrader(Map.of("", opset)).upgrade(n, s);
    }

    private static Node node(String op, List<String> in, List<String> out, Map<String, Attr> attrs) {
        List<Value> iv = new ArrayList<>();
        for (String s : in) iv.add(s.isEmpty() ? Value.NONE : new Value(s, null));
        List<Value> ov = new ArrayList<>();
        for (String s : out) ov.add(s.isEmpty() ? Value.NONE : new Value(s, null));
        return new Node("", "", op, iv, ov, attrs);
    }

    private static List<String> ops(List<Node> nodes) { return nodes.stream().map(Node::op).toList(); }

    private static Node last(List<Node> nodes) { return nodes.get(nodes.size() - 1); }

    private static Tensor constantInput(List<Node> nodes, Value v) {
        for (Node n : nodes)
            if (n.op().equals("Constant") && n.output(0).name().equals(v.name()))
                return ((Attr.TensorAttr) n.attr("value")).value();
        throw new AssertionError("no Constant defines " + v);
    }

    @Test
    void currentNodesPassThrough() {
        Node n = node("Softmax", List.of("x"), List.of("y"), Map.of("axis", Attr.of(1L)));
        assertSame(n, upgrade(18, n, new FakeScope()).get(0));
    }

    @Test
    void softmaxBefore13OnTheLastAxisOnlyGetsAnExplicitAxis() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 2, 3, 4);
        List<Node> r = upgrade(11, node("Softmax", List.of("x"), List.of("y"), Map.of("axis", Attr.of(-1L))), s);
        assertEquals(List.of("Softmax"), ops(r));
        assertEquals(Attr.of(2L), r.get(0).attr("axis"));
    }

    @Test
    void softmaxBefore13OnAnInnerAxisIsCoercedTo2d() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 2, 3, 4);
        // default axis 1: rows of 3*4 elements
        List<Node> r = upgrade(6, node("LogSoftmax", List.of("x"), List.of("y"), Map.of()), s);
        assertEquals(List.of("Flatten", "LogSoftmax", "Constant", "Reshape"), ops(r));
        assertEquals(Attr.of(1L), r.get(0).attr("axis"));
        assertEquals(Attr.of(1L), r.get(1).attr("axis"));
        Node reshape = last(r);
        assertEquals("y", reshape.output(0).name());
        assertArrayEquals(new long[] {2, 3, 4}, constantInput(r, reshape.input(1)).longs());
    }

    @Test
    void softmaxOfUnknownShapeReshapesToTheRuntimeShape() {
        List<Node> r = upgrade(12, node("Hardmax", List.of("x"), List.of("y"), Map.of("axis", Attr.of(0L))),
                new FakeScope());
        assertEquals(List.of("Flatten", "Hardmax", "Shape", "Reshape"), ops(r));
        assertEquals(Attr.of(1L), last(r).attr("allowzero"));
    }

    @Test
    void legacyBroadcastWithAxisUnsqueezesTheSecondInput() {
        FakeScope s = new FakeScope().type("a", DType.FLOAT32, 2, 3, 4, 5).type("b", DType.FLOAT32, 3);
        List<Node> r = upgrade(6, node("Mul", List.of("a", "b"), List.of("y"),
                Map.of("broadcast", Attr.of(1L), "axis", Attr.of(1L))), s);
        assertEquals(List.of("Constant", "Unsqueeze", "Mul"), ops(r));
        assertArrayEquals(new long[] {1, 2}, constantInput(r, r.get(1).input(1)).longs());
        assertTrue(last(r).attrs().isEmpty());
        assertEquals(r.get(1).output(0), last(r).input(1));
    }

    @Test
    void legacyBroadcastWithoutAxisIsNumpyBroadcasting() {
        List<Node> r = upgrade(1, node("Add", List.of("a", "b"), List.of("y"), Map.of("broadcast", Attr.of(1L))),
                new FakeScope());
        assertEquals(List.of("Add"), ops(r));
        assertTrue(r.get(0).attrs().isEmpty());
    }

    @Test
    void consumedInputsAndOldAttributesAreDropped() {
        Node n = node("Relu", List.of("x"), List.of("y"), Map.of("consumed_inputs", Attr.of(0L)));
        assertTrue(upgrade(1, n, new FakeScope()).get(0).attrs().isEmpty());
        Node gemm = node("Gemm", List.of("a", "b", "c"), List.of("y"), Map.of("broadcast", Attr.of(1L)));
        assertTrue(upgrade(6, gemm, new FakeScope()).get(0).attrs().isEmpty());
    }

    @Test
    void castOneNamesItsTargetByString() {
        List<Node> r = upgrade(1, node("Cast", List.of("x"), List.of("y"), Map.of("to", Attr.of("INT64"))),
                new FakeScope());
        assertEquals(Attr.of((long) DType.INT64.onnxCode()), r.get(0).attr("to"));
    }

    @Test
    void concatOneDefaultsToAxisOne() {
        List<Node> r = upgrade(1, node("Concat", List.of("a", "b"), List.of("y"), Map.of()), new FakeScope());
        assertEquals(Attr.of(1L), r.get(0).attr("axis"));
    }

    @Test
    void padOneAndTwoMoveTheirAttributesToTypedInputs() {
        FakeScope s = new FakeScope().type("x", DType.INT32, 2, 2);
        List<Node> r = upgrade(1, node("Pad", List.of("x"), List.of("y"), Map.of("paddings", Attr.of(1L, 0L, 1L, 0L),
                "value", Attr.of(7f), "mode", Attr.of("constant"))), s);
        Node pad = last(r);
        assertEquals(Set.of("mode"), pad.attrs().keySet());
        assertArrayEquals(new long[] {1, 0, 1, 0}, constantInput(r, pad.input(1)).longs());
        Tensor value = constantInput(r, pad.input(2));
        assertEquals(DType.INT32, value.dtype());
        assertEquals(0, value.rank());
        assertEquals(7, value.getLong(0));
    }

    @Test
    void topKOneMovesKToAOneElementVector() {
        List<Node> r = upgrade(1, node("TopK", List.of("x"), List.of("v", "i"), Map.of("k", Attr.of(3L))),
                new FakeScope());
        Tensor k = constantInput(r, last(r).input(1));
        assertArrayEquals(new long[] {1}, k.shape());
        assertEquals(3, k.getLong(0));
    }

    @Test
    void clipBefore11KeepsTheInputElementType() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT64, 3);
        List<Node> r = upgrade(6, node("Clip", List.of("x"), List.of("y"), Map.of("min", Attr.of(-1f))), s);
        Node clip = last(r);
        assertEquals(2, clip.inputs().size());
        assertEquals(DType.FLOAT64, constantInput(r, clip.input(1)).dtype());
    }

    @Test
    void batchNormInInferenceKeepsOneOutputAndLosesIsTest() {
        Node n = node("BatchNormalization", List.of("x", "s", "b", "m", "v"), List.of("y"),
                Map.of("is_test", Attr.of(1L), "epsilon", Attr.of(1e-5f), "momentum", Attr.of(0.9f),
                        "spatial", Attr.of(1L)));
        Node r = upgrade(6, n, new FakeScope()).get(0);
        assertEquals(Set.of("epsilon", "momentum"), r.attrs().keySet());
        assertEquals(1, r.outputs().size());
    }

    @Test
    void batchNormWithRunningStatisticsIsTrainingMode() {
        Node n = node("BatchNormalization", List.of("x", "s", "b", "m", "v"),
                List.of("y", "rm", "rv", "sm", "sv"), Map.of());
        FakeScope s = new FakeScope();
        Node r = upgrade(9, n, s).get(0);
        assertEquals(Attr.of(1L), r.attr("training_mode"));
        assertEquals(3, r.outputs().size());
        assertEquals(Set.of("sm", "sv"), s.dropped.keySet());
    }

    @Test
    void batchNormPerElementBecomesArithmetic() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 1, 2, 3).type("s", DType.FLOAT32, 2, 3);
        Node n = node("BatchNormalization", List.of("x", "s", "b", "m", "v"), List.of("y"), Map.of("spatial", Attr.of(0L)));
        List<Node> r = upgrade(7, n, s);
        assertEquals(List.of("Constant", "Add", "Sqrt", "Sub", "Div", "Mul", "Add"), ops(r));
        assertEquals("y", last(r).output(0).name());
    }

    @Test
    void dropoutBefore7LosesIsTestAndMovesRatio() {
        Node n = node("Dropout", List.of("x"), List.of("y"), Map.of("is_test", Attr.of(1L), "ratio", Attr.of(0.3f)));
        List<Node> r = upgrade(6, n, new FakeScope());
        Node d = last(r);
        assertTrue(d.attrs().isEmpty());
        assertEquals(0.3f, constantInput(r, d.input(1)).floats()[0]);
    }

    @Test
    void dropoutBefore10GivesTheMaskTheDataType() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT64, 3);
        List<Node> r = upgrade(7, node("Dropout", List.of("x"), List.of("y", "mask"), Map.of()), s);
        assertEquals(List.of("Dropout", "Cast"), ops(r));
        assertEquals(Attr.of((long) DType.FLOAT64.onnxCode()), r.get(1).attr("to"));
        assertEquals("mask", r.get(1).output(0).name());
        assertEquals(r.get(0).output(1), r.get(1).input(0));
    }

    @Test
    void upsampleBecomesAsymmetricResize() {
        Node n = node("Upsample", List.of("x"), List.of("y"), Map.of("scales", Attr.of(1f, 1f, 2f, 3f)));
        List<Node> r = upgrade(7, n, new FakeScope());
        Node resize = last(r);
        assertEquals("Resize", resize.op());
        assertEquals(3, resize.inputs().size());
        assertTrue(resize.input(1).isNone());
        assertEquals(Attr.of("asymmetric"), resize.attr("coordinate_transformation_mode"));
        assertEquals(Attr.of("nearest"), resize.attr("mode"));
        assertEquals(Attr.of("floor"), resize.attr("nearest_mode"));
    }

    @Test
    void upsampleOneMergesItsTwoScales() {
        Node n = node("Upsample", List.of("x"), List.of("y"), Map.of("height_scale", Attr.of(2f),
                "width_scale", Attr.of(2f), "mode", Attr.of("bilinear")));
        List<Node> r = upgrade(1, n, new FakeScope());
        assertArrayEquals(new float[] {1, 1, 2, 2}, constantInput(r, last(r).input(2)).floats());
        assertEquals(Attr.of("linear"), last(r).attr("mode"));
    }

    @Test
    void resizeTenShrinkingRoundsUpAndMixedScalesSplit() {
        FakeScope s = new FakeScope();
        s.constants.put("down", Tensor.ofFloats(new long[] {4}, 1, 1, 0.6f, 0.6f));
        s.constants.put("mixed", Tensor.ofFloats(new long[] {4}, 1, 1, 0.5f, 2f));
        List<Node> r = upgrade(10, node("Resize", List.of("x", "down"), List.of("y"), Map.of()), s);
        assertEquals(List.of("Resize"), ops(r));
        assertEquals(Attr.of("ceil"), r.get(0).attr("nearest_mode"));
        assertEquals("down", r.get(0).input(2).name());
        r = upgrade(10, node("Resize", List.of("x", "mixed"), List.of("y"), Map.of()), s);
        assertEquals(List.of("Constant", "Resize", "Constant", "Resize"), ops(r));
        assertEquals(Attr.of("floor"), r.get(1).attr("nearest_mode"));
        assertEquals(Attr.of("ceil"), r.get(3).attr("nearest_mode"));
        assertArrayEquals(new float[] {1, 1, 1, 2}, constantInput(r, r.get(1).input(2)).floats());
        assertArrayEquals(new float[] {1, 1, 0.5f, 1}, constantInput(r, r.get(3).input(2)).floats());
    }

    @Test
    void tfHalfPixelForNearestIsHalfPixelWithAnotherRounding() {
        Node n = node("Resize", List.of("x", "roi", "scales", "sizes"), List.of("y"),
                Map.of("coordinate_transformation_mode", Attr.of("tf_half_pixel_for_nn"), "mode", Attr.of("nearest")));
        Node r = upgrade(11, n, new FakeScope()).get(0);
        assertEquals(Attr.of("half_pixel"), r.attr("coordinate_transformation_mode"));
        assertEquals(Attr.of("ceil"), r.attr("nearest_mode"));
        Node linear = n.withAttrs(Map.of("coordinate_transformation_mode", Attr.of("tf_half_pixel_for_nn"),
                "mode", Attr.of("linear")));
        assertThrows(UnsupportedException.class, () -> upgrade(11, linear, new FakeScope()));
    }

    @Test
    void preluSixAppliesItsSlopePerChannel() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 2, 3, 4, 5).type("slope", DType.FLOAT32, 3);
        List<Node> r = upgrade(6, node("PRelu", List.of("x", "slope"), List.of("y"), Map.of()), s);
        assertEquals(List.of("Constant", "Unsqueeze", "PRelu"), ops(r));
        assertArrayEquals(new long[] {1, 2}, constantInput(r, r.get(1).input(1)).longs());
    }

    @Test
    void splitBefore18WithoutSizesNamesItsOutputCount() {
        Node r = upgrade(13, node("Split", List.of("x"), List.of("a", "b", "c"), Map.of()), new FakeScope()).get(0);
        assertEquals(Attr.of(3L), r.attr("num_outputs"));
        List<Node> sized = upgrade(11, node("Split", List.of("x"), List.of("a", "b"), Map.of("split", Attr.of(1L, 2L))),
                new FakeScope());
        assertNull(last(sized).attr("num_outputs"));
    }

    @Test
    void nodeNamesStayUnique() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 2, 3, 4);
        Node n = new Node("y", "", "Softmax", List.of(new Value("x", null)), List.of(new Value("y", null)), Map.of());
        s.names.addAll(List.of("x", "y"));
        List<String> names = upgrade(6, n, s).stream().map(Node::name).toList();
        assertEquals(names.size(), new HashSet<>(names).size(), names.toString());
    }

    @Test
    void scatterIsScatterElements() {
        Node r = upgrade(10, node("Scatter", List.of("d", "i", "u"), List.of("y"), Map.of("axis", Attr.of(1L))),
                new FakeScope()).get(0);
        assertEquals("ScatterElements", r.op());
        assertEquals(Attr.of(1L), r.attr("axis"));
    }

    @Test
    void scanEightRunsAnInnerScanPerBatchElement() {
        Type state = Type.tensor(DType.FLOAT32, 2);
        Graph body = new Graph("body", List.of(new Value("sum_in", state), new Value("next", state)),
                List.of(new Value("sum_out", state), new Value("scan_out", state)),
                List.of(new Node("", "", "Add", List.of(new Value("sum_in", state), new Value("next", state)),
                                List.of(new Value("sum_out", state)), Map.of()),
                        new Node("", "", "Identity", List.of(new Value("sum_out", state)),
                                List.of(new Value("scan_out", state)), Map.of())), Map.of());
        FakeScope s = new FakeScope().type("initial", DType.FLOAT32, 1, 2).type("x", DType.FLOAT32, 1, 3, 2);
        Node n = node("Scan", List.of("", "initial", "x"), List.of("y", "z"),
                Map.of("body", Attr.of(body), "num_scan_inputs", Attr.of(1L)));
        List<Node> r = upgrade(8, n, s);
        assertEquals(1, r.size());
        Node outer = r.get(0);
        assertEquals(List.of("initial", "x"), outer.inputs().stream().map(Value::name).toList());
        assertEquals(Attr.of(2L), outer.attr("num_scan_inputs"));
        Graph perBatch = ((Attr.GraphAttr) outer.attr("body")).value();
        assertEquals(Type.tensor(DType.FLOAT32, 2), perBatch.inputs().get(0).type());
        assertEquals(Type.tensor(DType.FLOAT32, 3, 2), perBatch.inputs().get(1).type());
        Node inner = perBatch.nodes().get(0);
        assertEquals("Scan", inner.op());
        assertEquals(Attr.of(1L), inner.attr("num_scan_inputs"));
        Graph innerBody = ((Attr.GraphAttr) inner.attr("body")).value();
        assertEquals("body", innerBody.name());
        assertEquals(List.of("Add", "Identity"), ops(innerBody.nodes()));
    }

    @Test
    void scanEightWithSequenceLengthsIsRefused() {
        Graph body = new Graph("b", List.of(), List.of(), List.of(), Map.of());
        Node n = node("Scan", List.of("lens", "x"), List.of("y"), Map.of("body", Attr.of(body),
                "num_scan_inputs", Attr.of(1L)));
        assertThrows(UnsupportedException.class, () -> upgrade(8, n, new FakeScope()));
    }

    @Test
    void imageScalerIsMulAndAdd() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 1, 3, 4, 4);
        List<Node> r = upgrade(7, node("ImageScaler", List.of("x"), List.of("y"),
                Map.of("scale", Attr.of(2f), "bias", Attr.of(1f, 2f, 3f))), s);
        assertEquals(List.of("Constant", "Mul", "Constant", "Add"), ops(r));
        assertArrayEquals(new long[] {3, 1, 1}, constantInput(r, last(r).input(1)).shape());
    }

    @Test
    void freshNamesNeverCollide() {
        FakeScope s = new FakeScope().type("x", DType.FLOAT32, 2, 3, 4);
        s.names.add("y__flat2d");
        List<Node> r = upgrade(6, node("Softmax", List.of("x"), List.of("y"), Map.of()), s);
        assertEquals("y__flat2d_1", r.get(0).output(0).name());
    }
}
