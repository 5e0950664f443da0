package dev.gale.passes.pipeline;

/** What the driver measured for one pass: wall time and node counts before and after. */
public record PassReport(String name, double millis, int nodesBefore, int nodesAfter) {}
