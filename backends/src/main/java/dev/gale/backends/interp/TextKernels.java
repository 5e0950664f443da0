package dev.gale.backends.interp;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static dev.gale.backends.interp.Kernels.register;

/** Interpreter kernels: string and text-feature ops. */
final class TextKernels {
    private TextKernels() {}

    static void registerAll() {
        register("StringNormalizer", Kernel.single(TextKernels::stringNormalizer));
        register("TfIdfVectorizer", Kernel.single(TextKernels::tfIdf));
    }

    /**
     * Drops stopwords (compared case-insensitively unless is_case_sensitive=1), then changes case. Input [C] or
     * [1, C]; when every element is dropped the output is a single empty string ([1] or [1, 1]).
     */
    private static Tensor stringNormalizer(KernelCall c) {
        Tensor x = c.required(0);
        if (x.dtype() != DType.STRING) throw c.error("the input must be a string tensor, got " + x.dtype());
        if (x.rank() != 1 && !(x.rank() == 2 && x.dim(0) == 1))
            throw c.error("the input must be [C] or [1, C], has shape " + java.util.Arrays.toString(x.shape()));
        Locale locale = c.hasAttr("locale") ? Locale.forLanguageTag(c.attrString("locale").replace('_', '-')) : Locale.ROOT;
        boolean caseSensitive = c.attrInt("is_case_sensitive") != 0;
        Set<String> stop = new HashSet<>();
        List<String> words = c.attrStrings("stopwords");
        if (words != null) for (String w : words) stop.add(caseSensitive ? w : w.toLowerCase(locale));
        String action = c.attrString("case_change_action");
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < x.numel(); i++) {
            String s = x.getString(i);
            if (stop.contains(caseSensitive ? s : s.toLowerCase(locale))) continue;
            kept.add(switch (action) {
                case "LOWER" -> s.toLowerCase(locale);
                case "UPPER" -> s.toUpperCase(locale);
                case "NONE" -> s;
                default -> throw c.error("case_change_action must be NONE, LOWER or UPPER, got '" + action + "'");
            });
        }
        if (kept.isEmpty()) kept.add("");
        long n = kept.size();
        return Tensor.ofStrings(x.rank() == 1 ? new long[] {n} : new long[] {1, n}, kept.toArray(String[]::new));
    }

    /**
     * Counts the pool's n-grams in each row of the input (1-D: one row). An n-gram of length n at start s with skip
     * k takes positions s, s + (k+1), ..., s + (n-1)(k+1); every skip from 0 to max_skip_count is counted, except
     * that unigrams are counted once. Counts land at ngram_indexes[i] for the i-th pool n-gram; mode IDF turns
     * counts into 0/1, and IDF/TFIDF scale by weights (indexed like the output, as ONNX Runtime does).
     */
    private static Tensor tfIdf(KernelCall c) {
        Tensor x = c.required(0);
        if (x.rank() != 1 && x.rank() != 2) throw c.error("the input must be 1-D or 2-D, has rank " + x.rank());
        int minN = (int) c.attrInt("min_gram_length"), maxN = (int) c.attrInt("max_gram_length");
        int maxSkip = (int) c.attrInt("max_skip_count");
        String mode = c.attrString("mode");
        long[] counts = c.attrInts("ngram_counts"), indexes = c.attrInts("ngram_indexes");
        float[] weights = c.attrFloats("weights");
        List<Object> pool = new ArrayList<>();
        long[] ints = c.attrInts("pool_int64s");
        if (ints != null) for (long v : ints) pool.add(v);
        else if (c.attrStrings("pool_strings") != null) pool.addAll(c.attrStrings("pool_strings"));
        boolean strings = ints == null;
        if (strings != (x.dtype() == DType.STRING)) throw c.error("the input type " + x.dtype() + " does not match the pool");

        // Pool n-gram (as a list of items) -> its ordinal in the pool.
        Map<List<Object>, Integer> ordinal = new HashMap<>();
        int next = 0;
        for (int g = 0; g < counts.length; g++) {
            int n = g + 1;
            int start = (int) counts[g], end = g + 1 < counts.length ? (int) counts[g + 1] : pool.size();
            if (start < 0 || end > pool.size() || start > end || (end - start) % n != 0)
                throw c.error("ngram_counts " + java.util.Arrays.toString(counts) + " do not fit a pool of "
                        + pool.size() + " items");
            for (int p = start; p < end; p += n) ordinal.put(List.copyOf(pool.subList(p, p + n)), next++);
        }
        if (indexes.length != next)
            throw c.error("ngram_indexes has " + indexes.length + " entries but the pool has " + next + " n-grams");
        int width = 0;
        for (long i : indexes) width = (int) Math.max(width, i + 1);
        if (weights != null && weights.length < width)
            throw c.error("weights has " + weights.length + " entries, the output has " + width);

        int rows = x.rank() == 1 ? 1 : (int) x.dim(0);
        int len = (int) x.dim(x.rank() - 1);
        Tensor out = Tensor.zeros(DType.FLOAT32, x.rank() == 1 ? new long[] {width} : new long[] {rows, width});
        double[] freq = new double[width];
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(freq, 0);
            int base = r * len;
            for (int skip = 0; skip <= maxSkip; skip++) {
                int step = skip + 1;
                int fromN = skip > 0 ? Math.max(minN, 2) : minN;
                for (int s = 0; s < len; s++) {
                    List<Object> gram = new ArrayList<>();
                    for (int n = 1; n <= maxN && s + (n - 1) * step < len; n++) {
                        int at = base + s + (n - 1) * step;
                        gram.add(strings ? x.getString(at) : (Object) x.getLong(at));
                        if (n < fromN) continue;
                        Integer id = ordinal.get(gram);
                        if (id != null) freq[(int) indexes[id]]++;
                    }
                }
            }
            for (int i = 0; i < width; i++) {
                double v = switch (mode) {
                    case "TF" -> freq[i];
                    case "IDF" -> (freq[i] > 0 ? 1 : 0) * (weights == null ? 1 : weights[i]);
                    case "TFIDF" -> freq[i] * (weights == null ? 1 : weights[i]);
                    default -> throw c.error("mode must be TF, IDF or TFIDF, got '" + mode + "'");
                };
                out.setDouble(r * width + i, v);
            }
        }
        return out;
    }
}
