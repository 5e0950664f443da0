package dev.gale.ir.text;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.List;
import java.util.Map;

/**
 * Prints a {@link Model} as Gale text IR, the form {@link TextParser} reads back. One node per line, types where
 * values are defined, nested graphs inline:
 *
 * <pre>
 * model {opsets = {"" = 18}, producer = "pytorch 2.1"}
 * graph &#64;main(%x: tensor&lt;[batch,784],f32&gt;) -&gt; (%y: tensor&lt;[batch,10],f32&gt;) {
 *   init %w = tensor&lt;[10,784],f32&gt; elided {min = -0.0357, max = 0.0357, mean = 1.2E-5, first = [...]}
 *   init %b = tensor&lt;[10],f32&gt; [0.1, -0.25, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
 *   %h: tensor&lt;[batch,10],f32&gt; = Gemm(%x, %w, %b) {transB = 1} &#64;/fc1/Gemm
 *   %y: tensor&lt;[batch,10],f32&gt; = Relu(%h)
 *   %r: tensor&lt;[5],f32&gt; = If(%c) {
 *     else_branch = graph &#64;else_body() -&gt; (%e: tensor&lt;[5],f32&gt;) {
 *       ...
 *     },
 *     then_branch = ...
 *   }
 * }
 * </pre>
 *
 * <h2>Syntax</h2>
 * The grammar ({@code GaleIR.g4}) documents it in full; in short:
 * <ul>
 *   <li>The {@code model {...}} header lists opsets, producer and metadata where they differ from
 *       {@link Model#of}'s defaults (opsets {@code {"" = 18}}, producer {@code "gale"}, no metadata).</li>
 *   <li>{@code graph @name(inputs) -> (outputs) {...}}: inputs and outputs with their types; {@code init} lines
 *       give initializers (an initializer that is also listed as an input is an input with a default); then the
 *       nodes in order.</li>
 *   <li>Values are {@code %name} ({@code %"odd name"} when needed), {@code _} is an omitted optional input or output.
 *       Types: {@code tensor<[batch,?,3],f32>} (symbolic, unknown and fixed dims), {@code tensor<*,f32>} (unknown
 *       rank), {@code tensor<[],f32>} (scalar), {@code seq<T>}, {@code opt<T>}, {@code ?} (unknown).</li>
 *   <li>Nodes: {@code %a: T, %b: T = domain::Op(%x, _, %z) {attrs} @name}; domain and name only when set.</li>
 *   <li>Attribute values: ints ({@code 1}), floats ({@code 1.0}, {@code 1.0E-5}, {@code inf}, {@code nan}; printed by
 *       {@link Float#toString} so they read back bit-exactly), strings ({@code "a\"b"}), tensor literals, graphs,
 *       types ({@code tensor<*,f32>}), and lists {@code [1, 2]}; empty lists name their kind ({@code ints[]},
 *       {@code floats[]}, ...).</li>
 *   <li>Tensor literals: type then data: {@code tensor<[2],i64> [-1, 784]} (exact decimals),
 *       {@code tensor<[3],f32> 0x0000803f...} (raw little-endian bytes) or {@code tensor<...> elided {...}}
 *       (a summary). See {@link PrintOptions} for which is chosen: by default large tensors are summarized, and
 *       the parser refuses summaries; {@link PrintOptions#INLINE} ({@code gale print --inline-weights}) writes
 *       everything, and then {@code TextParser.parse(TextPrinter.print(m, INLINE))} equals {@code m} (with the
 *       types at uses taken from the definitions, see {@link UseTypes}).</li>
 * </ul>
 */
public final class TextPrinter {
    private static final String INDENT = "  ";

    private final StringBuilder sb = new StringBuilder();
    private final PrintOptions options;

    private TextPrinter(PrintOptions options) { this.options = options; }

    /** The model with large tensors summarized (readable; does not parse back if any tensor was elided). */
    public static String print(Model m) { return print(m, PrintOptions.SUMMARY); }

    public static String print(Model m, PrintOptions options) {
        TextPrinter p = new TextPrinter(options);
        p.header(m);
        p.graph(m.graph(), 0);
        p.sb.append('\n');
        return p.sb.toString();
    }

    /** One graph without a model header. */
    public static String print(Graph g, PrintOptions options) {
        TextPrinter p = new TextPrinter(options);
        p.graph(g, 0);
        p.sb.append('\n');
        return p.sb.toString();
    }

    /** A type as the text IR writes it ({@code ?} for an unknown type). */
    public static String type(Type t) {
        StringBuilder b = new StringBuilder();
        appendType(b, t);
        return b.toString();
    }

    private void header(Model m) {
        Model defaults = TextParser.defaultModel(m.graph());
        StringBuilder fields = new StringBuilder();
        if (!m.opsets().equals(defaults.opsets())) {
            fields.append("opsets = {");
            appendMap(fields, m.opsets());
            fields.append('}');
        }
        if (!m.producer().equals(defaults.producer()))
            sep(fields).append("producer = ").append(TextSyntax.quote(m.producer()));
        if (!m.metadata().isEmpty()) {
            sep(fields).append("metadata = {");
            appendMap(fields, m.metadata());
            fields.append('}');
        }
        if (!fields.isEmpty()) sb.append("model {").append(fields).append("}\n");
    }

    private static StringBuilder sep(StringBuilder b) { return b.isEmpty() ? b : b.append(", "); }

    private static void appendMap(StringBuilder b, Map<String, ?> map) {
        boolean first = true;
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (!first) b.append(", ");
            first = false;
            b.append(TextSyntax.quote(e.getKey())).append(" = ");
            b.append(e.getValue() instanceof String s ? TextSyntax.quote(s) : e.getValue().toString());
        }
    }

    private void graph(Graph g, int depth) {
        sb.append("graph");
        if (!g.name().isEmpty()) sb.append(' ').append(TextSyntax.global(g.name()));
        sb.append('(');
        params(g.inputs());
        sb.append(") -> (");
        params(g.outputs());
        sb.append(") {\n");
        String pad = INDENT.repeat(depth + 1);
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            sb.append(pad).append("init ").append(TextSyntax.value(e.getKey())).append(" = ");
            tensor(e.getValue());
            sb.append('\n');
        }
        for (Node n : g.nodes()) node(n, depth + 1);
        sb.append(INDENT.repeat(depth)).append('}');
    }

    private void params(List<Value> values) {
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) sb.append(", ");
            definition(values.get(i));
        }
    }

    private void definition(Value v) {
        if (v.isNone() && v.type() == null) {
            sb.append('_');
            return;
        }
        sb.append(TextSyntax.value(v.name()));
        if (v.type() != null) sb.append(": ").append(type(v.type()));
    }

    private void node(Node n, int depth) {
        String pad = INDENT.repeat(depth);
        sb.append(pad);
        params(n.outputs());
        if (!n.outputs().isEmpty()) sb.append(" = ");
        if (!n.domain().isEmpty()) sb.append(TextSyntax.name(n.domain())).append("::");
        sb.append(TextSyntax.name(n.op())).append('(');
        for (int i = 0; i < n.inputs().size(); i++) {
            if (i > 0) sb.append(", ");
            Value v = n.inputs().get(i);
            sb.append(v.isNone() ? "_" : TextSyntax.value(v.name()));
        }
        sb.append(')');
        if (!n.attrs().isEmpty()) {
            boolean multiline = n.attrs().values().stream().anyMatch(a ->
                    a instanceof Attr.GraphAttr || a instanceof Attr.GraphsAttr gs && !gs.values().isEmpty());
            sb.append(" {");
            boolean first = true;
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                if (!first) sb.append(',');
                if (multiline) sb.append('\n').append(pad).append(INDENT);
                else if (!first) sb.append(' ');
                first = false;
                sb.append(TextSyntax.name(e.getKey())).append(" = ");
                attr(e.getValue(), depth + 1);
            }
            if (multiline) sb.append('\n').append(pad);
            sb.append('}');
        }
        if (!n.name().isEmpty()) sb.append(' ').append(TextSyntax.global(n.name()));
        sb.append('\n');
    }

    private void attr(Attr a, int depth) {
        switch (a) {
            case Attr.FloatAttr f -> sb.append(TextSyntax.f32(f.value()));
            case Attr.IntAttr i -> sb.append(i.value());
            case Attr.StringAttr s -> sb.append(TextSyntax.quote(s.value()));
            case Attr.TensorAttr t -> tensor(t.value());
            case Attr.GraphAttr g -> graph(g.value(), depth);
            case Attr.FloatsAttr f -> {
                list("floats", f.values().length);
                for (int i = 0; i < f.values().length; i++)
                    sb.append(i > 0 ? ", " : "").append(TextSyntax.f32(f.values()[i]));
                sb.append(']');
            }
            case Attr.IntsAttr l -> {
                list("ints", l.values().length);
                for (int i = 0; i < l.values().length; i++) sb.append(i > 0 ? ", " : "").append(l.values()[i]);
                sb.append(']');
            }
            case Attr.StringsAttr s -> {
                list("strings", s.values().size());
                for (int i = 0; i < s.values().size(); i++)
                    sb.append(i > 0 ? ", " : "").append(TextSyntax.quote(s.values().get(i)));
                sb.append(']');
            }
            case Attr.TensorsAttr ts -> {
                list("tensors", ts.values().size());
                for (int i = 0; i < ts.values().size(); i++) {
                    if (i > 0) sb.append(", ");
                    tensor(ts.values().get(i));
                }
                sb.append(']');
            }
            case Attr.TypeAttr t -> appendType(sb, t.value());
            case Attr.GraphsAttr gs -> {
                list("graphs", gs.values().size());
                for (int i = 0; i < gs.values().size(); i++) {
                    if (i > 0) sb.append(", ");
                    graph(gs.values().get(i), depth);
                }
                sb.append(']');
            }
        }
    }

    /** Opens a list; an empty one names its kind so the parser knows the attribute's type. */
    private void list(String kind, int size) { sb.append(size == 0 ? kind + "[" : "["); }

    private void tensor(Tensor t) {
        appendType(sb, t.type());
        sb.append(' ');
        TensorText.appendData(sb, t, options);
    }

    private static void appendType(StringBuilder b, Type t) {
        switch (t) {
            case null -> b.append('?');
            case Type.TensorType tt -> {
                b.append("tensor<");
                if (tt.shape() == null) {
                    b.append('*');
                } else {
                    b.append('[');
                    List<Dim> dims = tt.shape().dims();
                    for (int i = 0; i < dims.size(); i++) {
                        if (i > 0) b.append(',');
                        switch (dims.get(i)) {
                            case Dim.Fixed f -> b.append(f.size());
                            case Dim.Sym s -> b.append(TextSyntax.name(s.name()));
                            case Dim.Unknown u -> b.append('?');
                        }
                    }
                    b.append(']');
                }
                b.append(',').append(tt.dtype() == null ? "?" : tt.dtype().textName()).append('>');
            }
            case Type.SequenceType s -> {
                b.append("seq<");
                appendType(b, s.element());
                b.append('>');
            }
            case Type.OptionalType o -> {
                b.append("opt<");
                appendType(b, o.element());
                b.append('>');
            }
        }
    }
}
