package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.Autodiff;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The form of MatMul's gradient for a 2-D operand broadcast over the other's batch dims (a linear layer's weight):
 * one Gemm over all rows, with no batched [batch, k, n] product and no sum over the batch. The values are checked
 * against finite differences in {@link GradientCasesNn} and {@link NnGradientsSymbolicTest}.
 */
class MatMulWeightGradientTest {
    /** The backward nodes of {@code loss = sum(a @ b)} that lead to the gradient of the trained 2-D operand. */
    private static List<Node> weightGradient(boolean weightOnLeft, long[] weight, Object... activation) {
        GraphBuilder g = Graph.builder("linear");
        Value x = g.input("x", DType.FLOAT64, activation);
        Value w = g.initializer("w", GradientCheck.random(new java.util.Random(1), -1, 1, weight));
        Value y = weightOnLeft ? g.matmul(w, x) : g.matmul(x, w);
        Value loss = g.op("ReduceSum", List.of(y), Map.of("keepdims", Attr.of(0L)));
        g.output(loss);
        Autodiff.Result r = Autodiff.differentiate(g.build(), loss.name(), List.of("w"), List.of());
        return producers(r.graph(), r.gradients().get("w"));
    }

    /** Every node the value depends on, found backwards through producers. */
    private static List<Node> producers(Graph g, Value v) {
        Map<String, Node> producer = new HashMap<>();
        for (Node n : g.nodes()) for (Value o : n.outputs()) producer.put(o.name(), n);
        List<Node> found = new ArrayList<>();
        List<String> todo = new ArrayList<>(List.of(v.name()));
        while (!todo.isEmpty()) {
            Node n = producer.get(todo.removeLast());
            if (n == null || found.contains(n)) continue;
            found.add(n);
            for (Value in : n.inputs()) if (!in.isNone()) todo.add(in.name());
        }
        return found;
    }

    private static boolean hasOp(List<Node> nodes, String op) {
        return nodes.stream().anyMatch(n -> n.op().equals(op));
    }

    /** No value of rank 3 or more ends in the weight's dims [k, n] (the batched product). */
    private static void noBatchedProduct(List<Node> nodes, long k, long n) {
        for (Node node : nodes)
            for (Value v : node.outputs()) {
                Shape s = v.type() instanceof Type.TensorType t ? t.shape() : null;
                if (s == null || s.rank() < 3) continue;
                assertFalse(s.dim(s.rank() - 2).equals(Dim.of(k)) && s.dim(s.rank() - 1).equals(Dim.of(n)),
                        "batched weight product " + v.name() + " " + s + " from " + node.op());
            }
    }

    @Test
    void weightOnTheRightIsOneGemmOverAllRows() {
        List<Node> nodes = weightGradient(false, new long[]{64, 128}, "batch", 16, 64);
        assertTrue(hasOp(nodes, "Gemm"), nodes.toString());
        assertFalse(hasOp(nodes, "ReduceSum"), nodes.toString());
        noBatchedProduct(nodes, 64, 128);
    }

    @Test
    void rankFourActivationToo() {
        List<Node> nodes = weightGradient(false, new long[]{8, 4}, 2, "batch", 5, 8);
        assertTrue(hasOp(nodes, "Gemm"));
        assertFalse(hasOp(nodes, "ReduceSum"));
        noBatchedProduct(nodes, 8, 4);
    }

    @Test
    void weightOnTheLeftWhenNoWiderThanItsRows() {
        // w [m=3, k=8] @ x [batch, 8, 4]: n = 4 <= k = 8, so dw = dy as [3, batch*4] times x as [8, batch*4]^T.
        List<Node> nodes = weightGradient(true, new long[]{3, 8}, "batch", 8, 4);
        assertTrue(hasOp(nodes, "Gemm"));
        assertFalse(hasOp(nodes, "ReduceSum"));
        noBatchedProduct(nodes, 3, 8);
    }

    @Test
    void weightOnTheLeftKeepsTheBatchedProductWhenWider() {
        // n = 16 > k = 8: the transposed copy of dy [batch, 3, 16] would outweigh the product [batch, 3, 8].
        List<Node> nodes = weightGradient(true, new long[]{3, 8}, "batch", 8, 16);
        assertFalse(hasOp(nodes, "Gemm"));
        assertThrows(AssertionError.class, () -> noBatchedProduct(nodes, 3, 8));
    }
}
