package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.SparseTensorProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.gale.onnx.Protos.*;

/**
 * A corpus of malformed ONNX models, each paired with a fragment of the one-line error Gale must give for it. Every
 * case writes {@code <dir>/<name>/model.onnx} (plus any data files it needs); {@code <dir>/secret.bin} lies outside
 * every model folder, as the target that external-data escapes try to reach.
 *
 * <p>Run {@code main} with a folder to write the corpus for manual checks ({@code gale run <dir>/<name>/model.onnx}).
 */
final class BadModelCorpus {
    private BadModelCorpus() {}

    /** One malformed model: its name, what the error must say, and how to write it. */
    record Case(String name, String expected, Writer writer) {
        Path write(Path root) {
            try {
                Path dir = Files.createDirectories(root.resolve(name));
                Path model = dir.resolve("model.onnx");
                writer.write(dir, model, root);
                return model;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String toString() { return name; }
    }

    @FunctionalInterface
    interface Writer {
        void write(Path dir, Path model, Path root) throws IOException;
    }

    private static Writer bytes(byte[] b) { return (dir, model, root) -> Files.write(model, b); }

    private static Writer proto(ModelProto m) { return bytes(m.toByteArray()); }

    private static Writer graph(GraphProto.Builder g) { return proto(model(g.build(), 18)); }

    /** {@code y = Add(x, w)} with {@code w} an initializer stored in an external file. */
    private static GraphProto.Builder externalWeight(String location, long[] dims, long length) {
        TensorProto.Builder w = TensorProto.newBuilder().setName("w").setDataType(FLOAT)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        if (length >= 0)
            w.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(length)));
        for (long d : dims) w.addDims(d);
        return GraphProto.newBuilder().setName("ext").addInput(vi("x", FLOAT, dims)).addOutput(vi("y", FLOAT, dims))
                .addInitializer(w).addNode(node("Add", List.of("x", "w"), List.of("y")));
    }

    private static Writer external(String location, long[] dims, long length, int fileBytes) {
        return (dir, model, root) -> {
            Files.write(root.resolve("secret.bin"), new byte[24]);
            if (fileBytes >= 0) Files.write(dir.resolve("w.bin"), new byte[fileBytes]);
            Files.write(model, model(externalWeight(location, dims, length).build(), 18).toByteArray());
        };
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        byte[] valid = model(reluGraph().build(), 18).toByteArray();
        c.add(new Case("truncated", "truncated", bytes(Arrays.copyOf(valid, valid.length / 2))));
        byte[] noise = new byte[4096];
        new Random(42).nextBytes(noise);
        c.add(new Case("random-bytes", "ONNX model", bytes(noise)));
        c.add(new Case("empty-file", "empty", bytes(new byte[0])));
        c.add(new Case("text-file", "ONNX model", bytes("name,value\nx,1\n".getBytes(StandardCharsets.UTF_8))));
        c.add(new Case("no-graph", "no graph", proto(ModelProto.newBuilder().setIrVersion(8).build())));

        c.add(new Case("unknown-op", "unsupported op 'FancyRelu'",
                graph(reluGraph().setNode(0, node("FancyRelu", List.of("x"), List.of("y"))))));
        c.add(new Case("unknown-domain", "domain 'com.example'", proto(model(reluGraph()
                .setNode(0, node("Relu", List.of("x"), List.of("y")).toBuilder().setDomain("com.example")).build(), 18)
                .toBuilder().addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.example").setVersion(1))
                .build())));
        c.add(new Case("opset-too-new", "opset 99", proto(model(reluGraph().build(), 99))));
        c.add(new Case("training-opset-too-new", "ai.onnx.preview.training opset 7", proto(model(reluGraph().build(), 18)
                .toBuilder().addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.preview.training")
                        .setVersion(7)).build())));
        c.add(new Case("unknown-attribute", "unknown attribute 'alpha'", graph(reluGraph()
                .setNode(0, node("Relu", List.of("x"), List.of("y"), floatAttr("alpha", 0.1f))))));
        c.add(new Case("function-attribute", "function", graph(reluGraph().setNode(0, node("LeakyRelu",
                List.of("x"), List.of("y"), AttributeProto.newBuilder().setName("alpha").setRefAttrName("a")
                        .setType(AttributeProto.AttributeType.FLOAT).build())))));

        c.add(new Case("declared-shape-mismatch", "declared shape [3,2]",
                graph(reluGraph().setOutput(0, vi("y", FLOAT, 3, 2)))));
        c.add(new Case("declared-rank-mismatch", "declared shape [6]",
                graph(reluGraph().setOutput(0, vi("y", FLOAT, 6)))));
        c.add(new Case("declared-type-mismatch", "declared element type i64",
                graph(reluGraph().setOutput(0, vi("y", INT64, 2, 3)))));
        c.add(new Case("intermediate-type-mismatch", "output 'h': declared element type i64", graph(reluGraph()
                .setNode(0, node("Relu", List.of("x"), List.of("h"))).addNode(node("Relu", List.of("h"), List.of("y")))
                .addValueInfo(vi("h", INT64, 2, 3)))));
        c.add(new Case("negative-dimension", "negative dimension", graph(reluGraph().setInput(0, vi("x", FLOAT, 2, -3)))));
        c.add(new Case("unknown-element-type", "element type code 99", graph(reluGraph().setInput(0,
                ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(99).setShape(TensorShapeProto.getDefaultInstance())))
                        .build()))));

        GraphProto.Builder addW = GraphProto.newBuilder().setName("addw").addInput(vi("x", FLOAT, 2, 3))
                .addOutput(vi("y", FLOAT, 2, 3)).addNode(node("Add", List.of("x", "w"), List.of("y")));
        c.add(new Case("initializer-size-mismatch", "raw_data holds 20", graph(addW.clone()
                .addInitializer(floats("w", new long[] {2, 3}, 1, 2, 3, 4, 5)))));
        c.add(new Case("initializer-typed-count-mismatch", "float_data holds 2", graph(addW.clone()
                .addInitializer(TensorProto.newBuilder().setName("w").setDataType(FLOAT).addDims(2).addDims(3)
                        .addFloatData(1).addFloatData(2)))));
        c.add(new Case("initializer-huge", "too large", graph(addW.clone()
                .addInitializer(floats("w", new long[] {100000, 100000, 100000}, 1)))));
        c.add(new Case("initializer-big-tiny-data", "raw_data holds 4", graph(addW.clone()
                .addInitializer(floats("w", new long[] {1 << 15, 1 << 15}, 1)))));
        c.add(new Case("initializer-negative-dim", "negative dimension", graph(addW.clone()
                .addInitializer(floats("w", new long[] {-2, 3}, 1)))));
        c.add(new Case("initializer-twice", "defined twice", graph(addW.clone()
                .addInitializer(floats("w", new long[] {1}, 1)).addInitializer(floats("w", new long[] {1}, 2)))));
        c.add(new Case("input-initializer-disagree", "initializer has shape [1]", graph(addW.clone()
                .addInput(vi("w", FLOAT, 2, 3)).addInitializer(floats("w", new long[] {1}, 1)))));
        c.add(new Case("sparse-index-out-of-range", "out of range", graph(addW.clone()
                .addSparseInitializer(SparseTensorProto.newBuilder().addDims(2).addDims(3)
                        .setValues(floats("w", new long[] {1}, 1))
                        .setIndices(TensorProto.newBuilder().setDataType(INT64).addDims(1).addInt64Data(6))))));

        c.add(new Case("external-dotdot", "escapes the model's folder",
                external("../secret.bin", new long[] {2, 3}, -1, 24)));
        c.add(new Case("external-deep-dotdot", "escapes the model's folder",
                external("../../../../etc/passwd", new long[] {2, 3}, -1, 24)));
        c.add(new Case("external-absolute", "absolute path", external("/etc/passwd", new long[] {2, 3}, -1, 24)));
        c.add(new Case("external-symlink-out", "link that leads out", (dir, model, root) -> {
            Files.write(root.resolve("secret.bin"), new byte[24]);
            Files.deleteIfExists(dir.resolve("link.bin"));
            Files.createSymbolicLink(dir.resolve("link.bin"), Path.of("..", "secret.bin"));
            Files.write(model, model(externalWeight("link.bin", new long[] {2, 3}, -1).build(), 18).toByteArray());
        }));
        c.add(new Case("external-too-short", "has 8 bytes", external("w.bin", new long[] {2, 3}, -1, 8)));
        c.add(new Case("external-huge-tiny-file", "has 8 bytes", external("w.bin", new long[] {1 << 15, 1 << 15}, -1, 8)));
        c.add(new Case("external-missing", "not found", external("nowhere.bin", new long[] {2, 3}, -1, -1)));
        c.add(new Case("external-length-mismatch", "length 12", external("w.bin", new long[] {2, 3}, 12, 24)));

        c.add(new Case("duplicate-value", "both define value 'y'", graph(reluGraph()
                .addNode(node("Relu", List.of("x"), List.of("y")).toBuilder().setName("again")))));
        c.add(new Case("output-shadows-input", "already defined", graph(reluGraph()
                .addNode(node("Relu", List.of("y"), List.of("x"))))));
        c.add(new Case("undefined-input", "input 'ghost' is not defined", graph(reluGraph()
                .setNode(0, node("Add", List.of("x", "ghost"), List.of("y"))))));
        c.add(new Case("cycle", "cycle", graph(reluGraph()
                .setNode(0, node("Add", List.of("x", "b"), List.of("a")))
                .addNode(node("Relu", List.of("a"), List.of("b")))
                .addNode(node("Relu", List.of("a"), List.of("y"))))));
        c.add(new Case("self-loop", "cycle", graph(reluGraph()
                .setNode(0, node("Add", List.of("x", "y"), List.of("y"))))));
        c.add(new Case("subgraph-undefined-input", "input 'ghost' is not defined", graph(ifGraph(
                branch("then", node("Identity", List.of("ghost"), List.of("t_out")), "t_out")))));
        c.add(new Case("subgraph-cycle", "graph 'then' has a cycle", graph(ifGraph(GraphProto.newBuilder()
                .setName("then").addOutput(vi("p", FLOAT, 2, 3))
                .addNode(node("Add", List.of("x", "q"), List.of("p")))
                .addNode(node("Relu", List.of("p"), List.of("q"))).build()))));
        c.add(new Case("nested-too-deep", "nested more than 200", graph(ifGraph(deeplyNested(100)))));
        c.add(new Case("output-never-defined", "output 'z'", graph(reluGraph().addOutput(vi("z", FLOAT, 2, 3)))));
        return c;
    }

    /** {@code y = If(c) then <then> else Relu(x)}, with a bool input {@code c}. */
    private static GraphProto.Builder ifGraph(GraphProto then) {
        GraphProto otherwise = branch("else", node("Relu", List.of("x"), List.of("e_out")), "e_out");
        return reluGraph().addInput(vi("c", TensorProto.DataType.BOOL_VALUE))
                .setNode(0, node("If", List.of("c"), List.of("y"), graphAttr("then_branch", then),
                        graphAttr("else_branch", otherwise)));
    }

    private static GraphProto branch(String name, ai.onnx.proto.OnnxMl.NodeProto n, String out) {
        return GraphProto.newBuilder().setName(name).addNode(n).addOutput(vi(out, FLOAT, 2, 3)).build();
    }

    private static AttributeProto graphAttr(String name, GraphProto g) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
    }

    /** Branches nested {@code depth} Ifs deep: more than protobuf's recursion limit allows. */
    private static GraphProto deeplyNested(int depth) {
        GraphProto leaf = branch("leaf", node("Relu", List.of("x"), List.of("leaf_out")), "leaf_out");
        GraphProto g = leaf;
        for (int i = 0; i < depth; i++) {
            String out = "o" + i;
            g = GraphProto.newBuilder().setName("level" + i).addOutput(vi(out, FLOAT, 2, 3))
                    .addNode(node("If", List.of("c"), List.of(out), graphAttr("then_branch", g), graphAttr("else_branch", leaf)))
                    .build();
        }
        return g;
    }

    public static void main(String[] args) {
        Path root = Path.of(args.length > 0 ? args[0] : "bad-onnx-corpus");
        for (Case c : cases()) System.out.println(c.write(root) + "\t" + c.expected());
    }

    static ByteString utf8(String s) { return ByteString.copyFromUtf8(s); }
}
