package dev.gale.train;

import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Picks the rows of each step's batch from arrays that share their first dimension. Without shuffling, step s holds
 * rows {@code (s*B + i) mod n}; with shuffling, position {@code p = s*B + i} reads row {@code perm_e[p mod n]} where
 * {@code perm_e} is a permutation drawn from (seed, epoch e = p / n). Either way the batch of a step is a pure
 * function of the step, so a resumed run sees exactly the data the uninterrupted one did.
 */
public final class BatchSampler {
    private final Map<String, Tensor> arrays;
    private final int rows, batch;
    private final boolean shuffle;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] cachedPerm;

    public BatchSampler(Map<String, Tensor> arrays, int batch, boolean shuffle, long seed) {
        if (batch <= 0) throw new GaleException("--batch-size must be positive, got " + batch);
        int n = -1;
        for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
            Tensor t = e.getValue();
            if (t.rank() == 0) throw new GaleException("array '" + e.getKey() + "' is a scalar; it needs a row dimension");
            if (n >= 0 && t.dim(0) != n)
                throw new GaleException("array '" + e.getKey() + "' has " + t.dim(0) + " rows, the others have " + n);
            n = (int) t.dim(0);
        }
        if (n <= 0) throw new GaleException("the data has no rows");
        this.arrays = arrays;
        this.rows = n;
        this.batch = batch;
        this.shuffle = shuffle;
        this.seed = seed;
    }

    public int rows() { return rows; }

    /** Row indices of the batch of 0-based step {@code s}. */
    public int[] indices(long s) {
        int[] idx = new int[batch];
        for (int i = 0; i < batch; i++) {
            long p = s * batch + i;
            int within = (int) (p % rows);
            idx[i] = shuffle ? permutation((int) (p / rows))[within] : within;
        }
        return idx;
    }

    private int[] permutation(int epoch) {
        if (epoch != cachedEpoch) {
            int[] perm = new int[rows];
            for (int i = 0; i < rows; i++) perm[i] = i;
            Random r = new Random(seed * 1_000_003L + epoch);
            for (int i = rows - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            cachedPerm = perm;
            cachedEpoch = epoch;
        }
        return cachedPerm;
    }

    /** The batch of 0-based step {@code s}: each array's selected rows. */
    public Map<String, Tensor> batch(long s) {
        int[] idx = indices(s);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : arrays.entrySet()) out.put(e.getKey(), rows(e.getValue(), idx));
        return out;
    }

    /**
     * The batch of 0-based step {@code s} written into the tensors of {@code into} (by array name), which are made
     * on the first call and reused after: a training loop samples with no allocation proportional to the batch.
     */
    public Map<String, Tensor> batchInto(long s, Map<String, Tensor> into) {
        int[] idx = indices(s);
        for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
            Tensor t = e.getValue();
            Tensor out = into.get(e.getKey());
            if (out == null || out.dtype() != t.dtype() || out.dim(0) != idx.length) {
                long[] shape = t.shape();
                shape[0] = idx.length;
                out = Tensor.zeros(t.dtype(), shape);
                into.put(e.getKey(), out);
            }
            int rowSize = t.numel() / (int) t.dim(0);
            Object src = t.data(), dst = out.data();
            for (int i = 0; i < idx.length; i++) System.arraycopy(src, idx[i] * rowSize, dst, i * rowSize, rowSize);
        }
        return into;
    }

    /** Rows {@code idx} of {@code t} stacked in order. */
    public static Tensor rows(Tensor t, int[] idx) {
        long[] shape = t.shape();
        int rowSize = t.numel() / (int) shape[0];
        shape[0] = idx.length;
        Tensor out = Tensor.zeros(t.dtype(), shape);
        Object src = t.data(), dst = out.data();
        for (int i = 0; i < idx.length; i++) System.arraycopy(src, idx[i] * rowSize, dst, i * rowSize, rowSize);
        return out;
    }

    @Override
    public String toString() { return "BatchSampler" + Arrays.toString(new int[] {rows, batch}); }
}
