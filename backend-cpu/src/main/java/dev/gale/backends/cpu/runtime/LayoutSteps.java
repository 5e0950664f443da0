package dev.gale.backends.cpu.runtime;

import java.lang.foreign.MemorySegment;

/**
 * Steps that move data without computing: the reshapes (a copy, since every value has its own place in the
 * arena), Transpose, Gather along an axis, Slice, Concat and Expand.
 */
final class LayoutSteps {
    private LayoutSteps() {}

    static void registerAll() {
        for (String op : new String[] {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"})
            NativeOps.register(op, LayoutSteps::copy);
    }

    /** Output = input 0's elements in the same order. */
    static Step copy(EmitContext c) {
        if (!c.arenaIn(0) || c.out(0) == null || !c.out(0).inArena() || c.in(0).numel != c.out(0).numel) return null;
        MemorySegment m = c.mem;
        long from = c.in(0).offset, to = c.out(0).offset, n = c.in(0).numel;
        if (from == to) return () -> { };
        return () -> Vec.copy(m, from, m, to, n);
    }
}
