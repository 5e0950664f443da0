package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Type inference through nested graphs (If, Loop, Scan, SequenceMap) and of the sequence ops. */
class ControlFlowOpsTest {
    private static final Type I64 = Type.tensor(DType.INT64), BOOL = Type.tensor(DType.BOOL);

    private static Value v(String name, Type t) { return new Value(name, t); }

    private static Node node(String op, List<Value> in, List<Value> out, Map<String, Attr> attrs) {
        return new Node(out.get(0).name(), "", op, in, out, attrs);
    }

    private static Node constant(String name, Tensor t) {
        return node("Constant", List.of(), List.of(v(name, null)), Map.of("value", Attr.of(t)));
    }

    private static String type(Value v) { return String.valueOf(v.type()); }

    @Test
    void loopCarriedValueWhoseShapeChangesLosesThatDimension() {
        // carried starts as f32[1]; the body replaces it with a f32[3] constant: after the loop it is f32[?].
        // The scan output stacks a f32[3] per iteration: f32[?,3].
        Graph body = new Graph("body", List.of(v("i", I64), v("c", BOOL), v("x", null)),
                List.of(v("c_out", null), v("k", null), v("k_scan", null)), List.of(
                node("Identity", List.of(v("c", BOOL)), List.of(v("c_out", null)), Map.of()),
                constant("k", Tensor.ofFloats(new long[] {3}, 1, 2, 3)),
                node("Identity", List.of(v("k", null)), List.of(v("k_scan", null)), Map.of())), Map.of());
        GraphBuilder b = Graph.builder();
        Value m = b.input("m", DType.INT64);
        Value x = b.input("x", DType.FLOAT32, 1);
        List<Value> out = b.op("", "Loop", List.of(m, Value.NONE, x), Map.of("body", Attr.of(body)), 2);
        assertEquals("tensor<[?],f32>", type(out.get(0)));
        assertEquals("tensor<[?,3],f32>", type(out.get(1)));
    }

    @Test
    void loopBodyReadsOuterScopeAndDeclaredTypesMustHold() {
        // The body adds nothing of its own: its carried output is an outer value of another element type.
        Graph body = new Graph("body", List.of(v("i", I64), v("c", BOOL), v("x", null)),
                List.of(v("c", BOOL), v("outer", null)), List.of(), Map.of());
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 1);
        b.input("outer", DType.INT64, 1);
        GaleException e = assertThrows(GaleException.class,
                () -> b.op("", "Loop", List.of(b.input("m", DType.INT64), Value.NONE, x), Map.of("body", Attr.of(body)), 1));
        assertTrue(e.getMessage().contains("element types"), e.getMessage());
    }

    @Test
    void scanOutputsGetTheSequenceLength() {
        Graph body = new Graph("body", List.of(v("s", null), v("xt", null)), List.of(v("s", null), v("xt", null)),
                List.of(), Map.of());
        GraphBuilder b = Graph.builder();
        Value s = b.input("s", DType.FLOAT32, 4);
        Value x = b.input("x", DType.FLOAT32, "batch", 7, 4);
        List<Value> out = b.op("", "Scan", List.of(s, x), Map.of("body", Attr.of(body),
                "num_scan_inputs", Attr.of(1L), "scan_input_axes", Attr.of(new long[] {1}),
                "scan_output_axes", Attr.of(new long[] {2})), 2);
        assertEquals("tensor<[4],f32>", type(out.get(0)));
        // each slice is [batch, 4]; 7 of them stacked along axis 2
        assertEquals("tensor<[batch,4,7],f32>", type(out.get(1)));
        assertThrows(GaleException.class, () -> b.op("", "Scan", List.of(s, x), Map.of("body", Attr.of(body),
                "num_scan_inputs", Attr.of(1L), "scan_input_directions", Attr.of(new long[] {0, 1})), 2));
    }

    @Test
    void ifOutputsAreOptionalWhenOneBranchIsOptional() {
        Graph then = new Graph("then", List.of(), List.of(v("o", null)), List.of(node("Optional", List.of(),
                List.of(v("o", null)), Map.of("type", new Attr.TypeAttr(Type.unranked(DType.FLOAT32))))), Map.of());
        Graph otherwise = new Graph("else", List.of(), List.of(v("o2", null)), List.of(
                constant("k", Tensor.ofFloats(new long[] {2}, 1, 2)),
                node("Optional", List.of(v("k", null)), List.of(v("o2", null)), Map.of())), Map.of());
        GraphBuilder b = Graph.builder();
        Value y = b.op("If", List.of(b.input("c", DType.BOOL)), Map.of("then_branch", Attr.of(then),
                "else_branch", Attr.of(otherwise)));
        assertEquals("opt<tensor<*,f32>>", type(y));
    }

    @Test
    void sequenceMapGivesSequencesOfTheBodyOutputs() {
        Graph body = new Graph("body", List.of(v("e", null), v("t", null)), List.of(v("e", null)), List.of(), Map.of());
        GraphBuilder b = Graph.builder();
        Value x = b.input("x", DType.INT32, 6, 2);
        Value seq = b.op("SplitToSequence", List.of(x, b.constant(Tensor.vector(3, 3))), Map.of());
        assertEquals("seq<tensor<[3,2],i32>>", type(seq));
        Value mapped = b.op("SequenceMap", List.of(seq, x), Map.of("body", Attr.of(body)));
        assertEquals("seq<tensor<[3,2],i32>>", type(mapped));
        assertEquals("tensor<[],i64>", type(b.op("SequenceLength", List.of(mapped), Map.of())));
        assertEquals("tensor<[?,2],i32>", type(b.op("ConcatFromSequence", List.of(mapped), Map.of("axis", Attr.of(0L)))));
        assertThrows(GaleException.class,
                () -> b.op("ConcatFromSequence", List.of(mapped), Map.of("axis", Attr.of(3L), "new_axis", Attr.of(1L))));
        assertThrows(GaleException.class,
                () -> b.op("SequenceInsert", List.of(mapped, b.input("f", DType.FLOAT32, 3, 2)), Map.of()));
    }
}
