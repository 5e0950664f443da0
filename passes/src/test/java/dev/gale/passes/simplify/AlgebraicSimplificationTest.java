package dev.gale.passes.simplify;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.gale.passes.simplify.SimplifyTesting.apply;
import static dev.gale.passes.simplify.SimplifyTesting.assertSameResults;
import static dev.gale.passes.simplify.SimplifyTesting.ones;
import static dev.gale.passes.simplify.SimplifyTesting.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Before/after cases of each algebraic identity, and the near misses that must stay. */
class AlgebraicSimplificationTest {
    private static final AlgebraicSimplification PASS = new AlgebraicSimplification();

    /** Applies the pass and dce (which removes what the rewrites bypassed), checks the result, returns it. */
    private static Graph simplified(GraphBuilder b) {
        Graph before = b.build();
        Graph after = apply(new DeadCodeElimination(), apply(PASS, before));
        assertSameResults(before, after, 7);
        return after;
    }

    /** x op c, with x feeding a Relu so the rewrite has a consumer to rename; returns the ops left. */
    private static List<String> binary(String op, Tensor c, boolean constantFirst, long... xShape) {
        var b = Graph.builder();
        Value x = b.input("x", c.dtype(), (Object[]) box(xShape));
        Value k = b.constant(c);
        Value y = b.op(op, constantFirst ? List.of(k, x) : List.of(x, k), Map.of());
        b.output(b.op("Abs", List.of(y), Map.of()));
        return ops(simplified(b));
    }

    static Value abs(GraphBuilder g, Value v) { return g.op("Abs", List.of(v), Map.of()); }

    private static Object[] box(long... dims) {
        Object[] o = new Object[dims.length];
        for (int i = 0; i < dims.length; i++) o[i] = dims[i];
        return o;
    }

    @Test
    void neutralOperandsDisappear() {
        assertEquals(List.of("Abs"), binary("Mul", ones(DType.FLOAT32), false, 2, 3));
        assertEquals(List.of("Abs"), binary("Mul", ones(DType.FLOAT32, 1, 3), true, 2, 3));
        assertEquals(List.of("Abs"), binary("Add", Tensor.zeros(DType.FLOAT32, 3), false, 2, 3));
        assertEquals(List.of("Abs"), binary("Add", Tensor.zeros(DType.INT64), true, 2, 3));
        assertEquals(List.of("Abs"), binary("Sub", Tensor.zeros(DType.FLOAT32, 2, 1), false, 2, 3));
        assertEquals(List.of("Abs"), binary("Div", ones(DType.INT32, 3), false, 4, 3));
    }

    @Test
    void nearMissesOfNeutralOperandsStay() {
        // The 1 broadcasts x to a bigger shape: [3] * ones[2,3] is [2,3], not x.
        assertEquals(List.of("Constant", "Mul", "Abs"), binary("Mul", ones(DType.FLOAT32, 2, 3), false, 3));
        // Not all ones / zeros.
        assertEquals(List.of("Constant", "Mul", "Abs"),
                binary("Mul", Tensor.ofFloats(new long[] {2}, 1, 2), false, 2));
        // 0 - x and 1 / x are not x.
        assertEquals(List.of("Constant", "Sub", "Abs"), binary("Sub", Tensor.zeros(DType.FLOAT32), true, 2));
        assertEquals(List.of("Constant", "Div", "Abs"), binary("Div", ones(DType.FLOAT32), true, 2));
        // x + 1 and x * 0 are not identities either.
        assertEquals(List.of("Constant", "Add", "Abs"), binary("Add", ones(DType.FLOAT32), false, 2));
        assertEquals(List.of("Constant", "Mul", "Abs"), binary("Mul", Tensor.zeros(DType.FLOAT32), false, 2));
    }

    @Test
    void neutralOperandNeedsKnownRankToProveItDoesNotBroadcast() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "?");
        b.output(abs(b, b.mul(x, b.constant(ones(DType.FLOAT32, 1)))));
        // Rank 1 is known, the size is not: a [1] operand keeps x's shape. A [2] operand would not be provable.
        assertEquals(List.of("Constant", "Abs"), ops(apply(PASS, b.build())));
        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, "?");
        c.output(abs(c, c.mul(y, c.constant(ones(DType.FLOAT32, 2)))));
        assertEquals(List.of("Constant", "Mul", "Abs"), ops(apply(PASS, c.build())));
    }

    @Test
    void identityIsRemovedAndReadersRenamed() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value i1 = b.op("Identity", List.of(x), Map.of());
        Value i2 = b.op("Identity", List.of(i1), Map.of());
        b.output(b.relu(i2));
        Graph g = simplified(b);
        assertEquals(List.of("Relu"), ops(g));
        assertEquals("x", g.nodes().get(0).input(0).name());
    }

    @Test
    void castToTheSameTypeIsRemovedButNotToAnother() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value same = b.op("Cast", List.of(x), Map.of("to", Attr.of((long) DType.FLOAT32.onnxCode())));
        Value other = b.op("Cast", List.of(same), Map.of("to", Attr.of((long) DType.INT32.onnxCode())));
        Value like = b.op("CastLike", List.of(other, b.input("z", DType.INT32, 1)), Map.of());
        b.output(abs(b, like));
        assertEquals(List.of("Cast", "Abs"), ops(simplified(b)));
    }

    @Test
    void transposePairsCancelOrMerge() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3, 4);
        Value back = b.transpose(b.transpose(x, 1, 2, 0), 2, 0, 1);
        b.output(abs(b, back));
        assertEquals(List.of("Abs"), ops(simplified(b)));

        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, 2, 3, 4);
        c.output(abs(c, c.transpose(c.transpose(y, 1, 0, 2), 0, 2, 1)));
        Graph g = simplified(c);
        assertEquals(List.of("Transpose", "Abs"), ops(g));
        assertEquals(Attr.of(1L, 2L, 0L), g.nodes().get(0).attr("perm"));

        // No perm means reversal: reversing twice is the identity.
        var d = Graph.builder();
        Value z = d.input("z", DType.FLOAT32, 2, 3);
        Value t1 = d.op("Transpose", List.of(z), Map.of());
        d.output(abs(d, d.op("Transpose", List.of(t1), Map.of())));
        assertEquals(List.of("Abs"), ops(simplified(d)));
    }

    @Test
    void identityPermutationIsRemovedButARealOneStays() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        b.output(abs(b, b.transpose(b.transpose(x, 0, 1), 1, 0)));
        assertEquals(List.of("Transpose", "Abs"), ops(simplified(b)));
    }

    @Test
    void reshapeOfReshapeKeepsOnlyTheLast() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3, 4);
        b.output(abs(b, b.reshape(b.reshape(x, 6, 4), 4, -1)));
        Graph g = simplified(b);
        assertEquals(List.of("Constant", "Reshape", "Abs"), ops(g));
        assertEquals("x", g.nodes().get(1).input(0).name());
    }

    @Test
    void reshapeOfReshapeWithAZeroTargetStays() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3, 4);
        // 0 copies the inner result's dim (6), not x's (2).
        b.output(abs(b, b.reshape(b.reshape(x, 6, 4), 0, 2, 2)));
        Graph g = simplified(b);
        assertEquals(List.of("Constant", "Reshape", "Constant", "Reshape", "Abs"), ops(g));
        assertEquals(g.nodes().get(1).output(0), g.nodes().get(3).input(0));
    }

    @Test
    void reshapeToTheSameShapeIsRemoved() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "batch", 4);
        b.output(abs(b, b.reshape(x, 0, 4)));
        assertEquals(List.of("Abs"), ops(simplified(b)));
        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, 2, 4);
        c.output(abs(c, c.reshape(y, 4, 2)));
        assertEquals(List.of("Constant", "Reshape", "Abs"), ops(simplified(c)));
    }

    @Test
    void squeezeUnsqueezeRoundTripsCancel() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 3);
        Value u = b.op("Unsqueeze", List.of(x, b.constant(Tensor.vector(0, -1))), Map.of());
        b.output(abs(b, b.op("Squeeze", List.of(u, b.constant(Tensor.vector(3, 0))), Map.of())));
        assertEquals(List.of("Abs"), ops(simplified(b)));

        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, 2, 1, 3);
        Value s = c.op("Squeeze", List.of(y, c.constant(Tensor.vector(1))), Map.of());
        c.output(abs(c, c.op("Unsqueeze", List.of(s, c.constant(Tensor.vector(-2))), Map.of())));
        assertEquals(List.of("Abs"), ops(simplified(c)));

        // Squeeze without axes removes every size-1 dim of a static shape.
        var d = Graph.builder();
        Value z = d.input("z", DType.FLOAT32, 1, 3);
        Value sq = d.op("Squeeze", List.of(z), Map.of());
        d.output(abs(d, d.op("Unsqueeze", List.of(sq, d.constant(Tensor.vector(0))), Map.of())));
        assertEquals(List.of("Abs"), ops(simplified(d)));
    }

    @Test
    void squeezeUnsqueezeOnOtherAxesStay() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 2, 1);
        Value u = b.op("Unsqueeze", List.of(x, b.constant(Tensor.vector(0))), Map.of());
        b.output(abs(b, b.op("Squeeze", List.of(u, b.constant(Tensor.vector(2))), Map.of())));
        assertEquals(List.of("Constant", "Unsqueeze", "Constant", "Squeeze", "Abs"), ops(simplified(b)));

        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, 1, 1, 3);
        Value s = c.op("Squeeze", List.of(y, c.constant(Tensor.vector(0))), Map.of());
        c.output(abs(c, c.op("Unsqueeze", List.of(s, c.constant(Tensor.vector(2))), Map.of())));
        assertEquals(List.of("Constant", "Squeeze", "Constant", "Unsqueeze", "Abs"), ops(simplified(c)));
    }

    private static List<String> dropout(Tensor ratio, Tensor training, boolean useMask) {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4);
        List<Value> in = new java.util.ArrayList<>(List.of(x));
        if (ratio != null || training != null) in.add(ratio == null ? Value.NONE : b.constant(ratio));
        if (training != null) in.add(b.constant(training));
        List<Value> outs = b.op("", "Dropout", in, Map.of(), useMask ? 2 : 1);
        b.output(abs(b, outs.get(0)));
        if (useMask) b.output(outs.get(1));
        Graph before = b.build();
        Graph after = apply(PASS, before);
        boolean random = training != null && training.getBool(0);
        if (!random || ratio != null && ratio.getDouble(0) == 0) assertSameResults(before, after, 3);
        return ops(after).stream().filter(op -> !op.equals("Constant")).toList();
    }

    @Test
    void dropoutInInferenceModeOrWithRatioZeroIsRemoved() {
        assertEquals(List.of("Abs"), dropout(null, null, false));
        assertEquals(List.of("Abs"), dropout(Tensor.scalar(DType.FLOAT32, 0.5), null, false));
        assertEquals(List.of("Abs"), dropout(Tensor.scalar(DType.FLOAT32, 0.5), Tensor.ofBools(new long[0], false), false));
        assertEquals(List.of("Abs"), dropout(Tensor.scalar(DType.FLOAT32, 0), Tensor.ofBools(new long[0], true), false));
    }

    @Test
    void dropoutInTrainingOrWithItsMaskReadStays() {
        assertEquals(List.of("Dropout", "Abs"),
                dropout(Tensor.scalar(DType.FLOAT32, 0.5), Tensor.ofBools(new long[0], true), false));
        assertEquals(List.of("Dropout", "Abs"), dropout(null, null, true));
    }

    @Test
    void dropoutWithATrainingFlagFedAtRunTimeStays() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 4);
        Value training = b.input("training", DType.BOOL);
        Value y = b.op("", "Dropout", List.of(x, b.constant(Tensor.scalar(DType.FLOAT32, 0.1)), training), Map.of(), 1)
                .get(0);
        b.output(abs(b, y));
        assertEquals(List.of("Constant", "Dropout", "Abs"), ops(apply(PASS, b.build())));
    }

    @Test
    void padByZeroIsRemovedButARealPadStays() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 3, 4, 4);
        b.output(abs(b, b.op("Pad", List.of(x, b.constant(Tensor.vector(0, 0, 0, 0, 0, 0, 0, 0))), Map.of("mode", Attr.of("constant")))));
        assertEquals(List.of("Abs"), ops(simplified(b)));

        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, 2, 3);
        c.output(abs(c, c.op("Pad", List.of(y, c.constant(Tensor.vector(0, 1, 0, 0))), Map.of("mode", Attr.of("reflect")))));
        assertEquals(List.of("Constant", "Pad", "Abs"), ops(simplified(c)));

        // Pads fed at run time are not known to be zero.
        var d = Graph.builder();
        Value z = d.input("z", DType.FLOAT32, 2, 3);
        Value pads = d.input("pads", DType.INT64, 4);
        d.output(abs(d, d.op("Pad", List.of(z, pads), Map.of())));
        assertEquals(List.of("Pad", "Abs"), ops(simplified(d)));
    }

    @Test
    void expandToTheSameShapeIsRemovedButABroadcastStays() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, "n", 3);
        b.output(abs(b, b.op("Expand", List.of(x, b.constant(Tensor.vector(1, 3))), Map.of())));
        assertEquals(List.of("Abs"), ops(simplified(b)));

        var c = Graph.builder();
        Value y = c.input("y", DType.FLOAT32, 1, 3);
        c.output(abs(c, c.op("Expand", List.of(y, c.constant(Tensor.vector(2, 3))), Map.of())));
        assertEquals(List.of("Constant", "Expand", "Abs"), ops(simplified(c)));

        // A target longer than x's rank adds dims.
        var d = Graph.builder();
        Value z = d.input("z", DType.FLOAT32, 3);
        d.output(abs(d, d.op("Expand", List.of(z, d.constant(Tensor.vector(1, 3))), Map.of())));
        assertEquals(List.of("Constant", "Expand", "Abs"), ops(simplified(d)));
    }

    @Test
    void firingsAreCountedPerRule() {
        var b = Graph.builder();
        Value x = b.input("x", DType.FLOAT32, 3);
        Value y = b.op("Identity", List.of(b.mul(x, b.constant(ones(DType.FLOAT32)))), Map.of());
        b.output(abs(b, y));
        PassContext ctx = PassContext.defaults();
        apply(PASS, b.build(), ctx);
        assertEquals(1L, ctx.counters().get("simplify.mul-one"));
        assertEquals(1L, ctx.counters().get("simplify.identity"));
    }
}
