package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.OptionalValue;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.TensorSequence;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Loop, Scan and If on small graphs whose results are worked out by hand. */
class ControlFlowKernelsTest {
    static Value v(String name, Type t) { return new Value(name, t); }

    static Node node(String op, List<Value> in, List<Value> out, Map<String, Attr> attrs) {
        return new Node(out.isEmpty() ? op : out.get(0).name(), "", op, in, out, attrs);
    }

    /** Imports the way OnnxImporter does: type inference, then verification. */
    static Model model(Graph g) {
        Graph typed = ShapeInference.run(g);
        Verifier.verify(typed);
        return Model.of(typed);
    }

    static final Type I64 = Type.tensor(DType.INT64), BOOL = Type.tensor(DType.BOOL);

    /**
     * for i in 0..M-1: seq.insert(i); scan output i. Checks carried sequences, scan stacking and the
     * zero-iteration case.
     */
    Model countingLoop() {
        Value i = v("i", I64), condIn = v("cond_in", BOOL), seqIn = v("seq_in", null);
        Value condOut = v("cond_out", null), seqOut = v("seq_out", null), scanOut = v("scan_out", null);
        Graph body = new Graph("body", List.of(i, condIn, seqIn), List.of(condOut, seqOut, scanOut), List.of(
                node("Identity", List.of(condIn), List.of(condOut), Map.of()),
                node("SequenceInsert", List.of(seqIn, i), List.of(seqOut), Map.of()),
                node("Identity", List.of(i), List.of(scanOut), Map.of())), Map.of());
        Value m = v("M", I64), empty = v("empty", null), finalSeq = v("final_seq", null), scans = v("scans", null);
        Graph g = new Graph("main", List.of(m), List.of(finalSeq, scans), List.of(
                node("SequenceEmpty", List.of(), List.of(empty), Map.of("dtype", Attr.of(7L))),
                node("Loop", List.of(m, Value.NONE, empty), List.of(finalSeq, scans), Map.of("body", Attr.of(body)))),
                Map.of());
        return model(g);
    }

    @Test
    void loopCarriesSequencesAndStacksScanOutputs() {
        Model m = countingLoop();
        assertEquals(new Type.SequenceType(Type.unranked(DType.INT64)), m.graph().outputs().get(0).type());
        assertEquals(Type.tensor(DType.INT64, Shape.of(Dim.UNKNOWN)), m.graph().outputs().get(1).type());
        List<Object> out = Interpreter.run(m, Map.of("M", Tensor.ofLongs(new long[0], 3)));
        TensorSequence seq = (TensorSequence) out.get(0);
        assertEquals(3, seq.tensors().size());
        assertEquals(2, seq.tensors().get(2).getLong(0));
        Tensor scans = (Tensor) out.get(1);
        assertArrayEquals(new long[] {3}, scans.shape());
        assertArrayEquals(new long[] {0, 1, 2}, scans.toLongArray());
    }

    @Test
    void loopWithZeroTripsReturnsInitialValues() {
        List<Object> out = Interpreter.run(countingLoop(), Map.of("M", Tensor.ofLongs(new long[0], 0)));
        assertEquals(0, ((TensorSequence) out.get(0)).tensors().size());
        assertArrayEquals(new long[] {0}, ((Tensor) out.get(1)).shape());
    }

    @Test
    void loopStopsWhenTheBodyConditionTurnsFalse() {
        // No trip count: the loop runs while cond holds; the body's condition output (an empty optional's
        // OptionalHasElement, so false) ends it after one iteration. The carried sequence records the iterations.
        Value i = v("i", I64), c = v("c", BOOL), seqIn = v("seq_in", null), grown = v("grown", null);
        Value keep = v("keep", null);
        Graph body = new Graph("body", List.of(i, c, seqIn), List.of(keep, grown), List.of(
                node("SequenceInsert", List.of(seqIn, i), List.of(grown), Map.of()),
                node("OptionalHasElement", List.of(), List.of(keep), Map.of())), Map.of());
        Value cond = v("cond", BOOL), empty = v("empty", null), result = v("result", null);
        Graph g = new Graph("main", List.of(cond), List.of(result), List.of(
                node("SequenceEmpty", List.of(), List.of(empty), Map.of("dtype", Attr.of(7L))),
                node("Loop", List.of(Value.NONE, cond, empty), List.of(result), Map.of("body", Attr.of(body)))),
                Map.of());
        List<Object> out = Interpreter.run(model(g), Map.of("cond", Tensor.ofBools(new long[0], true)));
        assertEquals(1, ((TensorSequence) out.get(0)).tensors().size());
        out = Interpreter.run(model(g), Map.of("cond", Tensor.ofBools(new long[0], false)));
        assertEquals(0, ((TensorSequence) out.get(0)).tensors().size());
    }

    @Test
    void scanReversesInputsAndOutputsAlongChosenAxes() {
        // state passes through; each scan output element is the input slice. Input [2, 3] scanned along axis 1
        // backwards, outputs stacked along axis 0 forwards: out[t] = x[:, 2 - t], so out = transpose(x) reversed.
        Value s = v("s", Type.tensor(DType.FLOAT32, 2)), col = v("col", Type.tensor(DType.FLOAT32, 2));
        Value sOut = v("s_out", null), colOut = v("col_out", null);
        Graph body = new Graph("body", List.of(s, col), List.of(sOut, colOut), List.of(
                node("Identity", List.of(s), List.of(sOut), Map.of()),
                node("Identity", List.of(col), List.of(colOut), Map.of())), Map.of());
        Value init = v("init", Type.tensor(DType.FLOAT32, 2)), x = v("x", Type.tensor(DType.FLOAT32, 2, 3));
        Value fin = v("fin", null), ys = v("ys", null);
        Graph g = new Graph("main", List.of(init, x), List.of(fin, ys), List.of(
                node("Scan", List.of(init, x), List.of(fin, ys), Map.of("body", Attr.of(body),
                        "num_scan_inputs", Attr.of(1L), "scan_input_axes", Attr.of(new long[] {1}),
                        "scan_input_directions", Attr.of(new long[] {1})))), Map.of());
        Model m = model(g);
        assertEquals(Type.tensor(DType.FLOAT32, 3, 2), m.graph().outputs().get(1).type());
        List<Object> out = Interpreter.run(m, Map.of("init", Tensor.ofFloats(new long[] {2}, 7, 8),
                "x", Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6)));
        assertArrayEquals(new float[] {7, 8}, ((Tensor) out.get(0)).floats());
        assertArrayEquals(new float[] {3, 6, 2, 5, 1, 4}, ((Tensor) out.get(1)).floats());
    }

    @Test
    void scanOutputAxisAndDirection() {
        // Same body, forward input along axis 0, output stacked along axis 1 in reverse: out[:, t] = x[2 - t, :]...
        Value s = v("s", Type.tensor(DType.FLOAT32, 2)), row = v("row", null);
        Value sOut = v("s_out", null), rowOut = v("row_out", null);
        Graph body = new Graph("body", List.of(s, row), List.of(sOut, rowOut), List.of(
                node("Identity", List.of(s), List.of(sOut), Map.of()),
                node("Identity", List.of(row), List.of(rowOut), Map.of())), Map.of());
        Value init = v("init", Type.tensor(DType.FLOAT32, 2)), x = v("x", Type.tensor(DType.FLOAT32, 3, 2));
        Value fin = v("fin", null), ys = v("ys", null);
        Graph g = new Graph("main", List.of(init, x), List.of(fin, ys), List.of(
                node("Scan", List.of(init, x), List.of(fin, ys), Map.of("body", Attr.of(body),
                        "num_scan_inputs", Attr.of(1L), "scan_output_axes", Attr.of(new long[] {-1}),
                        "scan_output_directions", Attr.of(new long[] {1})))), Map.of());
        Model m = model(g);
        assertEquals(Type.tensor(DType.FLOAT32, 2, 3), m.graph().outputs().get(1).type());
        List<Object> out = Interpreter.run(m, Map.of("init", Tensor.ofFloats(new long[] {2}, 0, 0),
                "x", Tensor.ofFloats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6)));
        // rows are [1,2], [3,4], [5,6]; reversed and placed as columns: [[5,3,1],[6,4,2]]
        assertArrayEquals(new float[] {5, 3, 1, 6, 4, 2}, ((Tensor) out.get(1)).floats());
    }

    @Test
    void ifJoinsBranchTypesAndRunsTheChosenBranch() {
        Value a = v("a", null), b = v("b", null);
        Graph then = new Graph("then", List.of(), List.of(a), List.of(
                node("Constant", List.of(), List.of(a), Map.of("value", Attr.of(Tensor.ofFloats(new long[] {2}, 1, 2))))),
                Map.of());
        Graph otherwise = new Graph("else", List.of(), List.of(b), List.of(
                node("Constant", List.of(), List.of(b), Map.of("value", Attr.of(Tensor.ofFloats(new long[] {3}, 3, 4, 5))))),
                Map.of());
        Value cond = v("cond", BOOL), y = v("y", null);
        Graph g = new Graph("main", List.of(cond), List.of(y), List.of(
                node("If", List.of(cond), List.of(y), Map.of("then_branch", Attr.of(then), "else_branch", Attr.of(otherwise)))),
                Map.of());
        Model m = model(g);
        assertEquals(Type.tensor(DType.FLOAT32, Shape.of(Dim.UNKNOWN)), m.graph().outputs().get(0).type());
        assertArrayEquals(new float[] {1, 2}, ((Tensor) Interpreter.run(m, Map.of("cond", Tensor.ofBools(new long[0], true))).get(0)).floats());
        assertArrayEquals(new float[] {3, 4, 5}, ((Tensor) Interpreter.run(m, Map.of("cond", Tensor.ofBools(new long[0], false))).get(0)).floats());
    }

    @Test
    void ifWithBranchesOfDifferentElementTypesIsAnError() {
        Value a = v("a", null), b = v("b", null);
        Graph then = new Graph("then", List.of(), List.of(a), List.of(
                node("Constant", List.of(), List.of(a), Map.of("value", Attr.of(Tensor.ofFloats(new long[] {2}, 1, 2))))),
                Map.of());
        Graph otherwise = new Graph("else", List.of(), List.of(b), List.of(
                node("Constant", List.of(), List.of(b), Map.of("value", Attr.of(Tensor.vector(1, 2))))), Map.of());
        Graph g = new Graph("main", List.of(v("cond", BOOL)), List.of(v("y", null)), List.of(
                node("If", List.of(v("cond", BOOL)), List.of(v("y", null)),
                        Map.of("then_branch", Attr.of(then), "else_branch", Attr.of(otherwise)))), Map.of());
        GaleException e = assertThrows(GaleException.class, () -> model(g));
        assertTrue(e.getMessage().contains("element types"), e.getMessage());
    }

    @Test
    void optionalsWrapAndUnwrap() {
        Value x = v("x", Type.tensor(DType.FLOAT32, 2)), opt = v("opt", null), has = v("has", null);
        Value empty = v("empty", null), hasEmpty = v("has_empty", null), back = v("back", null);
        Graph g = new Graph("main", List.of(x), List.of(has, hasEmpty, back, empty), List.of(
                node("Optional", List.of(x), List.of(opt), Map.of()),
                node("OptionalHasElement", List.of(opt), List.of(has), Map.of()),
                node("Optional", List.of(), List.of(empty), Map.of("type", new Attr.TypeAttr(Type.unranked(DType.INT64)))),
                node("OptionalHasElement", List.of(empty), List.of(hasEmpty), Map.of()),
                node("OptionalGetElement", List.of(opt), List.of(back), Map.of())), Map.of());
        Model m = model(g);
        assertEquals(Type.tensor(DType.FLOAT32, 2), m.graph().outputs().get(2).type());
        assertEquals(new Type.OptionalType(Type.unranked(DType.INT64)), m.graph().outputs().get(3).type());
        List<Object> out = Interpreter.run(m, Map.of("x", Tensor.ofFloats(new long[] {2}, 1, 2)));
        assertTrue(((Tensor) out.get(0)).getBool(0));
        assertFalse(((Tensor) out.get(1)).getBool(0));
        assertArrayEquals(new float[] {1, 2}, ((Tensor) out.get(2)).floats());
        assertFalse(((OptionalValue) out.get(3)).isPresent());
    }
}
