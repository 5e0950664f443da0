package dev.gale.cli.conformance;

import dev.gale.cli.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Counts and failures grouped by op, printable as a summary or as the JSON report. */
public record ConformanceReport(List<TestOutcome> tests) {
    public long count(TestOutcome.Status s) { return tests.stream().filter(t -> t.status() == s).count(); }

    public long passed() { return count(TestOutcome.Status.PASS); }

    public long failed() { return count(TestOutcome.Status.FAIL); }

    public long unsupported() { return count(TestOutcome.Status.UNSUPPORTED); }

    /** Failing and unsupported tests under each op their model uses (Constant and Identity left out). */
    public Map<String, List<String>> failuresByOp() {
        Map<String, List<String>> m = new TreeMap<>();
        for (TestOutcome t : tests) {
            if (t.status() == TestOutcome.Status.PASS) continue;
            List<String> ops = t.ops().stream().filter(o -> !o.equals("Constant") && !o.equals("Identity")).toList();
            if (ops.isEmpty()) ops = List.of("(import)");
            for (String op : ops) m.computeIfAbsent(op, k -> new ArrayList<>()).add(t.name());
        }
        return m;
    }

    public String summary() {
        long total = tests.size();
        return String.format("%d passed, %d failed, %d unsupported, %d total (%.1f%% passed)", passed(), failed(),
                unsupported(), total, total == 0 ? 0.0 : 100.0 * passed() / total);
    }

    public String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("passed", passed());
        root.put("failed", failed());
        root.put("unsupported", unsupported());
        root.put("total", (long) tests.size());
        Map<String, Object> bySuite = new TreeMap<>();
        for (TestOutcome t : tests) {
            @SuppressWarnings("unchecked")
            Map<String, Object> s = (Map<String, Object>) bySuite.computeIfAbsent(t.suite(), k -> new LinkedHashMap<>(
                    Map.of("passed", 0L, "failed", 0L, "unsupported", 0L, "total", 0L)));
            String key = switch (t.status()) {
                case PASS -> "passed";
                case FAIL -> "failed";
                case UNSUPPORTED -> "unsupported";
            };
            s.put(key, (Long) s.get(key) + 1);
            s.put("total", (Long) s.get("total") + 1);
        }
        root.put("suites", bySuite);
        root.put("failures_by_op", failuresByOp());
        List<Object> list = new ArrayList<>();
        for (TestOutcome t : tests) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("suite", t.suite());
            e.put("status", t.status().name().toLowerCase(java.util.Locale.ROOT));
            e.put("message", t.message());
            e.put("ops", t.ops());
            list.add(e);
        }
        root.put("tests", list);
        return Json.write(root);
    }
}
