package dev.gale.backends.cpu.runtime;

import dev.gale.passes.memory.MemoryPlan;

import java.util.HashMap;
import java.util.Map;

/**
 * The byte offsets the {@code plan-memory} pass's {@link MemoryPlan} gives the intermediates of a scheduled graph,
 * as the plan builder reads them.
 *
 * @param arenaBytes the planned arena's size
 * @param offsets    value name -> {offset, bytes}
 */
record PlannedOffsets(long arenaBytes, Map<String, long[]> offsets) {
    static PlannedOffsets from(MemoryPlan plan) {
        if (plan == null) return null;
        Map<String, long[]> m = new HashMap<>();
        for (MemoryPlan.Allocation a : plan.allocations())
            if (a.offset() >= 0 && a.bytes() >= 0 && a.offset() + a.bytes() <= plan.arenaBytes())
                m.put(a.value(), new long[] {a.offset(), a.bytes()});
        return new PlannedOffsets(plan.arenaBytes(), m);
    }
}
