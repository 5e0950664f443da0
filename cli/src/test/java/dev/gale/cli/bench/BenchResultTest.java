package dev.gale.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A result's line says when its peer did not run in its best setup, so that a flattering ratio is not read alone. */
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
}
