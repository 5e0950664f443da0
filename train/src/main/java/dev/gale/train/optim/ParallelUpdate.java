package dev.gale.train.optim;

import dev.gale.backends.Session;
import dev.gale.train.ParameterLayout;
import dev.gale.train.TrainingState;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs an optimizer's update over the trained parameters' slots on several threads: the slots' elements are cut
 * into contiguous pieces, several per thread ({@link #PIECES_PER_THREAD}; a slot may be split; {@link Optimizer#update}
 * works on any index range), so each piece streams its part of every buffer once. Small models run on the calling thread. The threads are the
 * training session's own ({@link Session#parallelFor}), which compute as its kernels do (the cpu backend's flush
 * subnormals to zero): with a pool of its own beside the kernels' (whose workers spin a while after each loop before
 * they sleep), three threads shared two cores, and the 784-256-10 MLP's training step at batch 32 took 0.43 ms instead
 * of 0.36. Results do not depend on the split (every element's arithmetic is the same).
 */
public final class ParallelUpdate {
    /** Below this many elements, one thread does it all. */
    static final long MIN_PARALLEL = 1 << 16;
    /**
     * Pieces per thread, each of at least {@link #MIN_PIECE} elements, handed out one at a time: a core that falls
     * behind takes fewer. With one piece per thread, each waited for the slower: on the AMD EPYC the 784-256-10 MLP's
     * training step at batch 32 went through phases of 1.05-1.10 ms (0.35 otherwise); in eight pieces a thread,
     * 0.61-0.73 in such phases and 0.31-0.32 otherwise (`TrainWorker`, blocks of 2,000 steps).
     */
    static final int PIECES_PER_THREAD = 8;
    static final long MIN_PIECE = 1 << 14;

    private final Session session;
    /** The pieces of the last parameter list and layout (the same every step), so a step does not cut them again. */
    private List<String> cutParams;
    private ParameterLayout cutLayout;
    private List<List<int[]>> cut;

    /** Updates on {@code session}'s threads. */
    public ParallelUpdate(Session session) { this.session = session; }

    /** Applies {@code optimizer}'s step to the slots of {@code params} (names of the layout). */
    public void update(Optimizer optimizer, TrainingState state, List<String> params, long step, double lr) {
        List<List<int[]>> shares = pieces(state.layout(), params);
        if (shares.size() == 1) {
            for (int[] r : shares.getFirst()) optimizer.update(state, r[0], r[1], step, lr);
            return;
        }
        // The first range runs alone first: an optimizer creates its moment buffers on its first update.
        List<int[]> first = shares.getFirst();
        session.parallelFor(1, t -> optimizer.update(state, first.getFirst()[0], first.getFirst()[1], step, lr));
        session.parallelFor(shares.size(), t -> {
            List<int[]> share = shares.get(t);
            for (int i = t == 0 ? 1 : 0; i < share.size(); i++)
                optimizer.update(state, share.get(i)[0], share.get(i)[1], step, lr);
        });
    }

    /** The slots' ranges cut for the session's threads: one share (all of them) when one thread should do it all. */
    private List<List<int[]>> pieces(ParameterLayout layout, List<String> params) {
        if (params == cutParams && layout == cutLayout) return cut;
        List<int[]> ranges = new ArrayList<>();
        long total = 0;
        for (String p : params) {
            ParameterLayout.Slot s = layout.slot(p);
            ranges.add(new int[] {s.offset(), s.offset() + s.numel()});
            total += s.numel();
        }
        int threads = session.parallelism();
        cut = threads <= 1 || total < MIN_PARALLEL ? List.of(ranges)
                : split(ranges, total, (int) Math.max(threads, Math.min((long) threads * PIECES_PER_THREAD, total / MIN_PIECE)));
        cutParams = params;
        cutLayout = layout;
        return cut;
    }

    /** Cuts the ranges into {@code n} shares of nearly equal element counts, on 16-element boundaries. */
    static List<List<int[]>> split(List<int[]> ranges, long total, int n) {
        List<List<int[]>> shares = new ArrayList<>();
        long per = (total + n - 1) / n;
        List<int[]> cur = new ArrayList<>();
        long filled = 0;
        for (int[] r : ranges) {
            int at = r[0];
            while (at < r[1]) {
                long room = per - filled;
                int end = (int) Math.min(r[1], at + room);
                if (end < r[1]) end = Math.max(at + 1, end - (end - r[0]) % 16);
                cur.add(new int[] {at, end});
                filled += end - at;
                at = end;
                if (filled >= per && shares.size() < n - 1) {
                    shares.add(cur);
                    cur = new ArrayList<>();
                    filled = 0;
                }
            }
        }
        if (!cur.isEmpty() || shares.isEmpty()) shares.add(cur);
        return shares;
    }
}
