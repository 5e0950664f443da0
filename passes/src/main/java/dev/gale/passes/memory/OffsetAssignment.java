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
 * index, so the result is deterministic. An order that reaches the lower bound ends the search (nothing beats it).
 * Cost: O(n^2) per order for n buffers.
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
        long bound = lowerBound(items, liveBytes);
        Result best = null;
        Integer[] bestOrder = null;
        for (Comparator<Integer> order : orders) {
            Integer[] perm = permutation(items.size(), order);
            Result r = place(items, perm);
            if (best == null || r.arenaBytes < best.arenaBytes) {
                best = r;
                bestOrder = perm;
            }
            if (best.arenaBytes <= bound) return best; // optimal: no later order can do better
        }
        // Repair: the buffers that reach the top of the arena go first next time (those placed late found no gap).
        Integer[] perm = bestOrder;
        Result current = best;
        for (int round = 0; round < REPAIR_ROUNDS && best.arenaBytes > bound; round++) {
            perm = topFirst(items, perm, current);
            current = place(items, perm);
            if (current.arenaBytes < best.arenaBytes) best = current;
        }
        return best;
    }

    static final int REPAIR_ROUNDS = 32;

    private static long lowerBound(List<Item> items, long[] liveBytes) {
        long m = 0;
        for (long b : liveBytes) m = Math.max(m, b);
        return m;
    }

    private static Integer[] permutation(int n, Comparator<Integer> order) {
        Integer[] p = new Integer[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Arrays.sort(p, order);
        return p;
    }

    /** {@code perm} with the buffers that end at the arena's top moved to the front, keeping relative order. */
    private static Integer[] topFirst(List<Item> items, Integer[] perm, Result r) {
        List<Integer> top = new ArrayList<>(), rest = new ArrayList<>();
        for (int i : perm) (r.offsets[i] + items.get(i).size == r.arenaBytes ? top : rest).add(i);
        top.addAll(rest);
        return top.toArray(Integer[]::new);
    }

    private static int span(Item it) { return it.last - it.first + 1; }

    /** The most bytes live at any step of the buffer's life: buffers of the peak steps go first. */
    private static long busiest(Item it, long[] liveBytes) {
        long m = 0;
        for (int s = it.first; s <= it.last && s < liveBytes.length; s++) m = Math.max(m, liveBytes[s]);
        return m;
    }

    /** Greedy best-fit placement of the items in the given order. */
    static Result place(List<Item> items, Integer[] byPriority) {
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
            int lo = 0, hi = placed.size(); // insert after every buffer at an offset <= this one
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (offsets[placed.get(mid)] <= offsets[i]) lo = mid + 1;
                else hi = mid;
            }
            placed.add(lo, i);
        }
        return new Result(offsets, arena);
    }
}
