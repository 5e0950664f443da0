package dev.gale.train.optim;

import dev.gale.train.ParameterLayout;
import dev.gale.train.TrainingState;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs an optimizer's update over the trained parameters' slots on several threads: the slots' elements are cut
 * into one contiguous share per thread (a slot may be split; {@link Optimizer#update} works on any index range), so
 * each thread streams its part of every buffer once. Small models run on the calling thread. The threads are
 * daemons, made once per instance; results do not depend on the split (every element's arithmetic is the same).
 */
public final class ParallelUpdate implements AutoCloseable {
    /** Below this many elements, one thread does it all. */
    static final long MIN_PARALLEL = 1 << 16;

    private final int threads;
    private ExecutorService pool;

    /** {@code threads} from {@code -Dgale.threads}, else the available processors. */
    public ParallelUpdate() { this(Integer.getInteger("gale.threads", Runtime.getRuntime().availableProcessors())); }

    public ParallelUpdate(int threads) { this.threads = Math.max(1, threads); }

    /** Applies {@code optimizer}'s step to the slots of {@code params} (names of the layout). */
    public void update(Optimizer optimizer, TrainingState state, List<String> params, long step, double lr) {
        ParameterLayout layout = state.layout();
        List<int[]> ranges = new ArrayList<>();
        long total = 0;
        for (String p : params) {
            ParameterLayout.Slot s = layout.slot(p);
            ranges.add(new int[] {s.offset(), s.offset() + s.numel()});
            total += s.numel();
        }
        if (threads == 1 || total < MIN_PARALLEL) {
            for (int[] r : ranges) optimizer.update(state, r[0], r[1], step, lr);
            return;
        }
        List<List<int[]>> shares = split(ranges, total, threads);
        if (pool == null) pool = Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "gale-optimizer");
            t.setDaemon(true);
            return t;
        });
        // The first range runs alone first: an optimizer creates its moment buffers on its first update.
        List<int[]> mine = shares.getFirst();
        optimizer.update(state, mine.getFirst()[0], mine.getFirst()[1], step, lr);
        List<Future<?>> pending = new ArrayList<>();
        for (int t = 1; t < shares.size(); t++) {
            List<int[]> share = shares.get(t);
            pending.add(pool.submit(() -> {
                for (int i = 0; i < share.size(); i++) optimizer.update(state, share.get(i)[0], share.get(i)[1], step, lr);
            }));
        }
        for (int i = 1; i < mine.size(); i++) optimizer.update(state, mine.get(i)[0], mine.get(i)[1], step, lr);
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during the optimizer step", e);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) throw re;
                throw new IllegalStateException(e.getCause());
            }
        }
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

    @Override
    public void close() {
        if (pool != null) pool.shutdown();
    }
}
