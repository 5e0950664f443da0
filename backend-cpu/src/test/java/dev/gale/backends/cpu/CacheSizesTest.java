package dev.gale.backends.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheSizesTest {
    @Test
    void parsesTheSizesSysfsAndUsersWrite() {
        assertEquals(2L << 20, CacheSizes.parse("2048K"));
        assertEquals(2L << 20, CacheSizes.parse(" 2m\n"));
        assertEquals(1048576, CacheSizes.parse("1048576"));
        assertEquals(-1, CacheSizes.parse("two megabytes"));
        assertEquals(-1, CacheSizes.parse("K"));
        assertEquals(-1, CacheSizes.parse("99999999999999999M"));
    }

    @Test
    void theMachinesL2IsKnownOrTheDefault() {
        assertTrue(CacheSizes.L2_BYTES >= 64 << 10, "an L2 of " + CacheSizes.L2_BYTES + " bytes");
    }
}
