package dev.gale.ir.text;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpTable;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.tree.TerminalNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a parse tree into an untyped-at-uses {@link Graph}, checking what is best reported at a position in the text:
 * values defined once and before use (nested graphs see the values of the graphs around them), known ops and element
 * types, well-formed tensor literals. It remembers where each node was written, so that errors found later by type
 * inference and the verifier can point at the node too.
 */
final class GraphReader {
    private static final String KINDS = "ints, floats, strings, tensors or graphs";

    private final String source;
    private final boolean checkOps;
    private final List<Map.Entry<String, Token>> locations = new ArrayList<>();

    /** {@code checkOps}: refuse ops the op table does not have. */
    GraphReader(String source, boolean checkOps) {
        this.source = source;
        this.checkOps = checkOps;
    }

    String where(Token t) { return source + ":" + t.getLine() + ":" + (t.getCharPositionInLine() + 1); }

    GaleException error(Token t, String message) { return new GaleException(where(t) + ": " + message); }

    /** The token of the node or graph output an error message names ({@code node 'x' (Op)}), or null. */
    Token locate(String message) {
        for (Map.Entry<String, Token> e : locations) if (message.contains(e.getKey())) return e.getValue();
        return null;
    }

    Graph graph(GaleIRParser.GraphContext ctx, Set<String> outer) {
        String name = ctx.GLOBAL_ID() == null ? "" : TextSyntax.identifier(ctx.GLOBAL_ID().getText());
        Set<String> visible = new HashSet<>(outer);
        Set<String> local = new HashSet<>();
        List<Value> inputs = new ArrayList<>();
        if (ctx.inputs != null) {
            for (GaleIRParser.ParamContext p : ctx.inputs.param()) {
                Value v = new Value(valueName(p.VALUE_ID()), type(p.type()));
                define(p.VALUE_ID(), local, visible);
                inputs.add(v);
            }
        }
        Set<String> inputNames = new HashSet<>(local);
        Map<String, Tensor> init = new LinkedHashMap<>();
        for (GaleIRParser.StmtContext s : ctx.stmt()) {
            if (s.initStmt() == null) continue;
            TerminalNode id = s.initStmt().VALUE_ID();
            String n = valueName(id);
            if (init.containsKey(n)) throw error(id.getSymbol(), "initializer " + id.getText() + " is given twice");
            if (!inputNames.contains(n)) define(id, local, visible);
            init.put(n, tensor(s.initStmt().tensorLit(), "initializer " + id.getText()));
        }
        List<Node> nodes = new ArrayList<>();
        for (GaleIRParser.StmtContext s : ctx.stmt())
            if (s.nodeStmt() != null) nodes.add(node(s.nodeStmt(), local, visible));
        List<Value> outputs = new ArrayList<>();
        if (ctx.outputs != null) {
            for (GaleIRParser.ParamContext p : ctx.outputs.param()) {
                String n = valueName(p.VALUE_ID());
                if (!visible.contains(n))
                    throw error(p.start, "graph output " + p.VALUE_ID().getText() + " is never defined");
                outputs.add(new Value(n, type(p.type())));
                locations.add(Map.entry("graph output '" + n + "'", p.start));
            }
        }
        return new Graph(name, inputs, outputs, nodes, init);
    }

    private Node node(GaleIRParser.NodeStmtContext ctx, Set<String> local, Set<String> visible) {
        String domain = ctx.opRef().domain == null ? "" : opName(ctx.opRef().domain);
        String op = opName(ctx.opRef().op);
        Token opToken = ctx.opRef().op.start;
        if (checkOps) OpTable.require(domain, op, where(opToken));
        List<Value> inputs = new ArrayList<>();
        for (GaleIRParser.OperandContext o : ctx.operand()) {
            if (o.VALUE_ID() == null) {
                inputs.add(Value.NONE);
                continue;
            }
            String n = valueName(o.VALUE_ID());
            if (!visible.contains(n)) throw error(o.start, "use of undefined value " + o.getText());
            inputs.add(new Value(n, null));
        }
        Map<String, Attr> attrs = ctx.attrDict() == null ? Map.of() : attrs(ctx.attrDict(), visible);
        List<Value> outputs = new ArrayList<>();
        for (GaleIRParser.ResultContext r : ctx.result()) {
            if (r.VALUE_ID() == null) {
                outputs.add(Value.NONE);
                continue;
            }
            outputs.add(new Value(valueName(r.VALUE_ID()), type(r.type())));
            define(r.VALUE_ID(), local, visible);
        }
        String name = ctx.GLOBAL_ID() == null ? "" : TextSyntax.identifier(ctx.GLOBAL_ID().getText());
        Node n = new Node(name, domain, op, inputs, outputs, attrs);
        locations.add(Map.entry(n.describe(), ctx.start));
        return n;
    }

    private void define(TerminalNode id, Set<String> local, Set<String> visible) {
        String n = valueName(id);
        if (!local.add(n)) throw error(id.getSymbol(), "value " + id.getText() + " is defined twice");
        visible.add(n);
    }

    private String valueName(TerminalNode id) {
        String n = TextSyntax.identifier(id.getText());
        if (n.isEmpty()) throw error(id.getSymbol(), "a value name cannot be empty (use _ for an omitted value)");
        return n;
    }

    private static String opName(GaleIRParser.OpNameContext ctx) {
        return ctx.STRING() != null ? TextSyntax.unquote(ctx.STRING().getText()) : ctx.getText();
    }

    private Map<String, Attr> attrs(GaleIRParser.AttrDictContext ctx, Set<String> visible) {
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (GaleIRParser.AttrContext a : ctx.attr()) {
            String key = a.STRING() != null ? TextSyntax.unquote(a.STRING().getText()) : a.name().getText();
            if (attrs.put(key, attr(a.attrValue(), visible)) != null)
                throw error(a.start, "attribute '" + key + "' is given twice");
        }
        return attrs;
    }

    private Attr attr(GaleIRParser.AttrValueContext ctx, Set<String> visible) {
        return switch (ctx) {
            case GaleIRParser.ScalarAttrContext s -> scalar(s.scalar());
            case GaleIRParser.TensorAttrContext t -> Attr.of(tensor(t.tensorLit(), "tensor attribute"));
            case GaleIRParser.GraphAttrContext g -> Attr.of(graph(g.graph(), visible));
            case GaleIRParser.ListAttrContext l -> list(l, visible);
            case GaleIRParser.TypeAttrContext t -> new Attr.TypeAttr(type(t.type()));
            default -> throw new IllegalStateException(ctx.getClass().getName());
        };
    }

    private Attr scalar(GaleIRParser.ScalarContext s) {
        Token t = s.start;
        return switch (t.getType()) {
            case GaleIRParser.INT -> Attr.of(longValue(t));
            case GaleIRParser.FLOAT, GaleIRParser.NONFINITE -> Attr.of(TextSyntax.parseF32(t.getText()));
            case GaleIRParser.STRING -> Attr.of(TextSyntax.unquote(t.getText()));
            default -> throw error(t, "expected an attribute value (number, string, tensor, graph or list), got '"
                    + t.getText() + "'");
        };
    }

    private Attr list(GaleIRParser.ListAttrContext ctx, Set<String> visible) {
        String kind = ctx.kind == null ? null : ctx.kind.getText();
        if (kind != null && !List.of("ints", "floats", "strings", "tensors", "graphs").contains(kind))
            throw error(ctx.kind, "unknown list kind '" + kind + "'; expected " + KINDS);
        List<Attr> items = new ArrayList<>();
        for (GaleIRParser.AttrValueContext v : ctx.attrValue()) {
            if (v instanceof GaleIRParser.ListAttrContext) throw error(v.start, "lists cannot be nested");
            if (v instanceof GaleIRParser.TypeAttrContext) throw error(v.start, "a list cannot hold types");
            items.add(attr(v, visible));
        }
        if (kind == null) {
            if (items.isEmpty())
                throw error(ctx.start, "an empty list names its kind: ints[], floats[], strings[], tensors[] or "
                        + "graphs[]");
            kind = listKind(items.get(0));
            if (kind.equals("ints") && items.stream().anyMatch(a -> a instanceof Attr.FloatAttr)) kind = "floats";
        }
        for (int i = 0; i < items.size(); i++) {
            String k = listKind(items.get(i));
            if (!k.equals(kind) && !(k.equals("ints") && kind.equals("floats")))
                throw error(ctx.attrValue(i).start, "list elements must all be of one kind (here: "
                        + (kind.equals("ints") || kind.equals("floats") ? "numbers" : kind) + ")");
        }
        return switch (kind) {
            case "ints" -> new Attr.IntsAttr(items.stream().mapToLong(a -> ((Attr.IntAttr) a).value()).toArray());
            case "floats" -> {
                float[] f = new float[items.size()];
                for (int i = 0; i < f.length; i++)
                    f[i] = items.get(i) instanceof Attr.FloatAttr x ? x.value()
                            : (float) ((Attr.IntAttr) items.get(i)).value();
                yield new Attr.FloatsAttr(f);
            }
            case "strings" -> new Attr.StringsAttr(items.stream().map(a -> ((Attr.StringAttr) a).value()).toList());
            case "tensors" -> new Attr.TensorsAttr(items.stream().map(a -> ((Attr.TensorAttr) a).value()).toList());
            default -> new Attr.GraphsAttr(items.stream().map(a -> ((Attr.GraphAttr) a).value()).toList());
        };
    }

    private static String listKind(Attr a) {
        return switch (a) {
            case Attr.IntAttr i -> "ints";
            case Attr.FloatAttr f -> "floats";
            case Attr.StringAttr s -> "strings";
            case Attr.TensorAttr t -> "tensors";
            default -> "graphs";
        };
    }

    private Tensor tensor(GaleIRParser.TensorLitContext ctx, String what) {
        if (!(type(ctx.type()) instanceof Type.TensorType tt) || tt.shape() == null || !tt.shape().isStatic())
            throw error(ctx.start, "a tensor literal needs a tensor type with a fixed shape, like tensor<[2,3],f32>");
        long[] shape = tt.shape().sizes();
        try {
            return switch (ctx.tensorData()) {
                case GaleIRParser.DecimalDataContext d -> {
                    try {
                        List<String> elems = d.scalar().stream().map(x -> x.getText()).toList();
                        yield TensorText.fromDecimals(tt.dtype(), shape, elems);
                    } catch (TensorText.ElementError e) {
                        throw error(e.index >= 0 ? d.scalar(e.index).start : d.start, e.getMessage());
                    }
                }
                case GaleIRParser.HexDataContext h -> {
                    try {
                        yield TensorText.fromHex(tt.dtype(), shape, h.HEX().getText().substring(2));
                    } catch (TensorText.ElementError e) {
                        throw error(h.start, e.getMessage());
                    }
                }
                case GaleIRParser.ElidedDataContext e -> {
                    if (!e.ID().getText().equals("elided"))
                        throw error(e.start, "expected tensor data: [values], 0x<hex> or elided {...}");
                    throw error(e.start, what + " has elided data (the text was printed without --inline-weights); "
                            + "print the model again with --inline-weights to get a file that loads");
                }
                default -> throw new IllegalStateException();
            };
        } catch (GaleException e) {
            if (e.getMessage().startsWith(source + ":")) throw e;
            throw error(ctx.start, e.getMessage()); // e.g. a shape too large to hold
        }
    }

    Type type(GaleIRParser.TypeContext ctx) {
        return switch (ctx) {
            case null -> null;
            case GaleIRParser.TensorTypeContext t -> {
                DType dtype = dtype(t.ID().getSymbol());
                if (t.shape().getText().equals("*")) yield Type.unranked(dtype);
                List<Dim> dims = new ArrayList<>();
                for (GaleIRParser.DimContext d : t.shape().dim()) dims.add(dim(d));
                yield Type.tensor(dtype, new Shape(dims));
            }
            case GaleIRParser.SeqTypeContext s -> new Type.SequenceType(type(s.type()));
            case GaleIRParser.OptTypeContext o -> new Type.OptionalType(type(o.type()));
            case GaleIRParser.UnknownTypeContext u -> null;
            default -> throw new IllegalStateException(ctx.getClass().getName());
        };
    }

    private Dim dim(GaleIRParser.DimContext d) {
        if (d.INT() != null) {
            long v = longValue(d.INT().getSymbol());
            if (v < 0) throw error(d.start, "a dimension cannot be negative: " + v);
            return Dim.of(v);
        }
        if (d.STRING() != null) return Dim.sym(TextSyntax.unquote(d.STRING().getText()));
        if (d.name() != null) return Dim.sym(d.name().getText());
        return Dim.UNKNOWN;
    }

    private DType dtype(Token t) {
        for (DType d : DType.values()) if (d.textName().equals(t.getText())) return d;
        throw error(t, "unknown element type '" + t.getText() + "'; expected one of "
                + String.join(" ", java.util.Arrays.stream(DType.values()).map(DType::textName).toList()));
    }

    long longValue(Token t) {
        try {
            return Long.parseLong(t.getText());
        } catch (NumberFormatException e) {
            throw error(t, t.getText() + " does not fit in 64 bits");
        }
    }

    int intValue(Token t) {
        long v = longValue(t);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw error(t, v + " does not fit in 32 bits");
        return (int) v;
    }
}
