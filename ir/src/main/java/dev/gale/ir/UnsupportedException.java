package dev.gale.ir;

/**
 * A valid model uses something Gale does not implement (yet): an op outside the op table, an op without a kernel on
 * the chosen backend. Reported as "unsupported", distinct from wrong results or malformed input.
 */
public class UnsupportedException extends GaleException {
    public UnsupportedException(String message) {
        super(message);
    }
}
