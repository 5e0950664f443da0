package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** import -> export -> import gives a structurally equal graph; files, external data and attributes survive. */
class RoundTripTest {
    static final Path TESTDATA = Path.of("/usr/share/libonnx-testdata/data");
    /** PyTorch-exported MLP, CNN and transformer kept with the torture tests (run from the module folder). */
    static final Path PYTORCH_MODELS = Path.of("..", "torture-tests", "src", "test", "resources", "models");

    /** Every folder holding a model.onnx with test data: the ONNX suites and the PyTorch models. */
    static List<Path> modelDirs() throws IOException {
        List<Path> dirs = new ArrayList<>();
        for (Path root : List.of(TESTDATA, PYTORCH_MODELS)) {
            if (!Files.isDirectory(root)) continue;
            try (Stream<Path> s = Files.walk(root, 2)) {
                s.filter(p -> Files.exists(p.resolve("model.onnx"))).sorted().forEach(dirs::add);
            }
        }
        return dirs;
    }

    @TempDir
    Path tmp;

    static Model reimport(Model m) { return OnnxImporter.fromProto(OnnxExporter.toProto(m), null); }

    /** A small MLP-like graph with a symbolic batch dimension, weights and a Constant. */
    static Model smallModel() {
        var g = Graph.builder("mlp");
        var x = g.input("x", DType.FLOAT32, "batch", 4);
        var w = g.initializer("w", Tensor.ofFloats(new long[] {4}, 0.5f, -1f, 2f, 0f));
        var c = g.constant(Tensor.ofFloats(new long[] {1}, 0.25f));
        var h = g.relu(g.add(x, w));
        var y = g.relu(g.add(h, c));
        g.output(y);
        return g.buildModel();
    }

    @Test
    void builderModelRoundTrips() {
        Model m = smallModel();
        Model back = reimport(m);
        assertEquals(m.graph(), back.graph());
        assertEquals("batch", back.graph().inputs().get(0).tensorType().shape().dim(0).toString());
    }

    @Test
    void exportWritesOpset18ValueInfoAndDimParam() {
        ModelProto p = OnnxExporter.toProto(smallModel());
        assertEquals(1, p.getOpsetImportCount());
        assertEquals(18, p.getOpsetImport(0).getVersion());
        assertEquals("batch", p.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
        // every intermediate value is typed: the two Adds, the Relu and the Constant
        assertEquals(4, p.getGraph().getValueInfoCount());
        assertTrue(p.getGraph().getInitializer(0).hasRawData());
    }

    @Test
    void repeatedNodeNamesAreMadeUniqueForOnnxRuntime() {
        Type t = Type.tensor(DType.FLOAT32, 2);
        Value x = new Value("x", t), a = new Value("a", t), b = new Value("b", t);
        Graph g = new Graph("g", List.of(x), List.of(b), List.of(
                new Node("r", "", "Relu", List.of(x), List.of(a), Map.of()),
                new Node("r", "", "Relu", List.of(a), List.of(b), Map.of())), Map.of());
        ModelProto p = OnnxExporter.toProto(Model.of(g));
        assertEquals(List.of("r", "r_1"), p.getGraph().getNodeList().stream().map(n -> n.getName()).toList());
    }

    @Test
    void everyElementTypeRoundTrips() {
        var g = Graph.builder("types");
        List<Tensor> ts = List.of(
                Tensor.ofFloats(new long[] {2}, 1.5f, Float.NaN),
                Tensor.ofDoubles(new long[] {2}, 1e300, -0.0),
                Tensor.ofLongs(new long[] {2}, Long.MIN_VALUE, 7),
                Tensor.ofInts(new long[] {2}, -1, Integer.MAX_VALUE),
                Tensor.ofBools(new long[] {2}, true, false),
                Tensor.ofStrings(new long[] {2}, "héllo", ""),
                filled(DType.FLOAT16, 2), filled(DType.BFLOAT16, 2), filled(DType.INT8, 3), filled(DType.UINT8, 3),
                filled(DType.INT16, 1), filled(DType.UINT16, 1), filled(DType.UINT32, 2), filled(DType.UINT64, 2),
                Tensor.zeros(DType.FLOAT32, 0, 3), Tensor.scalar(DType.FLOAT64, 3));
        for (Tensor t : ts) g.output(g.op("Identity", List.of(g.initializer("w", t)), Map.of()));
        Model m = g.buildModel();
        assertEquals(m.graph(), reimport(m).graph());
    }

    private static Tensor filled(DType t, int n) {
        Tensor r = Tensor.zeros(t, n);
        for (int i = 0; i < n; i++) r.setDouble(i, i * 3 - 2.5);
        return r;
    }

    @Test
    void everyAttributeKindConverts() {
        Graph sub = smallModel().graph();
        List<Attr> attrs = List.of(Attr.of(1.5f), Attr.of(-3L), Attr.of("ünïcode"),
                Attr.of(Tensor.ofLongs(new long[] {2, 1}, 4, 5)), Attr.of(1f, 2f), Attr.of(1L, -2L),
                new Attr.StringsAttr(List.of("a", "b")),
                new Attr.TensorsAttr(List.of(Tensor.ofFloats(new long[] {1}, 3f), Tensor.vector(9))),
                new Attr.IntsAttr(new long[0]), Attr.of(sub), new Attr.GraphsAttr(List.of(sub, sub)));
        for (Attr a : attrs) {
            AttributeProto p = OnnxExporter.attributeProto("a", a);
            assertNotEquals(AttributeProto.AttributeType.UNDEFINED, p.getType());
            assertEquals(a, OnnxImporter.attribute(p), "kind " + a.kind());
        }
    }

    @Test
    void externalDataRoundTripsThroughFiles() throws IOException {
        var g = Graph.builder("ext");
        var x = g.input("x", DType.FLOAT32, 3);
        float[] big = new float[3000];
        for (int i = 0; i < big.length; i++) big[i] = i * 0.5f;
        var w1 = g.initializer("w1", Tensor.ofFloats(new long[] {1000, 3}, big));
        var w2 = g.initializer("w2", Tensor.ofLongs(new long[] {3}, 1, 2, 3));
        var w3 = g.initializer("w3", Tensor.ofFloats(new long[] {3}, 7, 8, 9));
        g.output(g.add(g.add(x, w1), w3));
        g.output(g.op("Identity", List.of(w2), Map.of()));
        Model m = g.buildModel();
        Path file = tmp.resolve("sub").resolve("ext.onnx");
        OnnxExporter.save(m, file, OnnxExporter.Options.DEFAULT.withExternalData(true).withExternalThreshold(16));
        assertTrue(Files.exists(tmp.resolve("sub").resolve("ext.onnx.data")));
        ModelProto p = OnnxImporter.parse(Files.readAllBytes(file), "ext.onnx");
        List<String> external = new ArrayList<>();
        for (TensorProto t : p.getGraph().getInitializerList()) {
            if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) continue;
            external.add(t.getName());
            long offset = Long.parseLong(t.getExternalDataList().stream().filter(e -> e.getKey().equals("offset"))
                    .findFirst().orElseThrow().getValue());
            assertEquals(0, offset % 64, "offsets are aligned");
        }
        assertEquals(List.of("w1", "w2"), external, "tensors under the threshold stay inline");
        assertEquals(m.graph(), OnnxImporter.load(file).graph());
        try (Stream<Path> files = Files.list(tmp.resolve("sub"))) {
            assertEquals(2, files.count(), "no temporary files are left behind");
        }
    }

    @Test
    void externalTensorsLargerThanOneChunkRoundTrip() {
        int n = 5_000_000; // 20 MB: more than one 16 MiB chunk of RawData
        float[] big = new float[n];
        for (int i = 0; i < n; i++) big[i] = i % 977 - 0.5f;
        var g = Graph.builder("big");
        var w = g.initializer("w", Tensor.ofFloats(new long[] {n}, big));
        g.output(g.op("Identity", List.of(w), Map.of()));
        Model m = g.buildModel();
        Path file = tmp.resolve("big.onnx");
        OnnxExporter.save(m, file, OnnxExporter.Options.DEFAULT.withExternalData(true));
        assertEquals(m.graph(), OnnxImporter.load(file).graph());
    }

    @Test
    void saveReplacesAnExistingFile() throws IOException {
        Path file = tmp.resolve("m.onnx");
        Files.writeString(file, "old");
        OnnxExporter.save(smallModel(), file);
        assertEquals(smallModel().graph(), OnnxImporter.load(file).graph());
    }

    @Test
    void conformanceModelsRoundTrip() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(TESTDATA), "ONNX test data not installed");
        List<Path> models = modelDirs().stream().map(d -> d.resolve("model.onnx")).toList();
        int checked = 0;
        List<String> failures = new ArrayList<>();
        for (Path f : models) {
            Model m;
            try {
                m = OnnxImporter.load(f);
            } catch (GaleException e) {
                continue; // ops not in the op table yet; the conformance suite reports these
            }
            checked++;
            try {
                Graph back = reimport(m).graph();
                if (!m.graph().equals(back)) failures.add(f.getParent().getFileName() + ": " + firstDifference(m.graph(), back));
            } catch (GaleException e) {
                failures.add(f.getParent().getFileName() + ": " + e.getMessage());
            }
        }
        System.out.println("round trip: " + checked + " of " + models.size() + " conformance models imported and checked");
        assertTrue(failures.isEmpty(), failures.size() + " models changed in the round trip: "
                + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
    }

    /** Where two graphs first differ, for a readable failure. */
    static String firstDifference(Graph a, Graph b) {
        if (!a.inputs().equals(b.inputs())) return "inputs " + a.inputs() + " vs " + b.inputs();
        if (!a.outputs().equals(b.outputs())) return "outputs " + a.outputs() + " vs " + b.outputs();
        if (!a.initializers().equals(b.initializers())) return "initializers differ";
        if (a.nodes().size() != b.nodes().size()) return "node count " + a.nodes().size() + " vs " + b.nodes().size();
        for (int i = 0; i < a.nodes().size(); i++) {
            Node x = a.nodes().get(i), y = b.nodes().get(i);
            if (!x.equals(y)) return "node " + i + ": " + x + " vs " + y;
        }
        return "name '" + a.name() + "' vs '" + b.name() + "'";
    }

    @Test
    void sequenceAndOptionalTypesConvert() {
        Type seq = new Type.SequenceType(Type.tensor(DType.FLOAT32, 2));
        Type opt = new Type.OptionalType(new Type.SequenceType(Type.unranked(DType.INT64)));
        for (Type t : List.of(seq, opt))
            assertEquals(t, OnnxImporter.type(OnnxExporter.typeProto(t), "v"));
    }
}
