package dev.gale.backends.cpu.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Places buffers with lifetimes in one region: largest first, each at the lowest offset where it overlaps no placed
 * buffer that is live at the same time (greedy by size, as in TFLite's and TVM's planners). Used for what the memory
 * plan does not place: graph inputs, constants and outputs (live for the whole run), the insides of fused kernels,
 * and everything when no plan was made. Offsets and sizes are in floats; every offset is a multiple of
 * {@link #ALIGN} floats (64 bytes).
 */
final class OffsetPacker {
    static final long ALIGN = 16;

    /** A buffer of {@code size} floats written at step {@code first} and last read at step {@code last}. */
    record Item(long size, int first, int last) {
        boolean liveWith(Item o) { return first <= o.last && o.first <= last; }
    }

    private OffsetPacker() {}

    static long align(long floats) { return (floats + ALIGN - 1) / ALIGN * ALIGN; }

    /** Offsets (relative to the region start) for {@code items}; {@code end[0]} receives the region size. */
    static long[] place(List<Item> items, long[] end) {
        Integer[] order = new Integer[items.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.comparingLong((Integer i) -> -items.get(i).size()).thenComparing(i -> i));
        long[] offsets = new long[items.size()];
        List<Integer> placed = new ArrayList<>();
        long top = 0;
        for (int i : order) {
            Item it = items.get(i);
            long size = align(Math.max(it.size(), 1));
            List<long[]> busy = new ArrayList<>();
            for (int j : placed)
                if (items.get(j).liveWith(it)) busy.add(new long[] {offsets[j], offsets[j] + align(Math.max(items.get(j).size(), 1))});
            busy.sort(Comparator.comparingLong(b -> b[0]));
            long at = 0;
            for (long[] b : busy) {
                if (at + size <= b[0]) break;
                at = Math.max(at, b[1]);
            }
            offsets[i] = at;
            top = Math.max(top, at + size);
            placed.add(i);
        }
        end[0] = top;
        return offsets;
    }
}
