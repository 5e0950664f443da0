package dev.gale.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A result's line says when its peer did not run in its best setup, so that a flattering ratio is not read alone, and
 * when Gale's side allocated like a boxed vector kernel.
 */
class BenchResultTest {
    private static BenchResult train(Map<String, Object> details) {
        double[] gale = {1e-3, 1.1e-3}, torch = {2e-2, 2.1e-2};
        return new BenchResult("train", "mlp", 32, "pytorch", Stats.of(gale), Stats.of(torch),
                Stats.ratios(gale, torch), details, null);
    }

    @Test
    void anUntunedPeerIsNamedOnTheLine() {
        String line = train(Map.of(BenchResult.PEER_WARNING, "BLAS: reference")).line();
        assertTrue(line.endsWith("(pytorch not in its best setup: see the warning)"), line);
        assertFalse(train(Map.of("loss", "mse")).line().contains("best setup"));
    }

    @Test
    void aBoxedKernelsAllocationIsNamedOnTheLine() {
        String line = train(Map.of(BenchResult.GALE_ALLOC, 1_769_824L)).line();
        assertTrue(line.contains("(gale allocated 1728 KiB a run in a timed block: vector code still uncompiled or left "
                + "boxed"), line);
        assertFalse(train(Map.of(BenchResult.GALE_ALLOC, 107_800L)).line().contains("allocated"));
        // a forward run that copies its outputs allocates them each run: no note
        assertFalse(train(Map.of(BenchResult.GALE_ALLOC, 1_769_824L, "gale_io", "copied")).line()
                .contains("allocated"));
    }
}
