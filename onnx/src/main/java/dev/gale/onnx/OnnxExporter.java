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
import com.google.protobuf.CodedOutputStream;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a Gale {@link Model} as an ONNX model: ai.onnx opset 18 (the form of Gale's op table), plus the training
 * domain and any other domain the nodes use; initializers as {@code raw_data}; attributes of every kind, nested
 * graphs included; a {@code value_info} entry for every intermediate value whose type is known; symbolic dimensions as
 * {@code dim_param}. Large weights can go to an external data file beside the model, which is required once the
 * weights pass the 2 GiB that one protobuf message may hold.
 *
 * <pre>{@code
 * OnnxExporter.save(model, Path.of("mlp.onnx"));
 * OnnxExporter.save(model, Path.of("big.onnx"), OnnxExporter.Options.DEFAULT.withExternalData(true));
 * }</pre>
 *
 * Files are written atomically ({@link AtomicFiles}): the data file first, then the model.
 */
public final class OnnxExporter {
    /** The IR version that goes with opset 18. */
    static final int IR_VERSION = 8;
    /** A protobuf message may not exceed 2 GiB; past this many bytes of weights external data is used. */
    static final long INLINE_LIMIT = 1_800_000_000L;
    private static final int ALIGNMENT = 64;

    /**
     * Export settings. {@code externalData}: store initializers of at least {@code externalThreshold} bytes in
     * {@code <model file name>.data} (forced on for models too large to inline). {@code valueInfo}: write the types
     * of intermediate values.
     */
    public record Options(boolean externalData, long externalThreshold, boolean valueInfo) {
        public static final Options DEFAULT = new Options(false, 1024, true);

        public Options withExternalData(boolean on) { return new Options(on, externalThreshold, valueInfo); }

        public Options withExternalThreshold(long bytes) { return new Options(externalData, bytes, valueInfo); }

        public Options withValueInfo(boolean on) { return new Options(externalData, externalThreshold, on); }
    }

    private final Options options;
    /** Initializers moved to the external file, in file order, with their offsets. */
    private final List<Tensor> externalTensors = new ArrayList<>();
    private final List<Long> externalOffsets = new ArrayList<>();
    private final String dataFileName;
    /** Node names used in the graph being written (ONNX Runtime wants them unique per graph). */
    private Set<String> nodeNames = new HashSet<>();
    private long externalSize;

    private OnnxExporter(Options options, String dataFileName) {
        this.options = options;
        this.dataFileName = dataFileName;
    }

    /** The model as an in-memory ModelProto with every tensor inline. */
    public static ModelProto toProto(Model model) {
        return new OnnxExporter(new Options(false, Long.MAX_VALUE, true), null).model(model);
    }

    public static void save(Model model, Path file) { save(model, file, Options.DEFAULT); }

    /** Writes {@code model} to {@code file} (and {@code file.data} when external data is used). */
    public static void save(Model model, Path file, Options options) {
        Path name = file.toAbsolutePath().getFileName();
        boolean external = options.externalData() || inlineBytes(model.graph()) > INLINE_LIMIT;
        Options effective = external ? options.withExternalData(true) : options;
        OnnxExporter ex = new OnnxExporter(effective, external ? name + ".data" : null);
        ModelProto proto = ex.model(model);
        if (external) {
            AtomicFiles.write(file.resolveSibling(ex.dataFileName), ch -> {
                for (int i = 0; i < ex.externalTensors.size(); i++) {
                    long pad = ex.externalOffsets.get(i) - ch.position();
                    if (pad > 0) ch.write(ByteBuffer.allocate((int) pad));
                    RawData.write(ex.externalTensors.get(i), ch);
                }
            });
        }
        AtomicFiles.write(file, ch -> {
            OutputStream out = Channels.newOutputStream(ch);
            CodedOutputStream cos = CodedOutputStream.newInstance(out, 1 << 16);
            proto.writeTo(cos);
            cos.flush();
            out.flush();
        });
    }

    /** The bytes of all initializers and tensor attributes, which must fit in one protobuf message. */
    private static long inlineBytes(Graph g) {
        long total = 0;
        for (Tensor t : g.initializers().values()) total += t.dtype() == DType.STRING ? 0 : RawData.byteSize(t);
        for (Node n : g.nodes())
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.TensorAttr t && t.value().dtype() != DType.STRING) total += RawData.byteSize(t.value());
                if (a instanceof Attr.GraphAttr ga) total += inlineBytes(ga.value());
                if (a instanceof Attr.GraphsAttr gs) for (Graph sub : gs.values()) total += inlineBytes(sub);
            }
        return total;
    }

    private ModelProto model(Model model) {
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("gale")
                .setProducerVersion(version());
        Set<String> domains = new HashSet<>();
        collectDomains(model.graph(), domains);
        m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OpsetInfo.MAX_DEFAULT_OPSET));
        for (String d : domains.stream().sorted().toList()) {
            if (d.isEmpty()) continue;
            int v = d.equals(OpsetInfo.TRAINING_DOMAIN) ? OpsetInfo.MAX_TRAINING_OPSET : model.opsets().getOrDefault(d, 1);
            m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(d).setVersion(v));
        }
        for (Map.Entry<String, String> e : model.metadata().entrySet())
            m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(e.getKey()).setValue(e.getValue()));
        m.setGraph(graph(model.graph(), true));
        return m.build();
    }

    private static String version() {
        Package p = OnnxExporter.class.getPackage();
        return p != null && p.getImplementationVersion() != null ? p.getImplementationVersion() : "0.1.0";
    }

    private static void collectDomains(Graph g, Set<String> domains) {
        for (Node n : g.nodes()) {
            domains.add(n.domain());
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) collectDomains(ga.value(), domains);
                if (a instanceof Attr.GraphsAttr gs) for (Graph sub : gs.values()) collectDomains(sub, domains);
            }
        }
    }

    private GraphProto graph(Graph g, boolean top) {
        Set<String> outerNames = nodeNames;
        nodeNames = new HashSet<>();
        try {
            return graphBody(g, top);
        } finally {
            nodeNames = outerNames;
        }
    }

    private GraphProto graphBody(Graph g, boolean top) {
        GraphProto.Builder b = GraphProto.newBuilder().setName(g.name());
        // Subgraph inputs and outputs may go untyped (ONNX infers them from the node that holds the subgraph).
        for (Value v : g.inputs()) b.addInput(valueInfo(v, top ? "graph '" + g.name() + "' input" : null));
        for (Value v : g.outputs()) b.addOutput(valueInfo(v, top ? "graph '" + g.name() + "' output" : null));
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet())
            b.addInitializer(initializer(e.getValue(), e.getKey(), top));
        Set<String> declared = new HashSet<>();
        for (Value v : g.outputs()) declared.add(v.name());
        for (Value v : g.inputs()) declared.add(v.name());
        for (Node n : g.nodes()) {
            b.addNode(node(n));
            if (!options.valueInfo()) continue;
            for (Value v : n.outputs())
                if (!v.isNone() && v.type() != null && declared.add(v.name())) b.addValueInfo(valueInfo(v, null));
        }
        return b.build();
    }

    private TensorProto initializer(Tensor t, String name, boolean top) {
        if (!options.externalData() || !top || t.dtype() == DType.STRING || RawData.byteSize(t) < options.externalThreshold())
            return OnnxTensors.toProto(t, name);
        long offset = (externalSize + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        long length = RawData.byteSize(t);
        externalTensors.add(t);
        externalOffsets.add(offset);
        externalSize = offset + length;
        return OnnxTensors.header(t, name)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", dataFileName))
                .addExternalData(entry("offset", Long.toString(offset)))
                .addExternalData(entry("length", Long.toString(length)))
                .build();
    }

    private static StringStringEntryProto entry(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    private NodeProto node(Node n) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(n.op()).setDomain(n.domain()).setName(uniqueName(n.name()));
        for (Value v : n.inputs()) b.addInput(v.isNone() ? "" : v.name());
        for (Value v : n.outputs()) b.addOutput(v.isNone() ? "" : v.name());
        for (Map.Entry<String, Attr> e : n.attrs().entrySet()) b.addAttribute(attribute(e.getKey(), e.getValue()));
        return b.build();
    }

    /** Converts one attribute outside any model. */
    static AttributeProto attributeProto(String name, Attr a) {
        return new OnnxExporter(Options.DEFAULT, null).attribute(name, a);
    }

    /** ONNX Runtime refuses two nodes of one name in a graph; Gale does not care, so repeats get a suffix. */
    private String uniqueName(String name) {
        if (name.isEmpty() || nodeNames.add(name)) return name;
        String n = name;
        for (int i = 1; !nodeNames.add(n); i++) n = name + "_" + i;
        return n;
    }

    private AttributeProto attribute(String name, Attr a) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name);
        switch (a) {
            case Attr.FloatAttr f -> b.setType(AttributeProto.AttributeType.FLOAT).setF(f.value());
            case Attr.IntAttr i -> b.setType(AttributeProto.AttributeType.INT).setI(i.value());
            case Attr.StringAttr s -> b.setType(AttributeProto.AttributeType.STRING).setS(utf8(s.value()));
            case Attr.TensorAttr t -> b.setType(AttributeProto.AttributeType.TENSOR).setT(OnnxTensors.toProto(t.value(), ""));
            case Attr.GraphAttr g -> b.setType(AttributeProto.AttributeType.GRAPH).setG(graph(g.value(), false));
            case Attr.TypeAttr t -> b.setType(AttributeProto.AttributeType.TYPE_PROTO).setTp(typeProto(t.value()));
            case Attr.FloatsAttr fs -> {
                b.setType(AttributeProto.AttributeType.FLOATS);
                for (float f : fs.values()) b.addFloats(f);
            }
            case Attr.IntsAttr is -> {
                b.setType(AttributeProto.AttributeType.INTS);
                for (long i : is.values()) b.addInts(i);
            }
            case Attr.StringsAttr ss -> {
                b.setType(AttributeProto.AttributeType.STRINGS);
                for (String s : ss.values()) b.addStrings(utf8(s));
            }
            case Attr.TensorsAttr ts -> {
                b.setType(AttributeProto.AttributeType.TENSORS);
                for (Tensor t : ts.values()) b.addTensors(OnnxTensors.toProto(t, ""));
            }
            case Attr.GraphsAttr gs -> {
                b.setType(AttributeProto.AttributeType.GRAPHS);
                for (Graph g : gs.values()) b.addGraphs(graph(g, false));
            }
        }
        return b.build();
    }

    private static ByteString utf8(String s) { return ByteString.copyFrom(s, StandardCharsets.UTF_8); }

    /** A ValueInfoProto; a graph input or output without a type is an error ({@code where} names it). */
    private static ValueInfoProto valueInfo(Value v, String where) {
        ValueInfoProto.Builder b = ValueInfoProto.newBuilder().setName(v.name());
        if (v.type() != null) b.setType(typeProto(v.type()));
        else if (where != null)
            throw new GaleException(where + " '" + v.name() + "' has no type; ONNX needs one (run type inference "
                    + "first or declare it)");
        return b.build();
    }

    static TypeProto typeProto(Type t) {
        return switch (t) {
            case Type.TensorType tt -> {
                TypeProto.Tensor.Builder b = TypeProto.Tensor.newBuilder().setElemType(tt.dtype().onnxCode());
                if (tt.shape() != null) {
                    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
                    for (Dim d : tt.shape().dims()) {
                        TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
                        switch (d) {
                            case Dim.Fixed f -> db.setDimValue(f.size());
                            case Dim.Sym sym -> db.setDimParam(sym.name());
                            case Dim.Unknown u -> { }
                        }
                        s.addDim(db);
                    }
                    b.setShape(s);
                }
                yield TypeProto.newBuilder().setTensorType(b).build();
            }
            case Type.SequenceType st -> TypeProto.newBuilder().setSequenceType(
                    TypeProto.Sequence.newBuilder().setElemType(elementOrEmpty(st.element()))).build();
            case Type.OptionalType ot -> TypeProto.newBuilder().setOptionalType(
                    TypeProto.Optional.newBuilder().setElemType(elementOrEmpty(ot.element()))).build();
        };
    }

    private static TypeProto elementOrEmpty(Type t) { return t == null ? TypeProto.getDefaultInstance() : typeProto(t); }
}
