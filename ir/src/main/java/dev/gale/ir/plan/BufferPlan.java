package dev.gale.ir.plan;

import dev.gale.ir.GaleException;

import java.util.Map;
import java.util.TreeMap;

/**
 * Where a compiled graph's intermediate tensors live, in the form an executor needs: one arena of
 * {@code arenaBytes}, and for each planned value its byte range and the steps (positions of the graph's top-level
 * nodes) from the one that writes it to the last one that reads it. Values without a slot (graph inputs,
 * initializers, graph outputs, values whose size only the run time knows) live outside the arena.
 *
 * <p>The memory planner in {@code passes} produces it ({@code MemoryPlan.buffers()}); backends, which do not depend on
 * the passes, consume it. It is a description, not a proof: executors check it as they run.
 *
 * @param slots by value name
 */
public record BufferPlan(long arenaBytes, long alignment, Map<String, Slot> slots) {
    /**
     * One value's place: {@code bytes} at {@code offset}, written at step {@code first}, last read at step
     * {@code last}. {@code inPlaceOf} (or null) names the input whose bytes this value takes over at step
     * {@code first}, where that input (and every view of it) is read for the last time. {@code viewOf} (or null)
     * names the value whose bytes this one is under another shape (a reshape's output, whose producer writes bytes
     * that are already there): same offset and size, and both may be read while either lives.
     */
    public record Slot(long offset, long bytes, int first, int last, String inPlaceOf, String viewOf) {
        public Slot(long offset, long bytes, int first, int last, String inPlaceOf) {
            this(offset, bytes, first, last, inPlaceOf, null);
        }

        /** Whether the byte ranges of the two slots intersect (empty slots intersect nothing). */
        public boolean overlaps(Slot o) {
            return bytes > 0 && o.bytes > 0 && offset < o.offset + o.bytes && o.offset < offset + bytes;
        }

        public long end() { return offset + bytes; }
    }

    public BufferPlan {
        if (arenaBytes < 0 || alignment <= 0) throw new GaleException("buffer plan: arena of " + arenaBytes
                + " bytes aligned to " + alignment + " is not a valid arena");
        slots = java.util.Collections.unmodifiableMap(new TreeMap<>(slots));
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            if (s.offset < 0 || s.bytes < 0 || s.end() > arenaBytes || s.first > s.last)
                throw new GaleException("buffer plan: value '" + e.getKey() + "' at bytes [" + s.offset + ", "
                        + s.end() + "), steps " + s.first + ".." + s.last + ", does not fit an arena of "
                        + arenaBytes + " bytes");
        }
    }

    /** The slot of a value, or null when it lives outside the arena. */
    public Slot slot(String value) { return slots.get(value); }
}
