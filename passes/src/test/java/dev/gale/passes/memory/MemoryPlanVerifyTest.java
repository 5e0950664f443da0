package dev.gale.passes.memory;

import dev.gale.ir.GaleException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@link MemoryPlan#verify} accepts valid plans and names the first broken invariant of invalid ones. */
class MemoryPlanVerifyTest {
    static MemoryPlan.Allocation at(String v, long offset, long bytes, int first, int last) {
        return new MemoryPlan.Allocation(v, offset, bytes, first, last, null);
    }

    static MemoryPlan plan(long arena, MemoryPlan.Allocation... a) {
        return new MemoryPlan(64, arena, arena, 0, 10, List.of(a), List.of());
    }

    static void broken(MemoryPlan p, String... words) {
        GaleException e = assertThrows(GaleException.class, p::verify);
        for (String w : words) assertTrue(e.getMessage().contains(w), e.getMessage());
    }

    @Test
    void disjointInTimeOrSpaceIsFine() {
        plan(128, at("a", 0, 64, 0, 2), at("b", 0, 64, 3, 5), at("c", 64, 64, 1, 4)).verify();
    }

    @Test
    void overlapOfLiveValuesIsCaught() {
        broken(plan(128, at("a", 0, 100, 0, 3), at("b", 64, 64, 3, 5)), "'a'", "'b'", "share bytes");
        broken(plan(256, at("a", 0, 64, 0, 9), at("z", 128, 64, 0, 1), at("b", 0, 64, 5, 5)), "'a'", "'b'");
    }

    @Test
    void onlyRealInPlacePairsMayShareAtTheHandOver() {
        MemoryPlan.Allocation a = at("a", 0, 64, 0, 3);
        new MemoryPlan(64, 64, 128, 64, 10, List.of(a, new MemoryPlan.Allocation("b", 0, 64, 3, 5, "a")), List.of())
                .verify();
        broken(plan(64, a, at("b", 0, 64, 3, 5)), "share bytes");
        broken(new MemoryPlan(64, 64, 128, 64, 10, List.of(a, new MemoryPlan.Allocation("b", 0, 64, 2, 5, "a")),
                List.of()), "must die where it is born");
        broken(new MemoryPlan(64, 64, 128, 64, 10, List.of(new MemoryPlan.Allocation("b", 0, 64, 2, 5, "q")),
                List.of()), "'q'", "not in the arena");
    }

    @Test
    void alignmentBoundsAndStepsAreChecked() {
        broken(plan(256, at("a", 32, 64, 0, 1)), "not aligned");
        broken(plan(64, at("a", 0, 65, 0, 1)), "does not fit");
        broken(plan(64, at("a", 0, 64, 2, 1)), "steps");
        broken(plan(64, at("a", 0, 64, 0, 10)), "steps");
        broken(plan(128, at("a", 0, 64, 0, 1), at("a", 64, 64, 2, 3)), "twice");
        broken(new MemoryPlan(64, 64, 64, 128, 10, List.of(), List.of()), "lower bound");
    }

    @Test
    void zeroByteValuesShareNothing() {
        plan(64, at("a", 0, 64, 0, 3), at("empty", 0, 0, 1, 2)).verify();
    }
}
