package dev.gale.cli.conformance;

import java.util.List;

/** The result of one conformance test folder. */
public record TestOutcome(String suite, String name, Status status, String message, List<String> ops) {
    public enum Status { PASS, FAIL, UNSUPPORTED }
}
