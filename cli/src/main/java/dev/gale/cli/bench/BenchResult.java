package dev.gale.cli.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One comparison: {@code kind} is forward (latency against ONNX Runtime), train (training-step time against
 * PyTorch) or memory (peak resident memory of the training process against PyTorch's). Times are in seconds,
 * memory in MiB; {@code ratio} is Gale over the peer, from paired runs. The ratio of the two fastest runs is given
 * too: on a loaded machine the fastest run is the one least disturbed, so that ratio is the steadier estimate of
 * what each side costs when it has the cores to itself. A comparison that could not be made has an {@code error}
 * and no statistics.
 */
record BenchResult(String kind, String model, int batch, String peer, Stats gale, Stats peerStats, Stats ratio,
                   Map<String, Object> details, String error) {
    static BenchResult failed(String kind, String model, int batch, String peer, String error) {
        return new BenchResult(kind, model, batch, peer, null, null, null, Map.of(), error);
    }

    /** The details' key for why the peer did not run in its best setup (then the line says so). */
    static final String PEER_WARNING = "peer_warning";

    /**
     * The details' key for the most heap bytes per run Gale's worker allocated in one timed block: a few KB to about
     * 100 KB when its vector code runs compiled as meant, far more while some of it still runs in the interpreter or
     * C1 (the Vector API's fallbacks allocate every vector) or where C2 left it boxed (then the line says so).
     */
    static final String GALE_ALLOC = "gale_alloc_bytes_per_run";

    /**
     * Per run, more than this is vector code running boxed rather than a step's own objects: on 2026-11-29 the bench
     * models' forward runs and training steps allocated 0.3 to 8 KB, ResNet-18's training step 105 KB after 1,200
     * steps (847 KiB in a bench run's timed block); a boxed kernel allocates tens of KB a call.
     */
    static final long BOXED_BYTES = 256 * 1024;

    boolean isMemory() { return kind.equals("memory"); }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("model", model);
        m.put("batch", batch);
        m.put("peer", peer);
        if (error != null) {
            m.put("error", error);
            return m;
        }
        m.put("unit", isMemory() ? "MiB" : "ms");
        double k = isMemory() ? 1 : 1e3;
        m.put("gale", gale.scaled(k).toJson());
        m.put("peer_stats", peerStats.scaled(k).toJson());
        m.put("ratio", ratio.toJson());
        if (!isMemory()) m.put("ratio_of_minimums", gale.min() / peerStats.min());
        if (!details.isEmpty()) m.put("details", details);
        return m;
    }

    /** One line: medians, the spread of each side, and the ratio with its spread. */
    String line() {
        String head = String.format(Locale.ROOT, "%-7s %-12s b%-3d", kind, model, batch);
        if (error != null) return head + " " + peer + ": not measured: " + error;
        String untuned = details.containsKey(PEER_WARNING) ? "  (" + peer + " not in its best setup: see the warning)" : "";
        if (isMemory())
            return String.format(Locale.ROOT, "%s gale peak %s MiB  %s peak %s MiB  ratio %s", head, num(gale.median()), peer,
                    num(peerStats.median()), ratio(ratio.median())) + untuned;
        return String.format(Locale.ROOT,
                "%s gale %s ms (%s-%s)  %s %s ms (%s-%s)  ratio %s  IQR %s-%s  min %s  max %s  fastest/fastest %s  n=%d",
                head, num(gale.median() * 1e3), num(gale.min() * 1e3), num(gale.max() * 1e3), peer,
                num(peerStats.median() * 1e3), num(peerStats.min() * 1e3), num(peerStats.max() * 1e3),
                ratio(ratio.median()), ratio(ratio.q1()), ratio(ratio.q3()), ratio(ratio.min()), ratio(ratio.max()),
                ratio(gale.min() / peerStats.min()), ratio.n()) + boxed() + untuned;
    }

    /**
     * A note when Gale's worker allocated like a boxed kernel in some timed block, else nothing (nothing either for a
     * forward run that copies its outputs out, which allocates their size every run).
     */
    private String boxed() {
        if (!(details.get(GALE_ALLOC) instanceof Long b) || b <= BOXED_BYTES || "copied".equals(details.get("gale_io")))
            return "";
        return String.format(Locale.ROOT, "  (gale allocated %s KiB a run in a timed block: vector code still "
                + "uncompiled or left boxed by the JIT, which slows it)", num(b / 1024.0));
    }

    /** Three significant digits or more, without an exponent. */
    static String num(double v) {
        double a = Math.abs(v);
        if (a >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 10) return String.format(Locale.ROOT, "%.1f", v);
        if (a >= 1) return String.format(Locale.ROOT, "%.2f", v);
        return String.format(Locale.ROOT, a >= 0.1 ? "%.3f" : "%.4f", v);
    }

    static String ratio(double r) { return num(r) + "x"; }
}
