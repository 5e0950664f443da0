package dev.gale.backends.interp.planned;

import dev.gale.ir.GaleException;
import dev.gale.ir.Node;
import dev.gale.ir.plan.BufferPlan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which planned values hold their bytes in the arena right now, and the check that the plan never lets a write
 * clobber a value that is still to be read.
 *
 * <p>A value becomes resident when its producer writes it and stops being resident after its last planned read
 * (step {@code last}). A write at step s may overlap a resident value only when that value is in the view group of
 * the one the written value takes over in place ({@code inPlaceOf}: the same bytes exactly) and dies at s, the step
 * whose inputs were read before its outputs are written; or when the written value is a view ({@code viewOf}) of
 * that value's group, whose bytes it writes again unchanged. Any other overlap is a clobber and fails the run, naming both values; so does a read of a value that
 * is not resident. Since the executor writes to the arena nowhere else, a value that passes these checks is read
 * back with the bytes it was written with.
 */
final class ArenaResidents {
    private final Map<String, BufferPlan.Slot> resident = new HashMap<>();
    /** Values by the step after which they are no longer read. */
    private final List<List<String>> dyingAt = new ArrayList<>();

    ArenaResidents(int steps) {
        for (int s = 0; s < steps; s++) dyingAt.add(new ArrayList<>());
    }

    /** Forgets every value: a new run starts with an arena of garbage. */
    void clear() {
        resident.clear();
        for (List<String> d : dyingAt) d.clear();
    }

    /** Bytes of the arena that hold values still to be read. */
    long residentBytes() {
        long sum = 0;
        for (BufferPlan.Slot s : resident.values()) sum += s.bytes();
        return sum;
    }

    void checkReadable(String value, int step, Node reader) {
        if (!resident.containsKey(value))
            throw new GaleException("step " + step + ", " + reader.describe() + ": arena value '" + value
                    + "' is not in the arena (never written, or overwritten by a value the plan placed over it)");
    }

    /** Records that {@code value} is written to {@code slot} at {@code step}, after checking it clobbers nothing. */
    void write(String value, BufferPlan.Slot slot, int step, Node writer) {
        List<String> replaced = new ArrayList<>();
        for (Map.Entry<String, BufferPlan.Slot> e : resident.entrySet()) {
            BufferPlan.Slot o = e.getValue();
            if (!o.overlaps(slot)) continue;
            boolean same = o.offset() == slot.offset() && o.bytes() == slot.bytes();
            boolean inPlace = same && o.last() == step && sameGroup(e.getKey(), slot.inPlaceOf());
            boolean view = same && slot.viewOf() != null && sameGroup(e.getKey(), slot.viewOf());
            if (view) continue;
            if (!inPlace)
                throw new GaleException("step " + step + ", " + writer.describe() + ": the memory plan puts '" + value
                        + "' at bytes [" + slot.offset() + ", " + slot.end() + "), over '" + e.getKey() + "' at ["
                        + o.offset() + ", " + o.end() + "), which is read until step " + o.last());
            replaced.add(e.getKey());
        }
        for (String r : replaced) resident.remove(r);
        resident.put(value, slot);
        dyingAt.get(slot.last()).add(value);
    }

    /** Whether resident {@code value} and {@code other} are one view group: the same value, or views of one root. */
    private boolean sameGroup(String value, String other) {
        return other != null && root(value).equals(root(other));
    }

    private String root(String value) {
        BufferPlan.Slot s = resident.get(value);
        return s != null && s.viewOf() != null ? s.viewOf() : value;
    }

    /** Step {@code step} has run: the values it read for the last time leave the arena. */
    void endStep(int step) {
        for (String v : dyingAt.get(step)) resident.remove(v);
        dyingAt.get(step).clear();
    }
}
