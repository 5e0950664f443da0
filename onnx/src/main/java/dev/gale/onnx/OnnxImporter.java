package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.UnsupportedException;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.ir.op.OpTable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Imports an ONNX model into Gale's IR: types, initializers (raw, typed and external data), attributes of every kind,
 * and nested graphs. Nodes written against an older opset are rewritten into the op table's form by
 * {@link OpsetUpgrader}. The result is type-inferred and verified; every problem is a {@link GaleException} that names
 * the file, node or tensor.
 */
public final class OnnxImporter {
    private final ExternalData external;
    private final Map<String, Integer> opsets = new HashMap<>();
    private final OpsetUpgrader upgrader;

    private OnnxImporter(ExternalData external, Map<String, Integer> opsets) {
        this.external = external;
        this.opsets.putAll(opsets);
        this.upgrader = new OpsetUpgrader(this.opsets);
    }

    /** Reads, upgrades, type-infers and verifies an {@code .onnx} file. */
    public static Model load(Path file) {
        byte[] bytes = OnnxTensors.readBytes(file);
        ModelProto proto = parse(bytes, file.toString());
        Path dir = file.toAbsolutePath().getParent();
        try {
            return fromProto(proto, dir);
        } catch (UnsupportedException e) {
            throw new UnsupportedException(file.getFileName() + ": " + e.getMessage());
        } catch (GaleException e) {
            throw new GaleException(file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** The op types a model file uses (nested graphs included), read without importing it; empty if unreadable. */
    public static List<String> opTypes(Path file) {
        try {
            java.util.TreeSet<String> ops = new java.util.TreeSet<>();
            collectOps(parse(OnnxTensors.readBytes(file), file.toString()).getGraph(), ops);
            return List.copyOf(ops);
        } catch (GaleException e) {
            return List.of();
        }
    }

    private static void collectOps(GraphProto g, java.util.Set<String> ops) {
        for (NodeProto n : g.getNodeList()) {
            ops.add(n.getOpType());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) collectOps(a.getG(), ops);
                for (GraphProto sub : a.getGraphsList()) collectOps(sub, ops);
            }
        }
    }

    public static ModelProto parse(byte[] bytes, String where) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(200);
            ModelProto m = ModelProto.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
            if (!m.hasGraph())
                throw new GaleException(where + ": not an ONNX model (no graph; is this a truncated or non-ONNX file?)");
            return m;
        } catch (IOException e) {
            throw new GaleException(where + ": not a valid ONNX model (the protobuf could not be parsed: "
                    + e.getMessage() + "); is the file truncated or of another format?");
        }
    }

    /** Imports a parsed model; {@code baseDir} resolves external data (null forbids it). */
    public static Model fromProto(ModelProto proto, Path baseDir) {
        Map<String, Integer> opsets = new HashMap<>();
        for (OperatorSetIdProto o : proto.getOpsetImportList()) {
            String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
            opsets.put(d, (int) o.getVersion());
        }
        if (opsets.isEmpty()) opsets.put("", OpsetInfo.MAX_DEFAULT_OPSET);
        int def = opsets.getOrDefault("", OpsetInfo.MAX_DEFAULT_OPSET);
        if (def > OpsetInfo.MAX_DEFAULT_OPSET)
            throw new GaleException("the model uses ai.onnx opset " + def + ", newer than Gale supports ("
                    + OpsetInfo.MIN_DEFAULT_OPSET + " to " + OpsetInfo.MAX_DEFAULT_OPSET
                    + "); export it with opset_version=" + OpsetInfo.MAX_DEFAULT_OPSET + " or lower");
        Integer training = opsets.get(OpsetInfo.TRAINING_DOMAIN);
        if (training != null && training > OpsetInfo.MAX_TRAINING_OPSET)
            throw new GaleException("the model uses " + OpsetInfo.TRAINING_DOMAIN + " opset " + training
                    + ", newer than Gale supports (" + OpsetInfo.MAX_TRAINING_OPSET + ")");
        OnnxImporter imp = new OnnxImporter(baseDir == null ? null : new ExternalData(baseDir), opsets);
        Graph g = imp.graph(proto.getGraph(), Map.of());
        g = ShapeInference.run(g);
        Verifier.verify(g);
        Map<String, String> meta = new LinkedHashMap<>();
        for (StringStringEntryProto e : proto.getMetadataPropsList()) meta.put(e.getKey(), e.getValue());
        String producer = proto.getProducerName() + (proto.getProducerVersion().isEmpty() ? "" : " " + proto.getProducerVersion());
        return new Model(g, opsets, producer, meta);
    }

    Graph graph(GraphProto gp, Map<String, Type> outer) {
        Map<String, Type> declared = new HashMap<>();
        for (ValueInfoProto vi : gp.getValueInfoList()) declared.put(vi.getName(), type(vi.getType(), vi.getName()));
        for (ValueInfoProto vi : gp.getOutputList()) declared.put(vi.getName(), type(vi.getType(), vi.getName()));
        Map<String, Tensor> init = new LinkedHashMap<>();
        for (TensorProto tp : gp.getInitializerList()) {
            if (tp.getName().isEmpty()) throw new GaleException("graph '" + gp.getName() + "': an initializer has no name");
            init.put(tp.getName(), OnnxTensors.fromProto(tp, external));
        }
        for (var sp : gp.getSparseInitializerList()) {
            Tensor dense = SparseTensors.toDense(sp, external);
            init.put(sp.getValues().getName(), dense);
        }
        List<Value> inputs = new ArrayList<>();
        for (ValueInfoProto vi : gp.getInputList()) {
            Type t = type(vi.getType(), vi.getName());
            Tensor i = init.get(vi.getName());
            inputs.add(new Value(vi.getName(), t == null && i != null ? i.type() : t));
        }
        Map<String, Type> scope = new HashMap<>(outer);
        for (Value v : inputs) scope.put(v.name(), v.type());
        for (Map.Entry<String, Tensor> e : init.entrySet()) scope.put(e.getKey(), e.getValue().type());
        List<Node> nodes = new ArrayList<>();
        int index = 0;
        for (NodeProto np : gp.getNodeList()) {
            Node n = node(np, declared, scope, index++);
            nodes.addAll(upgrader.upgrade(n));
            for (Value v : n.outputs()) if (!v.isNone()) scope.put(v.name(), v.type());
        }
        List<Value> outputs = new ArrayList<>();
        for (ValueInfoProto vi : gp.getOutputList()) outputs.add(new Value(vi.getName(), declared.get(vi.getName())));
        return new Graph(gp.getName(), inputs, outputs, nodes, init);
    }

    private Node node(NodeProto np, Map<String, Type> declared, Map<String, Type> scope, int index) {
        String domain = np.getDomain().equals("ai.onnx") ? "" : np.getDomain();
        String where = np.getName().isEmpty() ? "node #" + index + " (" + np.getOpType() + ")"
                : "node '" + np.getName() + "' (" + np.getOpType() + ")";
        OpTable.require(domain, np.getOpType(), where);
        List<Value> in = new ArrayList<>();
        for (String s : np.getInputList()) in.add(s.isEmpty() ? Value.NONE : new Value(s, scope.get(s)));
        List<Value> out = new ArrayList<>();
        for (String s : np.getOutputList()) out.add(s.isEmpty() ? Value.NONE : new Value(s, declared.get(s)));
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (AttributeProto ap : np.getAttributeList()) {
            if (!ap.getRefAttrName().isEmpty())
                throw new GaleException(where + ": attribute '" + ap.getName() + "' refers to a function attribute; "
                        + "functions are not supported");
            attrs.put(ap.getName(), attr(ap, where, scope));
        }
        return new Node(np.getName(), domain, np.getOpType(), in, out, attrs);
    }

    private Attr attr(AttributeProto ap, String where, Map<String, Type> scope) {
        AttributeProto.AttributeType t = ap.getType();
        if (t == AttributeProto.AttributeType.UNDEFINED) t = guessType(ap);
        return switch (t) {
            case FLOAT -> Attr.of(ap.getF());
            case INT -> Attr.of(ap.getI());
            case STRING -> Attr.of(ap.getS().toStringUtf8());
            case TENSOR -> Attr.of(OnnxTensors.fromProto(ap.getT(), external));
            case GRAPH -> Attr.of(graph(ap.getG(), scope));
            case FLOATS -> {
                float[] v = new float[ap.getFloatsCount()];
                for (int i = 0; i < v.length; i++) v[i] = ap.getFloats(i);
                yield new Attr.FloatsAttr(v);
            }
            case INTS -> {
                long[] v = new long[ap.getIntsCount()];
                for (int i = 0; i < v.length; i++) v[i] = ap.getInts(i);
                yield new Attr.IntsAttr(v);
            }
            case STRINGS -> new Attr.StringsAttr(ap.getStringsList().stream().map(ByteString::toStringUtf8).toList());
            case TENSORS -> new Attr.TensorsAttr(ap.getTensorsList().stream()
                    .map(x -> OnnxTensors.fromProto(x, external)).toList());
            case GRAPHS -> new Attr.GraphsAttr(ap.getGraphsList().stream().map(x -> graph(x, scope)).toList());
            case SPARSE_TENSOR -> Attr.of(SparseTensors.toDense(ap.getSparseTensor(), external));
            case TYPE_PROTO -> new Attr.TypeAttr(type(ap.getTp(), ap.getName()));
            default -> throw new GaleException(where + ": attribute '" + ap.getName() + "' has unsupported kind " + t);
        };
    }

    private static AttributeProto.AttributeType guessType(AttributeProto ap) {
        if (ap.hasF()) return AttributeProto.AttributeType.FLOAT;
        if (ap.hasI()) return AttributeProto.AttributeType.INT;
        if (ap.hasS()) return AttributeProto.AttributeType.STRING;
        if (ap.hasT()) return AttributeProto.AttributeType.TENSOR;
        if (ap.hasG()) return AttributeProto.AttributeType.GRAPH;
        if (ap.getFloatsCount() > 0) return AttributeProto.AttributeType.FLOATS;
        if (ap.getIntsCount() > 0) return AttributeProto.AttributeType.INTS;
        if (ap.getStringsCount() > 0) return AttributeProto.AttributeType.STRINGS;
        if (ap.getTensorsCount() > 0) return AttributeProto.AttributeType.TENSORS;
        if (ap.getGraphsCount() > 0) return AttributeProto.AttributeType.GRAPHS;
        return AttributeProto.AttributeType.INTS;
    }

    /** Converts an ONNX TypeProto; null when the type is absent. */
    public static Type type(TypeProto tp, String name) {
        return switch (tp.getValueCase()) {
            case TENSOR_TYPE -> {
                TypeProto.Tensor tt = tp.getTensorType();
                Shape shape = null;
                if (tt.hasShape()) {
                    List<Dim> dims = new ArrayList<>();
                    for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
                        if (d.hasDimValue()) {
                            if (d.getDimValue() < 0)
                                throw new GaleException("value '" + name + "' declares negative dimension " + d.getDimValue());
                            dims.add(Dim.of(d.getDimValue()));
                        } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) dims.add(Dim.sym(d.getDimParam()));
                        else dims.add(Dim.UNKNOWN);
                    }
                    shape = new Shape(dims);
                }
                if (tt.getElemType() == 0) yield null;
                yield new Type.TensorType(dev.gale.ir.DType.fromOnnx(tt.getElemType()), shape);
            }
            case SEQUENCE_TYPE -> new Type.SequenceType(type(tp.getSequenceType().getElemType(), name));
            case OPTIONAL_TYPE -> new Type.OptionalType(type(tp.getOptionalType().getElemType(), name));
            case VALUE_NOT_SET -> null;
            default -> throw new GaleException("value '" + name + "' has an unsupported type (" + tp.getValueCase() + ")");
        };
    }

    static String utf8(ByteString b) { return new String(b.toByteArray(), StandardCharsets.UTF_8); }

    static boolean exists(Path p) { return Files.exists(p); }
}
