package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.UnsupportedException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.onnx.Protos.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The opset upgrade keeps meaning: ONNX Runtime runs a node in its old form (ORT implements old opsets natively), and
 * the same node imported and upgraded by Gale must give the same outputs, both exported back to ORT (which checks the
 * rewrite alone) and on Gale's interpreter (when it has the kernels).
 */
class UpgradeParityTest {
    @BeforeAll
    static void loadOrt() { OrtRunner.requireOrt(); }

    /** One old-form node: its inputs (random floats of a shape, or fixed tensors) and output element types. */
    record Case(String name, int opset, NodeProto node, Map<String, Tensor> inputs, Map<String, Tensor> weights,
                Map<String, Integer> outputs) {
        @Override
        public String toString() { return name + " (opset " + opset + ")"; }

        ModelProto model() {
            GraphProto.Builder g = GraphProto.newBuilder().setName(name).addNode(node);
            for (Map.Entry<String, Tensor> e : inputs.entrySet())
                g.addInput(vi(e.getKey(), e.getValue().dtype().onnxCode(), e.getValue().shape()));
            for (Map.Entry<String, Tensor> e : weights.entrySet())
                g.addInitializer(OnnxTensors.toProto(e.getValue(), e.getKey()));
            for (Map.Entry<String, Integer> e : outputs.entrySet())
                g.addOutput(ValueInfoProto.newBuilder().setName(e.getKey()).setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(e.getValue()))));
            return Protos.model(g.build(), opset);
        }
    }

    private static final Random RND = new Random(7);

    static Tensor randn(long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, Math.round(RND.nextGaussian() * 100) / 50.0);
        return t;
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    private static AttributeProto floatsAttr(String name, float... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
        for (float x : v) b.addFloats(x);
        return b.build();
    }

    private static AttributeProto str(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(v)).build();
    }

    private static Case unary(String name, int opset, String op, Tensor x, AttributeProto... attrs) {
        return new Case(name, opset, node(op, List.of("x"), List.of("y"), attrs), Map.of("x", x), Map.of(),
                Map.of("y", FLOAT));
    }

    private static Map<String, Integer> outs(Object... nameAndType) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < nameAndType.length; i += 2) m.put((String) nameAndType[i], (Integer) nameAndType[i + 1]);
        return m;
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(unary("softmax_inner_axis", 11, "Softmax", randn(2, 3, 4), intAttr("axis", 1)));
        c.add(unary("softmax_default_axis", 1, "Softmax", randn(2, 3, 4, 5)));
        c.add(unary("softmax_last_axis", 11, "Softmax", randn(2, 3), intAttr("axis", -1)));
        c.add(unary("logsoftmax_axis0", 11, "LogSoftmax", randn(2, 3, 4), intAttr("axis", 0)));
        c.add(unary("hardmax_axis1", 11, "Hardmax", randn(2, 3, 4), intAttr("axis", 1)));

        c.add(new Case("upsample9_nearest", 9, node("Upsample", List.of("x", "s"), List.of("y")),
                Map.of("x", randn(1, 1, 2, 2)), Map.of("s", Tensor.ofFloats(new long[] {4}, 1, 1, 2, 3)), Map.of("y", FLOAT)));
        c.add(unary("upsample7_nearest", 7, "Upsample", randn(1, 2, 2, 3), floatsAttr("scales", 1, 1, 2, 2)));
        c.add(unary("upsample7_linear", 7, "Upsample", randn(1, 1, 2, 3), floatsAttr("scales", 1, 1, 2, 2),
                str("mode", "linear")));
        c.add(new Case("resize10_nearest_down", 10, node("Resize", List.of("x", "s"), List.of("y")),
                Map.of("x", randn(1, 1, 2, 4)), Map.of("s", Tensor.ofFloats(new long[] {4}, 1, 1, 0.6f, 0.6f)),
                Map.of("y", FLOAT)));
        c.add(new Case("resize10_nearest_mixed", 10, node("Resize", List.of("x", "s"), List.of("y")),
                Map.of("x", randn(1, 1, 4, 3)), Map.of("s", Tensor.ofFloats(new long[] {4}, 1, 1, 0.5f, 2f)),
                Map.of("y", FLOAT)));
        c.add(new Case("resize10_linear_up", 10, node("Resize", List.of("x", "s"), List.of("y"), str("mode", "linear")),
                Map.of("x", randn(1, 1, 2, 3)), Map.of("s", Tensor.ofFloats(new long[] {4}, 1, 1, 2f, 1.5f)),
                Map.of("y", FLOAT)));
        c.add(new Case("resize11_tf_half_pixel_for_nn", 11, node("Resize", List.of("x", "roi", "scales", "sizes"),
                List.of("y"), str("coordinate_transformation_mode", "tf_half_pixel_for_nn"), str("mode", "nearest")),
                Map.of("x", randn(1, 1, 4, 5)), Map.of("roi", Tensor.zeros(DType.FLOAT32, 0),
                "scales", Tensor.zeros(DType.FLOAT32, 0), "sizes", Tensor.vector(1, 1, 3, 7)), Map.of("y", FLOAT)));

        // The mask is not compared: ORT's Dropout-7 writes zeros in inference, Dropout-12+ (and ONNX's reference) ones.
        c.add(new Case("dropout7_mask", 7, node("Dropout", List.of("x"), List.of("y", "mask"), floatAttr("ratio", 0.4f)),
                Map.of("x", randn(2, 3)), Map.of(), outs("y", FLOAT)));
        c.add(unary("pad2_constant", 2, "Pad", randn(2, 3), ints("pads", 1, 0, 0, 2), floatAttr("value", 1.5f)));
        c.add(unary("pad2_reflect", 2, "Pad", randn(3, 4), ints("pads", 0, 1, 0, 2), str("mode", "reflect")));
        c.add(unary("clip6", 6, "Clip", randn(3, 4), floatAttr("min", -0.5f), floatAttr("max", 0.7f)));
        c.add(new Case("topk1", 1, node("TopK", List.of("x"), List.of("v", "i"), intAttr("k", 2), intAttr("axis", 1)),
                Map.of("x", randn(3, 5)), Map.of(), outs("v", FLOAT, "i", INT64)));
        c.add(unary("slice1", 1, "Slice", randn(4, 5), ints("starts", 1, -3), ints("ends", 3, 100), ints("axes", 0, 1)));
        c.add(new Case("split2", 2, node("Split", List.of("x"), List.of("a", "b"), intAttr("axis", 1), ints("split", 1, 3)),
                Map.of("x", randn(2, 4)), Map.of(), outs("a", FLOAT, "b", FLOAT)));
        c.add(unary("reducemean11", 11, "ReduceMean", randn(2, 3, 4), ints("axes", 1), intAttr("keepdims", 0)));
        c.add(unary("reducesum11", 11, "ReduceSum", randn(2, 3, 4), ints("axes", 0, 2)));
        c.add(unary("reducemax11_all", 11, "ReduceMax", randn(2, 3)));
        c.add(unary("squeeze11", 11, "Squeeze", randn(2, 1, 3), ints("axes", 1)));
        c.add(unary("unsqueeze11", 11, "Unsqueeze", randn(2, 3), ints("axes", 0, 3)));
        c.add(new Case("concat4", 4, node("Concat", List.of("a", "b"), List.of("y"), intAttr("axis", 1)),
                Map.of("a", randn(2, 3), "b", randn(2, 2)), Map.of(), Map.of("y", FLOAT)));
        c.add(new Case("batchnorm7_spatial0", 7, node("BatchNormalization", List.of("x", "s", "b", "m", "v"),
                List.of("y"), intAttr("spatial", 0), floatAttr("epsilon", 1e-3f)), Map.of("x", randn(2, 3, 4)),
                Map.of("s", randn(3, 4), "b", randn(3, 4), "m", randn(3, 4), "v", abs(randn(3, 4))), Map.of("y", FLOAT)));
        c.add(new Case("batchnorm9", 9, node("BatchNormalization", List.of("x", "s", "b", "m", "v"), List.of("y")),
                Map.of("x", randn(2, 3, 2, 2)), Map.of("s", randn(3), "b", randn(3), "m", randn(3), "v", abs(randn(3))),
                Map.of("y", FLOAT)));
        c.add(new Case("gemm7_broadcast_c", 7, node("Gemm", List.of("a", "b", "c"), List.of("y"), intAttr("transB", 1),
                floatAttr("beta", 0.5f)), Map.of("a", randn(2, 3), "b", randn(4, 3), "c", randn(4)), Map.of(), Map.of("y", FLOAT)));
        c.add(new Case("scatter9", 9, node("Scatter", List.of("d", "i", "u"), List.of("y"), intAttr("axis", 1)),
                Map.of("d", randn(2, 4), "u", randn(2, 2)), Map.of("i", Tensor.ofLongs(new long[] {2, 2}, 3, 0, 1, 2)),
                Map.of("y", FLOAT)));
        c.add(new Case("cast6", 6, node("Cast", List.of("x"), List.of("y"), intAttr("to", DType.INT32.onnxCode())),
                Map.of("x", randn(2, 3)), Map.of(), Map.of("y", DType.INT32.onnxCode())));
        c.add(scan8());
        return c;
    }

    private static Tensor abs(Tensor t) {
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, Math.abs(t.getDouble(i)) + 0.1);
        return t;
    }

    /** Scan-8 running sum over [batch=2, time=3, 2], with a final state and a scan output. */
    private static Case scan8() {
        GraphProto body = GraphProto.newBuilder().setName("body")
                .addInput(vi("s_in", FLOAT, 2)).addInput(vi("x_t", FLOAT, 2))
                .addOutput(vi("s_out", FLOAT, 2)).addOutput(vi("y_t", FLOAT, 2))
                .addNode(node("Add", List.of("s_in", "x_t"), List.of("s_out")))
                .addNode(node("Identity", List.of("s_out"), List.of("y_t"))).build();
        NodeProto scan = node("Scan", List.of("", "init", "xs"), List.of("final", "ys"),
                AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH).setG(body).build(),
                intAttr("num_scan_inputs", 1), ints("directions", 1));
        return new Case("scan8_reverse", 8, scan, Map.of("init", randn(2, 2), "xs", randn(2, 3, 2)), Map.of(),
                outs("final", FLOAT, "ys", FLOAT));
    }

    /** On ORT with its default graph optimizations (the export test turns them off). */
    private static List<Tensor> runOrt(byte[] model, Map<String, Tensor> feeds) throws Exception {
        return OrtRunner.run(model, feeds, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void upgradedNodeComputesWhatTheOldOneDid(Case c) throws Exception {
        ModelProto old = c.model();
        List<Tensor> want = runOrt(old.toByteArray(), c.inputs());
        Model m;
        try {
            m = OnnxImporter.fromProto(old, null);
        } catch (UnsupportedException e) {
            Assumptions.abort("not in the op table yet: " + e.getMessage());
            return;
        }
        List<Tensor> exported = runOrt(OnnxExporter.toProto(m).toByteArray(), c.inputs());
        for (int k = 0; k < want.size(); k++)
            assertNull(OrtRunner.mismatch(want.get(k), exported.get(k)), "output " + k + " on ORT after the upgrade");
        List<Object> interp = Interpreter.run(m, new LinkedHashMap<>(c.inputs()));
        for (int k = 0; k < want.size(); k++)
            assertNull(OrtRunner.mismatch(want.get(k), (Tensor) interp.get(k)), "output " + k + " on the interpreter");
    }
}
