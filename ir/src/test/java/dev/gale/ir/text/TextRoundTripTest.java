package dev.gale.ir.text;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** {@code parse(print(m))} equals {@code m} for graphs that use every feature of the text form. */
class TextRoundTripTest {
    static final Type F = Type.tensor(DType.FLOAT32, new Shape(List.of(Dim.sym("batch"), Dim.of(4))));

    static Model roundTrip(Model m) {
        String text = TextPrinter.print(m, PrintOptions.INLINE);
        Model back = TextParser.parseUnverified(text, "test.gir");
        assertEquals(UseTypes.refresh(m), back, text);
        assertEquals(text, TextPrinter.print(back, PrintOptions.INLINE));
        return back;
    }

    static Value v(String name, Type t) { return new Value(name, t); }

    @Test
    void everyTypeForm() {
        List<Type> types = List.of(
                Type.tensor(DType.FLOAT32, 2, 3),
                Type.tensor(DType.INT64),
                Type.unranked(DType.BOOL),
                Type.tensor(DType.FLOAT16, new Shape(List.of(Dim.UNKNOWN, Dim.sym("n"), Dim.sym("2*n"), Dim.sym("?"),
                        Dim.sym("7"), Dim.sym("tensor"), Dim.sym("inf"), Dim.sym("_"), Dim.sym("a b\"c")))),
                new Type.SequenceType(Type.tensor(DType.STRING, 1)),
                new Type.OptionalType(new Type.SequenceType(Type.unranked(DType.BFLOAT16))),
                new Type.SequenceType(null),
                new Type.OptionalType(null));
        List<Value> inputs = new java.util.ArrayList<>();
        for (int i = 0; i < types.size(); i++) inputs.add(v("in" + i, types.get(i)));
        inputs.add(v("untyped", null));
        Graph g = new Graph("types", inputs, inputs, List.of(), Map.of());
        roundTrip(Model.of(g));
    }

    @Test
    void everyAttributeKind() {
        Graph body = new Graph("body", List.of(v("i", Type.tensor(DType.INT64)), v("c", Type.tensor(DType.BOOL))),
                List.of(v("c", Type.tensor(DType.BOOL)), v("o", F)),
                List.of(new Node("inner", "", "Relu", List.of(v("x", F)), List.of(v("o", F)), Map.of())), Map.of());
        Graph empty = new Graph("", List.of(), List.of(), List.of(), Map.of());
        Map<String, Attr> attrs = new LinkedHashMap<>();
        attrs.put("f", Attr.of(1.0E-5f));
        attrs.put("f_neg_zero", Attr.of(-0.0f));
        attrs.put("f_inf", Attr.of(Float.NEGATIVE_INFINITY));
        attrs.put("f_nan", Attr.of(Float.NaN));
        attrs.put("f_tiny", Attr.of(Float.MIN_VALUE));
        attrs.put("f_third", Attr.of(1f / 3));
        attrs.put("i", Attr.of(Long.MIN_VALUE));
        attrs.put("s", Attr.of("quote \" backslash \\ newline \n tab \t bell \u0007 unicode é 漢 😀"));
        attrs.put("t", Attr.of(Tensor.vector(1, -2, 3)));
        attrs.put("g", Attr.of(body));
        attrs.put("fs", Attr.of(0.1f, Float.MAX_VALUE, 3f));
        attrs.put("is", Attr.of(1L, -1L, Long.MAX_VALUE));
        attrs.put("ss", new Attr.StringsAttr(List.of("a", "", "c")));
        attrs.put("ts", new Attr.TensorsAttr(List.of(Tensor.scalar(DType.FLOAT64, 2.5), Tensor.vector())));
        attrs.put("gs", new Attr.GraphsAttr(List.of(body, empty)));
        attrs.put("e_fs", new Attr.FloatsAttr(new float[0]));
        attrs.put("e_is", new Attr.IntsAttr(new long[0]));
        attrs.put("e_ss", new Attr.StringsAttr(List.of()));
        attrs.put("e_ts", new Attr.TensorsAttr(List.of()));
        attrs.put("e_gs", new Attr.GraphsAttr(List.of()));
        attrs.put("type", new Attr.TypeAttr(new Type.OptionalType(Type.unranked(DType.FLOAT32))));
        attrs.put("type_unknown", new Attr.TypeAttr(null));
        attrs.put("odd key", Attr.of(1L));
        attrs.put("graph", Attr.of(2L));
        Node n = new Node("everything", "com.example.custom", "Kitchen Sink", List.of(v("x", F), Value.NONE),
                List.of(v("y", F), Value.NONE, v("z", null)), attrs);
        Graph g = new Graph("main", List.of(v("x", F)), List.of(v("y", F)), List.of(n), Map.of());
        Model back = roundTrip(new Model(g, Map.of("", 13, "com.example.custom", 1), "", Map.of("a", "b")));
        Attr nan = back.graph().nodes().get(0).attr("f_nan");
        assertTrue(Float.isNaN(((Attr.FloatAttr) nan).value()));
    }

    @Test
    void initializersInputsWithDefaultsAndOuterScopeUses() {
        Tensor w = Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4);
        Tensor big = Tensor.zeros(DType.FLOAT32, 30, 7);
        new Random(1).ints(210).forEach(i -> { });
        for (int i = 0; i < big.numel(); i++) big.setDouble(i, Math.sin(i) * 1e-3);
        Type wt = Type.tensor(DType.FLOAT32, 2, 2);
        // "w" is an input with a default; "big" is a plain initializer; the body reads "h" from the outer graph.
        Graph thenBranch = new Graph("then", List.of(), List.of(v("r", F)),
                List.of(new Node("Relu", List.of(v("h", F)), List.of(v("r", F)), Map.of())), Map.of());
        Graph g = new Graph("main", List.of(v("x", F), v("w", wt), v("c", Type.tensor(DType.BOOL))),
                List.of(v("out", F)),
                List.of(new Node("", "", "MatMul", List.of(v("x", null), v("w", null)), List.of(v("h", F)), Map.of()),
                        new Node("If", List.of(v("c", null)), List.of(v("out", F)),
                                Map.of("then_branch", Attr.of(thenBranch), "else_branch", Attr.of(thenBranch)))),
                Map.of("w", w, "big", big));
        Model back = roundTrip(Model.of(g));
        // uses take their definitions' types
        assertEquals(wt, back.graph().nodes().get(0).inputs().get(1).type());
        Graph body = ((Attr.GraphAttr) back.graph().nodes().get(1).attr("then_branch")).value();
        assertEquals(F, body.nodes().get(0).inputs().get(0).type());
    }

    @Test
    void nodesWithoutOutputsOrWithOnlyOmittedOnes() {
        Node none = new Node("sink", "x.y", "Sink", List.of(v("x", F)), List.of(), Map.of());
        Node omitted = new Node("", "x.y", "Maybe", List.of(Value.NONE, v("x", F)), List.of(Value.NONE), Map.of());
        Graph g = new Graph("", List.of(v("x", F)), List.of(), List.of(none, omitted), Map.of());
        String text = TextPrinter.print(roundTrip(Model.of(g)), PrintOptions.INLINE);
        assertTrue(text.contains("  x.y::Sink(%x) @sink\n  _ = x.y::Maybe(_, %x)\n"), text);
    }

    @Test
    void aFileWithoutHeaderHasTheDefaults() {
        Model m = TextParser.parse("graph @g(%x: tensor<[2],f32>) -> (%y: tensor<[2],f32>) { %y = Relu(%x) }");
        assertEquals(Model.of(m.graph()), m);
        assertEquals(Type.tensor(DType.FLOAT32, 2), m.graph().nodes().get(0).inputs().get(0).type());
    }

    @Test
    void summaryIsReadableAndRefusedByTheParser() {
        Tensor big = Tensor.zeros(DType.FLOAT32, 100);
        for (int i = 0; i < 100; i++) big.setDouble(i, i);
        Graph g = new Graph("g", List.of(), List.of(v("w", big.type())), List.of(), Map.of("w", big));
        String text = TextPrinter.print(Model.of(g));
        assertTrue(text.contains("init %w = tensor<[100],f32> elided {min = 0.0, max = 99.0, mean = 49.5, "
                + "first = [0.0, 1.0, 2.0, 3.0]}"), text);
        dev.gale.ir.GaleException e = assertThrows(dev.gale.ir.GaleException.class,
                () -> TextParser.parseUnverified(text, "m.gir"));
        assertTrue(e.getMessage().startsWith("m.gir:2:31: initializer %w has elided data"), e.getMessage());
    }

    @Test
    void printsTheDocumentedForm() {
        Type x = Type.tensor(DType.FLOAT32, new Shape(List.of(Dim.sym("batch"), Dim.of(3))));
        Type y = Type.tensor(DType.FLOAT32, new Shape(List.of(Dim.sym("batch"), Dim.of(2))));
        Graph g = new Graph("main", List.of(v("x", x)), List.of(v("y", y)), List.of(
                new Node("/fc1/Gemm", "", "Gemm", List.of(v("x", x), v("w", null), Value.NONE), List.of(v("y", y)),
                        Map.of("transB", Attr.of(1L), "alpha", Attr.of(0.5f)))),
                Map.of("w", Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6)));
        assertEquals("""
                graph @main(%x: tensor<[batch,3],f32>) -> (%y: tensor<[batch,2],f32>) {
                  init %w = tensor<[2,3],f32> [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
                  %y: tensor<[batch,2],f32> = Gemm(%x, %w, _) {alpha = 0.5, transB = 1} @/fc1/Gemm
                }
                """, TextPrinter.print(Model.of(g)));
    }
}
