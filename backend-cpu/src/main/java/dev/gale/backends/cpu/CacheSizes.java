package dev.gale.backends.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The cache sizes of the machine the kernels run on, for block sizes that depend on them: the L2 of one core, read
 * once from Linux's {@code /sys/devices/system/cpu/cpu0/cache}, or from the system property {@code gale.cpu.l2}
 * (bytes, or with a K or M suffix) where sysfs is missing or tuning wants another value. Where neither says, 1 MiB.
 */
final class CacheSizes {
    /** Assumed when the machine does not say: the smallest per-core L2 of the AVX-512 machines Gale was tuned on. */
    static final long DEFAULT_L2_BYTES = 1L << 20;

    /** One core's L2, in bytes. */
    static final long L2_BYTES = l2Bytes();

    private CacheSizes() {}

    private static long l2Bytes() {
        String told = System.getProperty("gale.cpu.l2");
        if (told != null) {
            long v = parse(told);
            if (v <= 0) throw new IllegalArgumentException("gale.cpu.l2 must be a size in bytes, e.g. 2M, not '" + told + "'");
            return v;
        }
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        for (int i = 0; i < 8; i++) {
            Path index = dir.resolve("index" + i);
            try {
                if (!Files.isDirectory(index)) break;
                String level = Files.readString(index.resolve("level")).strip();
                String type = Files.readString(index.resolve("type")).strip();
                if (level.equals("2") && !type.equals("Instruction")) {
                    long v = parse(Files.readString(index.resolve("size")).strip());
                    if (v > 0) return v;
                }
            } catch (IOException | RuntimeException e) {
                return DEFAULT_L2_BYTES;
            }
        }
        return DEFAULT_L2_BYTES;
    }

    /** "2048K", "2M", "1048576"; -1 when it is none of those. */
    static long parse(String s) {
        String t = s.strip().toUpperCase(java.util.Locale.ROOT);
        long unit = 1;
        if (t.endsWith("K")) unit = 1L << 10;
        else if (t.endsWith("M")) unit = 1L << 20;
        if (unit != 1) t = t.substring(0, t.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            return -1;
        }
    }
}
