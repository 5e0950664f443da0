package dev.gale.codegen.lower;

/** Thrown inside the lowering when a body holds something the kernel IR cannot express; the message says what. */
final class NotLowerable extends RuntimeException {
    NotLowerable(String message) { super(message, null, false, false); }
}
