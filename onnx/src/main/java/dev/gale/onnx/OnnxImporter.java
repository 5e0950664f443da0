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
import dev.gale.ir.DType;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Imports an ONNX model into Gale's IR: types, initializers (raw, typed and external data), attributes of every kind,
 * and nested graphs. Each graph is checked for values read before they are defined, defined twice, or caught in a
 * cycle (nodes out of order are sorted); nodes written against an older opset are rewritten into the op table's form
 * by {@link OpsetUpgrader}, and every node's types are inferred as it is added so that later rewrites see them. The
 * result is verified; every problem is a one-line {@link GaleException} that names the file, node or tensor.
 */
public final class OnnxImporter {
    private final ExternalData external;
    private final OpsetUpgrader upgrader;
    /** Every value name the model uses, so that names made by upgrades never collide. */
    private final Set<String> names = new HashSet<>();
    /** Outputs that old ops had and their upgraded form lacks, with the error to give if something reads them. */
    private final Map<String, String> dropped = new HashMap<>();

    private OnnxImporter(ExternalData external, Map<String, Integer> opsets) {
        this.external = external;
        this.upgrader = new OpsetUpgrader(opsets);
    }

    /** Reads, upgrades, type-infers and verifies an {@code .onnx} file. */
    public static Model load(Path file) {
        byte[] bytes = OnnxTensors.readBytes(file);
        String where = file.getFileName().toString();
        try {
            ModelProto proto = parse(bytes, where);
            return fromProto(proto, file.toAbsolutePath().getParent());
        } catch (UnsupportedException e) {
            throw new UnsupportedException(prefixed(where, e.getMessage()));
        } catch (GaleException e) {
            throw new GaleException(prefixed(where, e.getMessage()), e);
        } catch (StackOverflowError e) {
            throw new GaleException(where + ": the model's graphs are nested too deeply to import");
        } catch (RuntimeException e) {
            throw new GaleException(where + ": cannot import (internal error: " + oneLine(String.valueOf(e))
                    + "); please report this with the model", e);
        }
    }

    private static String prefixed(String where, String message) {
        String m = oneLine(message);
        return m.startsWith(where + ":") ? m : where + ": " + m;
    }

    static String oneLine(String s) { return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip(); }

    /** The op types a model file uses (nested graphs included), read without importing it; empty if unreadable. */
    public static List<String> opTypes(Path file) {
        try {
            TreeSet<String> ops = new TreeSet<>();
            collectOps(parse(OnnxTensors.readBytes(file), file.toString()).getGraph(), ops);
            return List.copyOf(ops);
        } catch (GaleException e) {
            return List.of();
        }
    }

    private static void collectOps(GraphProto g, Set<String> ops) {
        for (NodeProto n : g.getNodeList()) {
            ops.add(n.getOpType());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) collectOps(a.getG(), ops);
                for (GraphProto sub : a.getGraphsList()) collectOps(sub, ops);
            }
        }
    }

    public static ModelProto parse(byte[] bytes, String where) {
        if (bytes.length == 0) throw new GaleException(where + ": the file is empty, not an ONNX model");
        ModelProto m;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(200);
            in.enableAliasing(true); // tensor bytes stay views of the file's bytes, not a second copy of the weights
            m = ModelProto.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
        } catch (IOException e) {
            String why = e.getMessage() == null ? "" : e.getMessage();
            if (why.contains("levels of nesting"))
                throw new GaleException(where + ": cannot read the model: its graphs are nested more than 200 protobuf "
                        + "levels deep");
            if (why.contains("ended unexpectedly") || why.contains("truncated")) why = "the data ends in the middle of a field";
            else why = oneLine(why.split("\\.\\s")[0]).replaceAll("\\.$", "");
            throw new GaleException(where + ": not a valid ONNX model (" + why + "); is the file truncated or of "
                    + "another format?");
        } catch (RuntimeException e) {
            throw new GaleException(where + ": not a valid ONNX model (" + oneLine(e.toString()) + ")");
        }
        if (!m.hasGraph())
            throw new GaleException(where + ": not an ONNX model (it has no graph); is this a truncated or non-ONNX file?");
        return m;
    }

    /** Imports a parsed model; {@code baseDir} resolves external data (null forbids it). */
    public static Model fromProto(ModelProto proto, Path baseDir) {
        Map<String, Integer> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : proto.getOpsetImportList()) {
            String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
            if (o.getVersion() < 1 || o.getVersion() > Integer.MAX_VALUE)
                throw new GaleException("the model imports opset " + o.getVersion() + " of domain '"
                        + (d.isEmpty() ? "ai.onnx" : d) + "', which is not a valid version");
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
        imp.collectNames(proto.getGraph());
        Graph g = imp.graph(proto.getGraph(), null);
        g = ShapeInference.run(g);
        Verifier.verify(g);
        Map<String, String> meta = new LinkedHashMap<>();
        for (StringStringEntryProto e : proto.getMetadataPropsList()) meta.put(e.getKey(), e.getValue());
        String producer = proto.getProducerName() + (proto.getProducerVersion().isEmpty() ? "" : " " + proto.getProducerVersion());
        return new Model(g, opsets, producer, meta);
    }

    private void collectNames(GraphProto g) {
        for (ValueInfoProto v : g.getInputList()) names.add(v.getName());
        for (ValueInfoProto v : g.getOutputList()) names.add(v.getName());
        for (ValueInfoProto v : g.getValueInfoList()) names.add(v.getName());
        for (TensorProto t : g.getInitializerList()) names.add(t.getName());
        for (NodeProto n : g.getNodeList()) {
            names.addAll(n.getInputList());
            names.addAll(n.getOutputList());
            names.add(n.getName());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) collectNames(a.getG());
                for (GraphProto sub : a.getGraphsList()) collectNames(sub);
            }
        }
    }

    /** The values visible in one graph: its own and those of the graphs around it. */
    private final class GraphScope implements OpsetUpgrader.Scope {
        final Map<String, Type> types;
        final Map<String, Tensor> constants;
        final Set<String> visible;

        GraphScope(GraphScope outer) {
            types = outer == null ? new HashMap<>() : new HashMap<>(outer.types);
            constants = outer == null ? new HashMap<>() : new HashMap<>(outer.constants);
            visible = outer == null ? new HashSet<>() : new HashSet<>(outer.visible);
        }

        void define(String name, Type type) {
            visible.add(name);
            if (type != null) types.put(name, type);
            else types.remove(name);
            constants.remove(name);
        }

        @Override public Type typeOf(String value) { return types.get(value); }

        @Override public Map<String, Type> types() { return types; }

        @Override public Tensor constantOf(String value) { return constants.get(value); }

        @Override
        public String fresh(String hint) {
            String n = hint;
            for (int i = 1; names.contains(n); i++) n = hint + "_" + i;
            names.add(n);
            return n;
        }

        @Override public void dropped(String value, String reason) { dropped.put(value, reason); }
    }

    Graph graph(GraphProto gp, GraphScope outer) {
        String gname = gp.getName().isEmpty() ? "main" : gp.getName();
        Map<String, Type> declared = new HashMap<>();
        for (ValueInfoProto vi : gp.getValueInfoList()) declared.put(vi.getName(), type(vi.getType(), vi.getName()));
        for (ValueInfoProto vi : gp.getOutputList()) declared.put(vi.getName(), type(vi.getType(), vi.getName()));
        Map<String, Tensor> init = new LinkedHashMap<>();
        for (TensorProto tp : gp.getInitializerList()) {
            if (tp.getName().isEmpty()) throw new GaleException("graph '" + gname + "': an initializer has no name");
            if (init.put(tp.getName(), OnnxTensors.fromProto(tp, external)) != null)
                throw new GaleException("graph '" + gname + "': initializer '" + tp.getName() + "' is defined twice");
        }
        for (var sp : gp.getSparseInitializerList()) {
            String n = sp.getValues().getName();
            if (n.isEmpty()) throw new GaleException("graph '" + gname + "': a sparse initializer has no name");
            if (init.put(n, SparseTensors.toDense(sp, external)) != null)
                throw new GaleException("graph '" + gname + "': initializer '" + n + "' is defined twice");
        }
        GraphScope scope = new GraphScope(outer);
        List<Value> inputs = new ArrayList<>();
        Set<String> inputNames = new HashSet<>();
        for (ValueInfoProto vi : gp.getInputList()) {
            String n = vi.getName();
            if (n.isEmpty()) throw new GaleException("graph '" + gname + "': an input has no name");
            if (!inputNames.add(n)) throw new GaleException("graph '" + gname + "': input '" + n + "' is declared twice");
            Type t = type(vi.getType(), n);
            Tensor i = init.get(n);
            if (i != null) t = checkInitializerType(t, i, n, gname);
            inputs.add(new Value(n, t));
            scope.define(n, t);
        }
        for (Map.Entry<String, Tensor> e : init.entrySet()) {
            if (!inputNames.contains(e.getKey())) scope.define(e.getKey(), e.getValue().type());
            scope.constants.put(e.getKey(), e.getValue());
        }
        List<Node> nodes = new ArrayList<>();
        for (int index : GraphOrder.sort(gp, gname, scope.visible)) {
            NodeProto np = gp.getNode(index);
            Node n = node(np, declared, scope, index);
            for (Node u : upgrader.upgrade(n, scope)) {
                OpTable.require(u.domain(), u.op(), u.op().equals(n.op()) ? GraphOrder.where(gp, index)
                        : u.describe() + " (made from " + GraphOrder.where(gp, index) + ")");
                // Values made by the upgrade get the types inferred for them, as values read from the file do.
                List<Value> ins = new ArrayList<>(u.inputs().size());
                for (Value v : u.inputs()) ins.add(v.isNone() ? v : new Value(v.name(), scope.typeOf(v.name())));
                Node typed = ShapeInference.inferNode(u.withInputs(ins), scope.types, scope.constants);
                nodes.add(typed);
                for (Value v : typed.outputs()) if (!v.isNone()) scope.define(v.name(), v.type());
                if (typed.op().equals("Constant") && typed.domain().isEmpty()
                        && typed.attr("value") instanceof Attr.TensorAttr t)
                    scope.constants.put(typed.output(0).name(), t.value());
            }
        }
        List<Value> outputs = new ArrayList<>();
        for (ValueInfoProto vi : gp.getOutputList()) {
            if (!scope.visible.contains(vi.getName())) {
                String reason = dropped.get(vi.getName());
                throw new GaleException("graph '" + gname + "': output '" + vi.getName() + "' "
                        + (reason != null ? "does not exist: " + reason : "is not produced by any node, input or "
                        + "initializer"));
            }
            outputs.add(new Value(vi.getName(), declared.get(vi.getName())));
        }
        return new Graph(gp.getName(), inputs, outputs, nodes, init);
    }

    /** A graph input with an initializer must agree with it: the declared type is checked, not trusted. */
    private static Type checkInitializerType(Type declared, Tensor init, String name, String gname) {
        if (declared == null) return init.type();
        if (!(declared instanceof Type.TensorType tt) || tt.dtype() != init.dtype())
            throw new GaleException("graph '" + gname + "': input '" + name + "' is declared " + declared
                    + " but its initializer is " + init.type());
        if (tt.shape() != null) {
            Shape s = tt.shape();
            boolean fits = s.rank() == init.rank();
            for (int k = 0; fits && k < s.rank(); k++) fits = !s.dim(k).isFixed() || s.dim(k).sizeOr(-1) == init.dim(k);
            if (!fits)
                throw new GaleException("graph '" + gname + "': input '" + name + "' is declared with shape " + s
                        + " but its initializer has shape " + Shape.of(init.shape()));
        }
        return declared;
    }

    private Node node(NodeProto np, Map<String, Type> declared, GraphScope scope, int index) {
        String domain = np.getDomain().equals("ai.onnx") ? "" : np.getDomain();
        String where = np.getName().isEmpty() ? "node #" + index + " (" + np.getOpType() + ")"
                : "node '" + np.getName() + "' (" + np.getOpType() + ")";
        if (np.getOpType().isEmpty()) throw new GaleException(where + ": has no op_type");
        List<Value> in = new ArrayList<>();
        for (String s : np.getInputList()) {
            if (s.isEmpty()) {
                in.add(Value.NONE);
                continue;
            }
            if (!scope.visible.contains(s)) {
                String reason = dropped.get(s);
                throw new GaleException(where + ": input '" + s + "' "
                        + (reason != null ? "does not exist: " + reason : "is not defined by any graph input, "
                        + "initializer or earlier node"));
            }
            in.add(new Value(s, scope.typeOf(s)));
        }
        List<Value> out = new ArrayList<>();
        for (String s : np.getOutputList()) out.add(s.isEmpty() ? Value.NONE : new Value(s, declared.get(s)));
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (AttributeProto ap : np.getAttributeList()) {
            if (!ap.getRefAttrName().isEmpty())
                throw new GaleException(where + ": attribute '" + ap.getName() + "' refers to a function attribute; "
                        + "functions are not supported");
            if (ap.getName().isEmpty()) throw new GaleException(where + ": has an attribute without a name");
            if (attrs.put(ap.getName(), attr(ap, where, scope)) != null)
                throw new GaleException(where + ": attribute '" + ap.getName() + "' is given twice");
        }
        return new Node(np.getName(), domain, np.getOpType(), in, out, attrs);
    }

    /** Converts one attribute outside any model (no external data, no enclosing graph). */
    static Attr attribute(AttributeProto ap) {
        OnnxImporter imp = new OnnxImporter(null, Map.of("", OpsetInfo.MAX_DEFAULT_OPSET));
        return imp.attr(ap, "attribute", imp.new GraphScope(null));
    }

    private Attr attr(AttributeProto ap, String where, GraphScope scope) {
        AttributeProto.AttributeType t = ap.getType();
        if (t == AttributeProto.AttributeType.UNDEFINED) t = guessType(ap);
        String what = where + " attribute '" + ap.getName() + "'";
        try {
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
                default -> throw new GaleException("has unsupported kind " + t);
            };
        } catch (GaleException e) {
            // Errors inside a nested graph already name their node; others get the attribute as context.
            if (t == AttributeProto.AttributeType.GRAPH || t == AttributeProto.AttributeType.GRAPHS) throw e;
            throw new GaleException(what + ": " + e.getMessage(), e);
        }
    }

    private static AttributeProto.AttributeType guessType(AttributeProto ap) {
        if (ap.hasF()) return AttributeProto.AttributeType.FLOAT;
        if (ap.hasI()) return AttributeProto.AttributeType.INT;
        if (ap.hasS()) return AttributeProto.AttributeType.STRING;
        if (ap.hasT()) return AttributeProto.AttributeType.TENSOR;
        if (ap.hasG()) return AttributeProto.AttributeType.GRAPH;
        if (ap.hasSparseTensor()) return AttributeProto.AttributeType.SPARSE_TENSOR;
        if (ap.hasTp()) return AttributeProto.AttributeType.TYPE_PROTO;
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
                DType dt;
                try {
                    dt = DType.fromOnnx(tt.getElemType());
                } catch (GaleException e) {
                    throw new GaleException("value '" + name + "': " + e.getMessage());
                }
                yield new Type.TensorType(dt, shape);
            }
            case SEQUENCE_TYPE -> new Type.SequenceType(type(tp.getSequenceType().getElemType(), name));
            case OPTIONAL_TYPE -> new Type.OptionalType(type(tp.getOptionalType().getElemType(), name));
            case VALUE_NOT_SET -> null;
            default -> throw new GaleException("value '" + name + "' has an unsupported type (" + tp.getValueCase() + ")");
        };
    }
}
