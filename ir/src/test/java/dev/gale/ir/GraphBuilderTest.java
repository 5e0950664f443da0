package dev.gale.ir;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GraphBuilderTest {
    @Test
    void buildsATypedVerifiedGraph() {
        var g = Graph.builder("tiny");
        var x = g.input("x", DType.FLOAT32, "batch", 4);
        var b = g.initializer("b", Tensor.zeros(DType.FLOAT32, 4));
        var y = g.output(g.relu(g.add(x, b)));
        Graph graph = g.build();
        assertEquals(Type.tensor(DType.FLOAT32, Shape.of(Dim.sym("batch"), Dim.of(4))), y.type());
        assertEquals(2, graph.nodes().size());
        assertEquals(List.of(x), graph.runtimeInputs());
    }

    @Test
    void broadcastMismatchIsReportedWithTheNode() {
        var g = Graph.builder("bad");
        var x = g.input("x", DType.FLOAT32, 3, 4);
        var z = g.input("z", DType.FLOAT32, 5);
        GaleException e = assertThrows(GaleException.class, () -> g.add(x, z));
        assertTrue(e.getMessage().contains("do not broadcast"), e.getMessage());
        assertTrue(e.getMessage().contains("(Add)"), e.getMessage());
    }

    @Test
    void unknownOpIsRefused() {
        var g = Graph.builder("bad");
        var x = g.input("x", DType.FLOAT32, 3);
        assertThrows(UnsupportedException.class, () -> g.op("NoSuchOp", List.of(x), Map.of()));
    }
}
