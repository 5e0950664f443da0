package dev.gale.torture.grad;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpTable;
import dev.gale.passes.Autodiff;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reduction-family rules on shapes known only at run time: a batch input {@code x: [batch, 3, 4]} scales a trained
 * {@code w: [3, 4]}, the op under test runs on {@code h = x * w}, and the loss is {@code sum(op(h)^2)}. The axes are
 * either a constant or a graph input (so the rules cannot read them at compile time). The gradient of w is checked
 * against central differences with batch = 2, and the backward graph must take its shapes from Shape/Size nodes.
 */
class ReductionGradientsSymbolicTest {
    record Case(String name, String op, Map<String, Attr> attrs, long[] axes, boolean runtimeAxes) {
        @Override
        public String toString() { return name; }
    }

    static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        for (String op : List.of("ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp",
                "ReduceMax", "ReduceMin")) {
            c.add(new Case(op + " axis 0", op, Map.of("keepdims", Attr.of(0L)), new long[] {0}, false));
            c.add(new Case(op + " axes -1 (runtime)", op, Map.of("keepdims", Attr.of(0L)), new long[] {-1}, true));
            c.add(new Case(op + " axes 0,2 keepdims (runtime)", op, Map.of(), new long[] {0, 2}, true));
            c.add(new Case(op + " all", op, Map.of("keepdims", Attr.of(0L)), null, false));
        }
        for (String op : List.of("Softmax", "LogSoftmax"))
            c.add(new Case(op + " axis 0", op, Map.of("axis", Attr.of(0L)), null, false));
        c.add(new Case("CumSum axis 0", "CumSum", Map.of("reverse", Attr.of(1L)), new long[] {0}, false));
        c.add(new Case("TopK axis 0", "TopK", Map.of("axis", Attr.of(0L)), new long[] {1}, false));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientOfBatchedGraph(Case k) {
        for (String op : List.of(k.op(), "Mul", "Shape", "Size", "Expand", "Unsqueeze", "ScatterElements"))
            Assumptions.assumeTrue(OpTable.lookup("", op) != null, op + " is not in the op table yet");
        Random r = new Random(7);
        GraphBuilder g = Graph.builder("symbolic_" + k.op());
        Value x = g.input("x", DType.FLOAT64, "batch", 3, 4);
        Value w = g.initializer("w", GradientCheck.random(r, -1, 1, 3, 4));
        List<Value> in = new ArrayList<>(List.of(g.mul(x, w)));
        Value axesInput = null;
        if (k.axes() != null) {
            if (k.runtimeAxes()) {
                axesInput = g.input("axes", DType.INT64, k.axes().length);
                in.add(axesInput);
            } else {
                in.add(g.constant(k.op().equals("CumSum") ? Tensor.scalarLong(DType.INT64, k.axes()[0])
                        : Tensor.vector(k.axes())));
            }
        }
        Value y = g.op("", k.op(), in, k.attrs(), k.op().equals("TopK") ? 2 : 1).get(0);
        Value loss = g.op("ReduceSum", List.of(g.mul(y, y)), Map.of("keepdims", Attr.of(0L)));
        g.output(loss);
        Graph forward = g.build();

        Autodiff.Result train = Autodiff.differentiate(forward, loss.name(), List.of(w.name()), List.of());
        int forwardNodes = forward.nodes().size();
        List<Node> backward = train.graph().nodes().subList(forwardNodes, train.graph().nodes().size());
        // These rules build x-shaped tensors (Expand, ConstantOfShape) or count elements; the others only broadcast.
        if (List.of("ReduceSum", "ReduceMean", "TopK").contains(k.op()))
            assertTrue(backward.stream().anyMatch(n -> n.op().equals("Shape") || n.op().equals("Size")),
                    "the backward graph should read x's shape at run time");

        Map<String, Object> feeds = new HashMap<>();
        feeds.put(x.name(), GradientCheck.random(r, -1, 1, 2, 3, 4));
        if (axesInput != null) feeds.put(axesInput.name(), Tensor.vector(k.axes()));
        Map<String, Object> trainFeeds = new HashMap<>(feeds);
        Tensor w0 = forward.initializers().get(w.name());
        trainFeeds.put(w.name(), w0);
        Tensor analytic = (Tensor) Interpreter.run(Model.of(train.graph()), trainFeeds).get(1);
        assertEquals(w0.numel(), analytic.numel());
        GradientCheck.assertMatchesFiniteDifferences(forward, feeds, w.name(), analytic, k + ": ");
    }
}
