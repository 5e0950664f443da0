package dev.gale.ir;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A graph with the opset versions it was written against and its provenance. Gale's op table holds one (the newest
 * supported) semantics per op; importers upgrade older forms, so {@code opsets} records where the model came from.
 */
public record Model(Graph graph, Map<String, Integer> opsets, String producer, Map<String, String> metadata) {
    public Model {
        opsets = Collections.unmodifiableMap(new TreeMap<>(opsets));
        metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
        if (producer == null) producer = "";
    }

    public static Model of(Graph g) {
        return new Model(g, Map.of("", OpsetInfo.MAX_DEFAULT_OPSET), "gale", Map.of());
    }

    public Model withGraph(Graph g) { return new Model(g, opsets, producer, metadata); }
}
