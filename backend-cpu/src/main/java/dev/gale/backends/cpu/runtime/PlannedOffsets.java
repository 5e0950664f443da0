package dev.gale.backends.cpu.runtime;

import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The byte offsets a memory plan (the {@code plan-memory} pass's artifact, stored in the pass context under
 * {@code memory.plan}) gives the intermediates of a scheduled graph. Read through the plan's record accessors
 * ({@code arenaBytes()}, {@code allocations()} with {@code value()}, {@code offset()}, {@code bytes()}), so the runtime
 * works with whichever compiler build it runs with; a plan it cannot read is ignored and the runtime places every
 * value itself.
 *
 * @param arenaBytes the planned arena's size
 * @param offsets    value name -> {offset, bytes}
 */
record PlannedOffsets(long arenaBytes, Map<String, long[]> offsets) {
    static PlannedOffsets from(Object plan) {
        if (plan == null) return null;
        try {
            long arena = ((Number) call(plan, "arenaBytes")).longValue();
            Map<String, long[]> m = new HashMap<>();
            for (Object a : (List<?>) call(plan, "allocations")) {
                String v = (String) call(a, "value");
                long off = ((Number) call(a, "offset")).longValue(), bytes = ((Number) call(a, "bytes")).longValue();
                if (off >= 0 && bytes >= 0 && off + bytes <= arena) m.put(v, new long[] {off, bytes});
            }
            return new PlannedOffsets(arena, m);
        } catch (ReflectiveOperationException | ClassCastException | NullPointerException e) {
            return null;
        }
    }

    private static Object call(Object o, String method) throws ReflectiveOperationException {
        Method m = o.getClass().getMethod(method);
        m.setAccessible(true);
        return m.invoke(o);
    }
}
