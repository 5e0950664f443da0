package dev.gale.backends.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The shared window tables are built once per window (equal windows share them) and hold what a fresh build gives. */
class WindowTablesTest {
    @Test
    void equalWindowsShareOneTableHoldingAFreshBuild() {
        Window2d a = Window2d.of(4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), b = Window2d.of(4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        assertSame(WindowTables.tapOffsets(a), WindowTables.tapOffsets(b));
        assertSame(WindowTables.padSlots(a), WindowTables.padSlots(b));
        assertSame(WindowTables.fold(a, 576), WindowTables.fold(b, 576));
        int[] offsets = PanelSource.Images.buildTapOffsets(a);
        assertArrayEquals(offsets, WindowTables.tapOffsets(a));
        assertArrayEquals(Conv2d.padSlotIndex(offsets, a.kernelSize(), a.outSize(), a.inSize()), WindowTables.padSlots(a));
        int[][] fold = Conv2d.foldIndex(a, 576), shared = WindowTables.fold(a, 576);
        assertArrayEquals(fold[0], shared[0]);
        assertArrayEquals(fold[1], shared[1]);
        // another row width is another table
        assertArrayEquals(Conv2d.foldIndex(a, 64)[1], WindowTables.fold(a, 64)[1]);
    }
}
