package dev.gale.passes.pipeline;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a pass may read besides the graph (options such as the memory budget) and where it records what it did
 * (counters such as {@code fold.folded}, shown in the report). One context per pipeline run.
 */
public final class PassContext {
    private final Map<String, String> options;
    private final Map<String, Long> counters = new TreeMap<>();
    private final Map<String, Object> results = new TreeMap<>();

    public PassContext(Map<String, String> options) { this.options = Map.copyOf(options); }

    public static PassContext defaults() { return new PassContext(Map.of()); }

    public String option(String key, String fallback) { return options.getOrDefault(key, fallback); }

    public long longOption(String key, long fallback) {
        String v = options.get(key);
        return v == null ? fallback : Long.parseLong(v);
    }

    public void count(String counter, long delta) { counters.merge(counter, delta, Long::sum); }

    public Map<String, Long> counters() { return counters; }

    /** Stores an artifact a later pass or the driver needs (the memory plan, say). */
    public void put(String key, Object value) { results.put(key, value); }

    @SuppressWarnings("unchecked")
    public <T> T get(String key) { return (T) results.get(key); }
}
