package dev.gale.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The line {@code gale run} and {@code gale train} print when some nodes ran on the interpreter's kernels instead of
 * the backend's own: results are the same, speed is not (one thread, float64), and a user comparing Gale with a peer
 * should know which op is the slow one.
 */
final class FallbackNote {
    private FallbackNote() {}

    /** Prints the note to {@code out} when {@code fallbacks} (nodes by op) is not empty. */
    static void print(PrintWriter out, String backend, Map<String, Integer> fallbacks) {
        if (fallbacks.isEmpty()) return;
        int nodes = fallbacks.values().stream().mapToInt(Integer::intValue).sum();
        StringJoiner ops = new StringJoiner(", ");
        fallbacks.forEach((op, n) -> ops.add(n == 1 ? op : op + " x" + n));
        out.println("note: " + nodes + (nodes == 1 ? " node" : " nodes") + " ran on the interpreter's kernels, not "
                + "the " + backend + " backend's own (same results, much slower): " + ops
                + "; JAVA_OPTS=-Dgale.cpu.verbose=true names each with its operands");
    }
}
