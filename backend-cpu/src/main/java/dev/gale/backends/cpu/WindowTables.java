package dev.gale.backends.cpu;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Index tables that depend only on a convolution's window (and one size), built on first use and then shared by
 * every call and thread: the few-pixel convolution paths looked them up afresh on every call, about 220 small arrays
 * (51 KB) in each of ResNet-18's training steps. The tables are read-only once built. At most {@link #MAX_TABLES} are
 * kept; past that the cache starts over (a process that compiles many models of many shapes).
 */
final class WindowTables {
    private WindowTables() {}

    private enum Kind { TAP_OFFSETS, PAD_SLOTS, FOLD }

    private record Key(Kind kind, Window2d g, int extra) {}

    static final int MAX_TABLES = 1024;
    private static final ConcurrentHashMap<Key, Object> TABLES = new ConcurrentHashMap<>();

    /** {@link PanelSource.Images#buildTapOffsets}, shared. */
    static int[] tapOffsets(Window2d g) { return (int[]) table(new Key(Kind.TAP_OFFSETS, g, 0)); }

    /** {@link Conv2d#padSlotIndex} of the window's tap offsets, shared. */
    static int[] padSlots(Window2d g) { return (int[]) table(new Key(Kind.PAD_SLOTS, g, 0)); }

    /** {@link Conv2d#foldIndex} for column-gradient rows of {@code k} floats, shared. */
    static int[][] fold(Window2d g, int k) { return (int[][]) table(new Key(Kind.FOLD, g, k)); }

    private static Object table(Key key) {
        Object t = TABLES.get(key);
        if (t != null) return t;
        // built outside the map (a builder looks up another table), then published once
        t = switch (key.kind()) {
            case TAP_OFFSETS -> PanelSource.Images.buildTapOffsets(key.g());
            case PAD_SLOTS -> Conv2d.padSlotIndex(tapOffsets(key.g()), key.g().kernelSize(), key.g().outSize(),
                    key.g().inSize());
            case FOLD -> Conv2d.foldIndex(key.g(), key.extra());
        };
        if (TABLES.size() >= MAX_TABLES) TABLES.clear();
        Object before = TABLES.putIfAbsent(key, t);
        return before != null ? before : t;
    }
}
