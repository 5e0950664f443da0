package dev.gale.backends;

import java.util.Arrays;
import java.util.List;

/**
 * A caller's request that some float32 graph inputs or outputs live at fixed places of one block of memory it reads
 * and writes directly, with no copy per run: value {@code names[i]} at float element {@code offsets[i]} of a block
 * of {@code size} floats. A training loop asks for its flat parameter buffer (the inputs) and its flat gradient buffer
 * (the outputs) this way, in its own layout, and runs its optimizer over them in place.
 *
 * @see Session#bind
 */
public record Region(List<String> names, long[] offsets, long size) {
    public Region {
        names = List.copyOf(names);
        offsets = offsets.clone();
        if (names.size() != offsets.length)
            throw new IllegalArgumentException(names.size() + " names for " + offsets.length + " offsets");
        if (size < 0) throw new IllegalArgumentException("negative region size " + size);
    }

    @Override
    public long[] offsets() { return offsets.clone(); }

    public long offset(int i) { return offsets[i]; }

    @Override
    public String toString() { return "region of " + size + " floats " + names + " at " + Arrays.toString(offsets); }
}
