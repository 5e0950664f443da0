package dev.gale.passes.memory;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Greedy-by-size placement: gaps reused best-fit, never an overlap, close to the lower bound on random lifetimes. */
class OffsetAssignmentTest {
    static OffsetAssignment.Item item(long size, int first, int last) {
        return new OffsetAssignment.Item(size, first, last);
    }

    static long[] live(List<OffsetAssignment.Item> items, int steps) {
        long[] l = new long[steps];
        for (OffsetAssignment.Item it : items) for (int s = it.first(); s <= it.last(); s++) l[s] += it.size();
        return l;
    }

    static long max(long[] a) {
        long m = 0;
        for (long x : a) m = Math.max(m, x);
        return m;
    }

    static void assertNoOverlap(List<OffsetAssignment.Item> items, OffsetAssignment.Result r) {
        for (int i = 0; i < items.size(); i++)
            for (int j = i + 1; j < items.size(); j++) {
                OffsetAssignment.Item a = items.get(i), b = items.get(j);
                boolean time = a.first() <= b.last() && b.first() <= a.last();
                long oi = r.offsets()[i], oj = r.offsets()[j];
                boolean space = oi < oj + b.size() && oj < oi + a.size();
                assertFalse(time && space && a.size() > 0 && b.size() > 0, "items " + i + " and " + j + " overlap");
            }
        for (int i = 0; i < items.size(); i++) assertTrue(r.offsets()[i] + items.get(i).size() <= r.arenaBytes());
    }

    @Test
    void bestFitTakesTheSmallestGapThatHolds() {
        // The 256-byte buffer dies at step 1; the 192 and the 64 born later fill its place, not the arena's top.
        List<OffsetAssignment.Item> items = List.of(
                item(256, 0, 1),    // dies early: leaves room for later ones
                item(128, 0, 9),
                item(192, 2, 9),    // fits in the dead 256's place
                item(64, 3, 9));    // fits in what is left of it
        long[] l = live(items, 10);
        OffsetAssignment.Result r = OffsetAssignment.assign(items, l);
        assertNoOverlap(items, r);
        assertEquals(384, max(l));
        assertEquals(384, r.arenaBytes());
    }

    @Test
    void randomLifetimesNeverOverlapAndStayNearTheBound() {
        Random rnd = new Random(7);
        double worst = 1;
        for (int trial = 0; trial < 200; trial++) {
            int steps = 5 + rnd.nextInt(40), n = 1 + rnd.nextInt(60);
            List<OffsetAssignment.Item> items = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int first = rnd.nextInt(steps), last = Math.min(steps - 1, first + rnd.nextInt(8));
                items.add(item(64L * (1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 64)), first, last));
            }
            long[] l = live(items, steps);
            OffsetAssignment.Result r = OffsetAssignment.assign(items, l);
            assertNoOverlap(items, r);
            assertTrue(r.arenaBytes() >= max(l));
            worst = Math.max(worst, (double) r.arenaBytes() / max(l));
        }
        System.out.printf("random lifetimes: worst arena / lower bound %.3f%n", worst);
        assertTrue(worst < 1.5, "worst ratio " + worst);
    }

    @Test
    void deterministic() {
        List<OffsetAssignment.Item> items = List.of(item(64, 0, 3), item(64, 1, 2), item(128, 2, 4), item(64, 4, 5));
        long[] l = live(items, 6);
        assertArrayEquals(OffsetAssignment.assign(items, l).offsets(), OffsetAssignment.assign(items, l).offsets());
    }
}
