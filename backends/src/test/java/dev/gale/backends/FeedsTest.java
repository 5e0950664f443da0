package dev.gale.backends;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The interp backend's session names a mis-shaped feed at its input, as the cpu backend's does. */
class FeedsTest {
    private static Model matmul() {
        GraphBuilder g = Graph.builder("g");
        g.output(g.matmul(g.input("x", DType.FLOAT32, "batch", 4), g.input("w", DType.FLOAT32, 4, 3)));
        return g.buildModel();
    }

    @Test
    void aMisShapedFeedIsNamedAtItsInput() {
        Session s = Backends.get("interp").open(matmul());
        Tensor w = Tensor.zeros(DType.FLOAT32, 4, 3);
        GaleException e = assertThrows(GaleException.class,
                () -> s.run(Map.of("x", Tensor.zeros(DType.FLOAT32, 2, 5), "w", w)));
        assertTrue(e.getMessage().startsWith("input 'x' is tensor<[2,5],f32> but the model declares"), e.getMessage());
        assertTrue(e.getMessage().contains("; dimension 1 must be 4 ("), e.getMessage());
        // a symbolic dimension takes any size; a run that works is left alone
        assertEquals(1, s.run(Map.of("x", Tensor.zeros(DType.FLOAT32, 7, 4), "w", w)).size());
    }

    @Test
    void missingAndUnknownFeedsAreNamed() {
        Session s = Backends.get("interp").open(matmul());
        GaleException e = assertThrows(GaleException.class, () -> s.run(Map.of("x", Tensor.zeros(DType.FLOAT32, 2, 4))));
        assertTrue(e.getMessage().startsWith("missing input 'w'"), e.getMessage());
        e = assertThrows(GaleException.class, () -> s.run(Map.of("x", Tensor.zeros(DType.FLOAT32, 2, 4),
                "w", Tensor.zeros(DType.FLOAT32, 4, 3), "z", Tensor.zeros(DType.FLOAT32, 1))));
        assertTrue(e.getMessage().startsWith("'z' is not an input of the graph"), e.getMessage());
    }
}
