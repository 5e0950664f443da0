package dev.gale.passes.memory;

import dev.gale.ir.GaleException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every intermediate tensor of a scheduled graph lives: one arena, and per value its byte offset, its size and
 * the steps (node positions) from the one that writes it to the last one that reads it. Graph inputs, initializers
 * and graph outputs live outside the arena (the caller owns them); so do {@link #dynamic} values, whose size only
 * the run time knows.
 *
 * <p>Sizes in {@link #naiveBytes} and {@link #lowerBound} are rounded up to {@link #alignment}: naive is what one
 * buffer per value would take, the lower bound is the largest total of buffers live at one step (an in-place pair
 * counted once, a value and its views once), which no placement can beat.
 *
 * @param allocations sorted by first step, then name
 */
public record MemoryPlan(long alignment, long arenaBytes, long naiveBytes, long lowerBound, int steps,
                         List<Allocation> allocations, List<String> dynamic) {
    /**
     * One value's place: {@code bytes} at {@code offset}, written at step {@code first} and last read at step
     * {@code last}. {@code inPlaceOf} (or null) names the input this value overwrites at step {@code first}, the step
     * where that input dies: both share one buffer. {@code viewOf} (or null) names the value whose bytes this one is
     * under another shape (a reshape's output): the root of its view group, at the same offset and size, and the
     * two may be live together.
     */
    public record Allocation(String value, long offset, long bytes, int first, int last, String inPlaceOf,
                             String viewOf) {
        public Allocation(String value, long offset, long bytes, int first, int last, String inPlaceOf) {
            this(value, offset, bytes, first, last, inPlaceOf, null);
        }

        /** The root of this value's view group: the value whose bytes it shares, or itself. */
        String root() { return viewOf != null ? viewOf : value; }

        boolean liveWith(Allocation o) { return first <= o.last && o.first <= last; }

        boolean sharesBytesWith(Allocation o) {
            return bytes > 0 && o.bytes > 0 && offset < o.offset + o.bytes && o.offset < offset + bytes;
        }

        @Override
        public String toString() {
            return "'" + value + "' (bytes [" + offset + ", " + (offset + bytes) + "), steps " + first + ".." + last
                    + ")";
        }
    }

    public MemoryPlan {
        allocations = allocations.stream()
                .sorted(Comparator.comparingInt(Allocation::first).thenComparing(Allocation::value)).toList();
        dynamic = dynamic.stream().sorted().toList();
    }

    /** The allocation of a value, or null when it lives outside the arena. */
    public Allocation get(String value) {
        for (Allocation a : allocations) if (a.value.equals(value)) return a;
        return null;
    }

    /** The plan as executors read it (backends do not see this class): value -> slot, and the arena size. */
    public dev.gale.ir.plan.BufferPlan buffers() {
        Map<String, dev.gale.ir.plan.BufferPlan.Slot> slots = new HashMap<>();
        for (Allocation a : allocations)
            slots.put(a.value, new dev.gale.ir.plan.BufferPlan.Slot(a.offset, a.bytes, a.first, a.last, a.inPlaceOf, a.viewOf));
        return new dev.gale.ir.plan.BufferPlan(arenaBytes, alignment, slots);
    }

    /** Arena bytes over the lower bound (1.0 is optimal for this schedule). */
    public double ratio() { return lowerBound == 0 ? 1.0 : (double) arenaBytes / lowerBound; }

    /**
     * Checks the plan's invariants and throws naming the first broken one: offsets aligned, buffers inside the arena,
     * lifetimes ordered, in-place sources known, and no two values live at the same step sharing a byte, except an
     * in-place pair at the step where the source dies and the result is born.
     */
    public void verify() {
        Map<String, Allocation> byName = new HashMap<>();
        for (Allocation a : allocations) {
            if (byName.put(a.value, a) != null) throw broken("value '" + a.value + "' is planned twice");
            if (a.offset < 0 || a.offset % alignment != 0)
                throw broken(a + " is not aligned to " + alignment + " bytes");
            if (a.bytes < 0 || a.offset + a.bytes > arenaBytes)
                throw broken(a + " does not fit in the arena of " + arenaBytes + " bytes");
            if (a.first > a.last || a.first < 0 || a.last >= Math.max(steps, 1))
                throw broken(a + " has steps outside 0.." + (steps - 1));
        }
        for (Allocation a : allocations) {
            if (a.inPlaceOf == null) continue;
            Allocation src = byName.get(a.inPlaceOf);
            if (src == null) throw broken(a + " overwrites '" + a.inPlaceOf + "', which is not in the arena");
            if (src.last != a.first || src.offset != a.offset || src.bytes != a.bytes)
                throw broken(a + " overwrites " + src + ", which must die where it is born, at its offset and size");
        }
        for (Allocation a : allocations) {
            if (a.viewOf == null) continue;
            Allocation root = byName.get(a.viewOf);
            if (root == null) throw broken(a + " views '" + a.viewOf + "', which is not in the arena");
            if (root.viewOf != null || root.offset != a.offset || root.bytes != a.bytes || root.first > a.first)
                throw broken(a + " views " + root + ", which must be a written value born before it, at its offset and"
                        + " size");
        }
        // Sweep by first step: each value only meets those born no later that are still live.
        List<Allocation> live = new ArrayList<>();
        for (Allocation a : allocations) {
            live.removeIf(o -> o.last < a.first);
            for (Allocation o : live)
                if (o.liveWith(a) && o.sharesBytesWith(a) && !o.root().equals(a.root()) && !inPlacePair(o, a, byName))
                    throw broken(o + " and " + a + " are live at the same step and share bytes");
            live.add(a);
        }
        if (lowerBound > arenaBytes) throw broken("the arena (" + arenaBytes + ") is below the lower bound "
                + lowerBound);
    }

    /** One of the two overwrites the other's view group in place, at the step where the group's members die. */
    private static boolean inPlacePair(Allocation a, Allocation b, Map<String, Allocation> byName) {
        return overwrites(b, a, byName) || overwrites(a, b, byName);
    }

    private static boolean overwrites(Allocation w, Allocation o, Map<String, Allocation> byName) {
        return w.inPlaceOf != null && o.last == w.first && byName.get(w.inPlaceOf).root().equals(o.root());
    }

    private static GaleException broken(String what) { return new GaleException("invalid memory plan: " + what); }

    /** The plan as JSON: fixed key order, allocations by first step then name, so equal plans print equal text. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"alignment\": ").append(alignment).append(",\n");
        sb.append("  \"arena_bytes\": ").append(arenaBytes).append(",\n");
        sb.append("  \"naive_bytes\": ").append(naiveBytes).append(",\n");
        sb.append("  \"lower_bound_bytes\": ").append(lowerBound).append(",\n");
        sb.append("  \"steps\": ").append(steps).append(",\n");
        sb.append("  \"values\": [");
        for (int i = 0; i < allocations.size(); i++) {
            Allocation a = allocations.get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(quote(a.value))
                    .append(", \"offset\": ").append(a.offset).append(", \"bytes\": ").append(a.bytes)
                    .append(", \"first\": ").append(a.first).append(", \"last\": ").append(a.last);
            if (a.inPlaceOf != null) sb.append(", \"in_place_of\": ").append(quote(a.inPlaceOf));
            if (a.viewOf != null) sb.append(", \"view_of\": ").append(quote(a.viewOf));
            sb.append('}');
        }
        sb.append(allocations.isEmpty() ? "],\n" : "\n  ],\n");
        sb.append("  \"dynamic\": [");
        for (int i = 0; i < dynamic.size(); i++) sb.append(i == 0 ? "" : ", ").append(quote(dynamic.get(i)));
        return sb.append("]\n}\n").toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
