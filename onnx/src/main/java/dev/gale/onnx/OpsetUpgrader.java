package dev.gale.onnx;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rewrites a node written against an older opset (1 to 17) into the form Gale's op table implements (the newest
 * supported opset, 18). The upgrade of one node runs three steps in order:
 *
 * <ol>
 *   <li>attribute fixes that need nothing but the node: {@code consumed_inputs} dropped (opsets 1-5), Pad-1's
 *       {@code paddings} renamed, Cast-1's string {@code to} turned into a type code, Concat-1's default axis made
 *       explicit, LpPool-1's float {@code p} turned into an int, Upsample-1's two scales merged;</li>
 *   <li>attributes that a later opset turned into inputs ({@code axes} of the reductions, {@code split}, {@code pads},
 *       {@code min}/{@code max}, ...): one table row each; the attribute becomes a {@code Constant} feeding the
 *       input;</li>
 *   <li>changes of meaning, each a rule in {@link LegacyRewrites}: the 2-D coercion of Softmax before opset 13, the
 *       {@code broadcast}/{@code axis} attributes of arithmetic before opset 7, the old BatchNormalization and
 *       Dropout forms, Upsample and Resize-10 as Resize, Scan-8's batch axis, and so on.</li>
 * </ol>
 *
 * A node already in the newest form passes through untouched.
 */
final class OpsetUpgrader {
    /** What a rewrite may ask about the graph it is in. */
    interface Scope {
        /** The type of a value visible at this node (declared or inferred so far), or null. */
        Type typeOf(String value);

        /** The types of every value visible at this node, for inferring the graphs a rewrite builds. */
        Map<String, Type> types();

        /** The value of a constant (initializer or Constant output), or null. */
        Tensor constantOf(String value);

        /** A value name unused anywhere in the model, based on {@code hint}. */
        String fresh(String hint);

        /** Records that an old output no longer exists; reading it later fails with {@code reason}. */
        void dropped(String value, String reason);
    }

    /** How an attribute's value becomes a tensor input. */
    enum Form {
        /** 1-D int64 (axes, pads, starts, ...). */
        INT64S,
        /** 1-D int64 with one element (TopK's k). */
        INT64_1,
        /** 1-D float32 (Upsample's scales). */
        FLOATS,
        /** float32 scalar (Dropout's ratio). */
        FLOAT_SCALAR,
        /** A scalar of input 0's element type (Pad's value, Clip's min and max). */
        SCALAR_LIKE_INPUT0
    }

    /** An attribute that became input {@code index} at opset {@code since}. */
    private record AttrToInput(String attr, int index, Form form) {}

    private record Move(int since, List<AttrToInput> moves) {}

    private static final Map<String, Move> MOVES = new HashMap<>();

    static {
        move("ReduceSum", 13, new AttrToInput("axes", 1, Form.INT64S));
        for (String r : List.of("ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"))
            move(r, 18, new AttrToInput("axes", 1, Form.INT64S));
        move("Squeeze", 13, new AttrToInput("axes", 1, Form.INT64S));
        move("Unsqueeze", 13, new AttrToInput("axes", 1, Form.INT64S));
        move("Split", 13, new AttrToInput("split", 1, Form.INT64S));
        move("Slice", 10, new AttrToInput("starts", 1, Form.INT64S), new AttrToInput("ends", 2, Form.INT64S),
                new AttrToInput("axes", 3, Form.INT64S));
        move("Pad", 11, new AttrToInput("pads", 1, Form.INT64S), new AttrToInput("value", 2, Form.SCALAR_LIKE_INPUT0));
        move("Clip", 11, new AttrToInput("min", 1, Form.SCALAR_LIKE_INPUT0),
                new AttrToInput("max", 2, Form.SCALAR_LIKE_INPUT0));
        move("TopK", 10, new AttrToInput("k", 1, Form.INT64_1));
        move("Upsample", 9, new AttrToInput("scales", 1, Form.FLOATS));
        move("Dropout", 12, new AttrToInput("ratio", 1, Form.FLOAT_SCALAR));
        move("Reshape", 5, new AttrToInput("shape", 1, Form.INT64S));
    }

    private static void move(String op, int since, AttrToInput... moves) {
        MOVES.put(op, new Move(since, List.of(moves)));
    }

    private final Map<String, Integer> opsets;

    OpsetUpgrader(Map<String, Integer> opsets) { this.opsets = opsets; }

    /** The opset a node was written against; a model that imports no default domain is read as the newest. */
    int version(Node n) {
        Integer v = opsets.get(n.domain());
        return v != null ? v : n.domain().isEmpty() ? dev.gale.ir.OpsetInfo.MAX_DEFAULT_OPSET : 1;
    }

    /** The node in the op table's form, preceded (and for some rules followed) by the nodes the rewrite needs. */
    List<Node> upgrade(Node n, Scope scope) {
        if (!n.domain().isEmpty()) return List.of(n);
        int v = version(n);
        Emitter e = new Emitter(n, scope);
        Node m = fixAttributes(n, v);
        Move mv = MOVES.get(m.op());
        if (mv != null && v < mv.since()) m = attrsToInputs(m, mv.moves(), e);
        LegacyRewrites.apply(m, v, e);
        return e.nodes;
    }

    /** Step 1: attribute changes that need nothing but the node itself. */
    private static Node fixAttributes(Node n, int v) {
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        boolean changed = a.remove("consumed_inputs") != null;
        switch (n.op()) {
            case "Pad" -> {
                if (v < 2 && a.containsKey("paddings")) {
                    a.put("pads", a.remove("paddings"));
                    changed = true;
                }
            }
            case "Cast" -> {
                if (a.get("to") instanceof Attr.StringAttr s) {
                    a.put("to", Attr.of((long) castTarget(s.value(), n).onnxCode()));
                    changed = true;
                }
            }
            case "Concat" -> {
                if (v < 4 && !a.containsKey("axis")) {
                    a.put("axis", Attr.of(1L));
                    changed = true;
                }
            }
            case "LpPool", "GlobalLpPool" -> {
                if (a.get("p") instanceof Attr.FloatAttr f) {
                    if (f.value() != Math.rint(f.value()))
                        throw new GaleException(n.describe() + ": p = " + f.value()
                                + " is not an integer; only integer norms are supported");
                    a.put("p", Attr.of((long) f.value()));
                    changed = true;
                }
            }
            case "Upsample" -> {
                if (a.containsKey("height_scale") || a.containsKey("width_scale")) {
                    float h = a.remove("height_scale") instanceof Attr.FloatAttr f ? f.value() : 1f;
                    float w = a.remove("width_scale") instanceof Attr.FloatAttr f ? f.value() : 1f;
                    a.put("scales", Attr.of(1f, 1f, h, w));
                    changed = true;
                }
            }
            case "Gemm" -> changed |= a.remove("broadcast") != null;
            case "GRU", "LSTM", "RNN" -> changed |= v < 7 && a.remove("output_sequence") != null;
            default -> { }
        }
        return changed ? n.withAttrs(a) : n;
    }

    /** Cast-1 named its target type by string: "FLOAT", "INT64", ... */
    private static DType castTarget(String name, Node n) {
        return switch (name.toUpperCase(Locale.ROOT)) {
            case "FLOAT" -> DType.FLOAT32;
            case "DOUBLE" -> DType.FLOAT64;
            case "FLOAT16" -> DType.FLOAT16;
            case "BFLOAT16" -> DType.BFLOAT16;
            case "UINT8" -> DType.UINT8;
            case "INT8" -> DType.INT8;
            case "UINT16" -> DType.UINT16;
            case "INT16" -> DType.INT16;
            case "INT32" -> DType.INT32;
            case "INT64" -> DType.INT64;
            case "UINT32" -> DType.UINT32;
            case "UINT64" -> DType.UINT64;
            case "BOOL" -> DType.BOOL;
            case "STRING" -> DType.STRING;
            default -> throw new GaleException(n.describe() + ": unknown Cast target type '" + name + "'");
        };
    }

    /** Step 2: attributes that became inputs. */
    private static Node attrsToInputs(Node n, List<AttrToInput> moves, Emitter e) {
        Map<String, Attr> attrs = new LinkedHashMap<>(n.attrs());
        List<Value> inputs = new ArrayList<>(n.inputs());
        for (AttrToInput mv : moves) {
            Attr a = attrs.remove(mv.attr());
            if (a == null) continue;
            Value v = e.constant(constantFor(a, mv.form(), n, e), mv.attr());
            while (inputs.size() <= mv.index()) inputs.add(Value.NONE);
            inputs.set(mv.index(), v);
        }
        return new Node(n.name(), n.domain(), n.op(), inputs, n.outputs(), attrs);
    }

    private static Tensor constantFor(Attr a, Form form, Node n, Emitter e) {
        return switch (form) {
            case INT64S -> switch (a) {
                case Attr.IntsAttr ints -> Tensor.vector(ints.values());
                case Attr.IntAttr i -> Tensor.vector(i.value());
                default -> throw kindError(a, n);
            };
            case INT64_1 -> switch (a) {
                case Attr.IntAttr i -> Tensor.vector(i.value());
                case Attr.IntsAttr ints when ints.values().length == 1 -> Tensor.vector(ints.values());
                default -> throw kindError(a, n);
            };
            case FLOATS -> switch (a) {
                case Attr.FloatsAttr fs -> Tensor.ofFloats(new long[] {fs.values().length}, fs.values());
                default -> throw kindError(a, n);
            };
            case FLOAT_SCALAR -> Tensor.ofFloats(new long[0], (float) scalar(a, n));
            case SCALAR_LIKE_INPUT0 -> {
                DType t = e.dtypeOf(n.input(0));
                Tensor s = Tensor.zeros(t == null ? DType.FLOAT32 : t);
                s.setDouble(0, scalar(a, n));
                yield s;
            }
        };
    }

    private static double scalar(Attr a, Node n) {
        return switch (a) {
            case Attr.FloatAttr f -> f.value();
            case Attr.IntAttr i -> i.value();
            default -> throw kindError(a, n);
        };
    }

    private static GaleException kindError(Attr a, Node n) {
        return new GaleException(n.describe() + ": an attribute of kind " + a.kind()
                + " cannot become an input here; the node is malformed for its opset");
    }

    /**
     * Collects the nodes one upgrade produces, with fresh names, and answers questions about values: their types and
     * constant values, including the constants the upgrade itself made.
     */
    static final class Emitter {
        final Node origin;
        final Scope scope;
        final List<Node> nodes = new ArrayList<>();
        private final Map<String, Tensor> madeConstants = new HashMap<>();

        Emitter(Node origin, Scope scope) {
            this.origin = origin;
            this.scope = scope;
        }

        /** A name for a new value derived from the node's first output. */
        String fresh(String suffix) {
            String base = origin.outputs().isEmpty() || origin.output(0).isNone()
                    ? (origin.name().isEmpty() ? origin.op() : origin.name()) : origin.output(0).name();
            return scope.fresh(base + "__" + suffix);
        }

        Value constant(Tensor t, String suffix) {
            Value v = new Value(fresh(suffix), t.type());
            nodes.add(new Node(v.name(), "", "Constant", List.of(), List.of(v), Map.of("value", Attr.of(t))));
            madeConstants.put(v.name(), t);
            return v;
        }

        /** Adds a single-output node of the default domain and returns its output. */
        Value op(String op, List<Value> in, Map<String, Attr> attrs, String suffix) {
            Value out = new Value(fresh(suffix), null);
            nodes.add(new Node(out.name(), "", op, in, List.of(out), attrs));
            return out;
        }

        void add(Node n) { nodes.add(n); }

        Type typeOf(Value v) {
            if (v.isNone()) return null;
            Type t = scope.typeOf(v.name());
            return t != null ? t : v.type();
        }

        DType dtypeOf(Value v) { return typeOf(v) instanceof Type.TensorType t ? t.dtype() : null; }

        /** The rank of a tensor value, or -1 when unknown. */
        int rankOf(Value v) {
            return typeOf(v) instanceof Type.TensorType t && t.shape() != null ? t.shape().rank() : -1;
        }

        Tensor constantOf(Value v) {
            if (v.isNone()) return null;
            Tensor t = madeConstants.get(v.name());
            return t != null ? t : scope.constantOf(v.name());
        }
    }
}
