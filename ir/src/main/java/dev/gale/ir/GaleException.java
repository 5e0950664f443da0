package dev.gale.ir;

/**
 * An error that a user can act on: a malformed model, an unsupported op, a missing file. Its message names what, where
 * and what to do; the CLI prints it on one line without a stack trace and exits non-zero.
 */
public class GaleException extends RuntimeException {
    public GaleException(String message) {
        super(message);
    }

    public GaleException(String message, Throwable cause) {
        super(message, cause);
    }
}
