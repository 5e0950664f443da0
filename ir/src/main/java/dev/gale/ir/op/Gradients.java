package dev.gale.ir.op;

/**
 * Attaches the gradient rules, kept in companion files per op family ({@code ElementwiseGradients},
 * {@code NnGradients}, ...), to the op table entries. Each rule is a few lines, documented as forward / backward.
 */
final class Gradients {
    private Gradients() {}

    static void attach() {
        ElementwiseGradients.attach();
        ShapeGradients.attach();
        ReductionGradients.attach();
        NnGradients.attach();
    }

    /** Attaches {@code rule} to {@code op} of the default domain when the op table has it. */
    static void rule(String op, GradientRule rule) { rule("", op, rule); }

    static void rule(String domain, String op, GradientRule rule) {
        OpSchema s = OpTable.lookup(domain, op);
        if (s != null) s.gradient(rule);
    }
}
