package dev.gale.ir.op;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Type;
import dev.gale.ir.text.TextParser;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gale::FusedConv's pool and pool_kernel: the pooled result type, and the errors that name a bad attribute. */
class FusedConvPoolTypesTest {
    private static String graph(String attrs, String x) {
        return "graph @c(%x: tensor<" + x + ",f32>, %w: tensor<[4,3,3,3],f32>) -> (%y) {\n"
                + "  %y = gale::FusedConv(%x, %w) {pads = [1, 1, 1, 1]" + attrs + "}\n}\n";
    }

    private static String resultType(String attrs, String x) {
        Graph g = TextParser.parse(graph(attrs, x), "t.gir").graph();
        return ((Type.TensorType) g.outputs().get(0).type()).shape().dims().toString();
    }

    @Test
    void pooledResultDropsTheRowsAndColumnsPastTheLastWindow() {
        assertEquals(resultType("", "[2,3,9,11]"), resultType(", pool = \"none\"", "[2,3,9,11]"));
        String max = resultType(", pool = \"max\", pool_kernel = [2, 2]", "[2,3,9,11]");
        String avg = resultType(", pool = \"average\", pool_kernel = [3, 2]", "[n,3,9,11]");
        assertEquals("[2, 4, 4, 5]", max);
        assertEquals("[n, 4, 3, 5]", avg);
    }

    @Test
    void badPoolAttributesAreNamed() {
        for (String[] c : new String[][] {
                {", pool = \"min\", pool_kernel = [2, 2]", "pool must be none, max or average"},
                {", pool = \"max\"", "needs pool_kernel"},
                {", pool = \"max\", pool_kernel = [2]", "pool_kernel must be two window sizes"},
                {", pool = \"max\", pool_kernel = [0, 2]", "pool_kernel must be two window sizes"},
                {", pool = \"max\", pool_kernel = [10, 2]", "larger than the convolution's result"}}) {
            GaleException e = assertThrows(GaleException.class, () -> TextParser.parse(graph(c[0], "[2,3,9,11]"), "t.gir"));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        GaleException e = assertThrows(GaleException.class, () -> TextParser.parse("""
                graph @c(%x: tensor<[2,3,9],f32>, %w: tensor<[4,3,3],f32>) -> (%y) {
                  %y = gale::FusedConv(%x, %w) {pool = "max", pool_kernel = [2, 2]}
                }
                """, "t.gir"));
        assertTrue(e.getMessage().contains("2-D convolution"), e.getMessage());
    }
}
