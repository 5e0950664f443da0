package dev.gale.passes.memory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Places buffers with known lifetimes in one arena: greedy by size with best fit (after Pisarchyk and Lee's "greedy
 * by size" offset calculation for TFLite). Buffers are taken one by one in a priority order; each goes into the
 * smallest gap, between the already placed buffers whose lifetimes overlap its own, that holds it, or above all of
 * them when no gap does. Sizes and hence offsets are multiples of the alignment.
 *
 * <p>The result depends on the order, and no order is best on every graph, so {@link #assign} tries a few (largest
 * first; largest area size x lifetime first; longest-lived first; and "by breadth": buffers of the busiest steps
 * first) and keeps the smallest arena, the earliest order on ties. All orders break ties by birth step and then by
 * index, so the result is deterministic. Cost: O(n^2) per order for n buffers.
 */
final class OffsetAssignment {
    /** The buffers to place: aligned sizes and inclusive step ranges. */
    record Item(long size, int first, int last) {}

    record Result(long[] offsets, long arenaBytes) {}

    private OffsetAssignment() {}

    static Result assign(List<Item> items, long[] liveBytes) {
        List<Comparator<Integer>> orders = new ArrayList<>();
        Comparator<Integer> birth = Comparator.<Integer>comparingInt(i -> items.get(i).first).thenComparingInt(i -> i);
        orders.add(Comparator.<Integer>comparingLong(i -> -items.get(i).size).thenComparing(birth));
        orders.add(Comparator.<Integer>comparingLong(i -> -items.get(i).size * span(items.get(i)))
                .thenComparing(birth));
        orders.add(Comparator.<Integer>comparingInt(i -> -span(items.get(i)))
                .thenComparingLong(i -> -items.get(i).size).thenComparing(birth));
        orders.add(Comparator.<Integer>comparingLong(i -> -busiest(items.get(i), liveBytes))
                .thenComparingLong(i -> -items.get(i).size).thenComparing(birth));
        Result best = null;
        for (Comparator<Integer> order : orders) {
            Result r = place(items, order);
            if (best == null || r.arenaBytes < best.arenaBytes) best = r;
        }
        return best;
    }

    private static int span(Item it) { return it.last - it.first + 1; }

    /** The most bytes live at any step of the buffer's life: buffers of the peak steps go first. */
    private static long busiest(Item it, long[] liveBytes) {
        long m = 0;
        for (int s = it.first; s <= it.last && s < liveBytes.length; s++) m = Math.max(m, liveBytes[s]);
        return m;
    }

    /** Greedy best-fit placement of the items in the given order. */
    static Result place(List<Item> items, Comparator<Integer> order) {
        Integer[] byPriority = new Integer[items.size()];
        for (int i = 0; i < byPriority.length; i++) byPriority[i] = i;
        Arrays.sort(byPriority, order);
        long[] offsets = new long[items.size()];
        List<Integer> placed = new ArrayList<>(); // sorted by offset
        long arena = 0;
        for (int i : byPriority) {
            Item it = items.get(i);
            long prevEnd = 0, best = -1, bestGap = Long.MAX_VALUE;
            for (int j : placed) {
                Item p = items.get(j);
                if (p.size == 0 || p.last < it.first || it.last < p.first) continue;
                long gap = offsets[j] - prevEnd;
                if (gap >= it.size && gap < bestGap) {
                    best = prevEnd;
                    bestGap = gap;
                }
                prevEnd = Math.max(prevEnd, offsets[j] + p.size);
            }
            offsets[i] = best >= 0 ? best : prevEnd;
            arena = Math.max(arena, offsets[i] + it.size);
            int at = 0;
            while (at < placed.size() && offsets[placed.get(at)] <= offsets[i]) at++;
            placed.add(at, i);
        }
        return new Result(offsets, arena);
    }
}
