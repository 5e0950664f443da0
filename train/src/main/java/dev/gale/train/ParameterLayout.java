package dev.gale.train;

import dev.gale.ir.GaleException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each trainable parameter lives in the flat training buffers: parameters, gradients and every optimizer
 * moment share this layout, so a data-parallel stage can shard all of them by cutting one index range, and optimizer
 * code never needs to know about individual tensors. Slots start on {@link #ALIGN}-element boundaries.
 */
public final class ParameterLayout {
    /** Slot alignment in elements (64 bytes of float32: a cache line, a full AVX-512 vector). */
    public static final int ALIGN = 16;

    /** One parameter's slice: elements {@code [offset, offset + numel)} of every flat buffer. */
    public record Slot(String name, long[] shape, int offset, int numel) {
        public Slot {
            shape = shape.clone();
        }
    }

    private final Map<String, Slot> slots;
    private final int size;

    private ParameterLayout(Map<String, Slot> slots, int size) {
        this.slots = Collections.unmodifiableMap(slots);
        this.size = size;
    }

    /** Lays out parameters in the given order. */
    public static ParameterLayout of(List<String> names, List<long[]> shapes) {
        Map<String, Slot> m = new LinkedHashMap<>();
        long offset = 0;
        for (int i = 0; i < names.size(); i++) {
            long n = 1;
            for (long d : shapes.get(i)) n *= d;
            if (offset + n > Integer.MAX_VALUE - ALIGN)
                throw new GaleException("the trainable parameters exceed " + Integer.MAX_VALUE + " elements");
            m.put(names.get(i), new Slot(names.get(i), shapes.get(i), (int) offset, (int) n));
            offset += (n + ALIGN - 1) / ALIGN * ALIGN;
        }
        return new ParameterLayout(m, (int) offset);
    }

    /** Total elements of each flat buffer, padding included. */
    public int size() { return size; }

    public List<Slot> slots() { return new ArrayList<>(slots.values()); }

    public Slot slot(String name) {
        Slot s = slots.get(name);
        if (s == null) throw new GaleException("'" + name + "' is not a trained parameter");
        return s;
    }

    public List<String> names() { return new ArrayList<>(slots.keySet()); }

    /** A stable description (names, shapes, offsets) used to check that a checkpoint belongs to this model. */
    public String signature() {
        StringBuilder sb = new StringBuilder();
        for (Slot s : slots.values())
            sb.append(s.name()).append(java.util.Arrays.toString(s.shape())).append('@').append(s.offset()).append(';');
        return sb.toString();
    }
}
