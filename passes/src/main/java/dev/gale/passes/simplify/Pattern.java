package dev.gale.passes.simplify;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The left-hand side of a {@link RewriteRule}: a tree over a node and its producers. Leaves bind values by name;
 * a name bound twice must bind the same value, so {@code add(sub(any("a"), any("b")), any("b"))} matches
 * {@code (a - b) + b} and nothing else.
 *
 * <pre>{@code
 * // Transpose(Transpose(x, p), q)
 * Pattern.op("Transpose", Pattern.op("Transpose", Pattern.any("x")).as("inner"))
 * }</pre>
 *
 * Patterns are plain data: matching (with backtracking over commutative operands) is done by {@link Matcher}.
 */
public sealed interface Pattern {
    /** Any value (never an omitted input); binds it to {@code name} when the name is not null. */
    record Any(String name) implements Pattern {}

    /** A value whose contents are known at compile time (an initializer or a {@code Constant} output). */
    record Const(String name) implements Pattern {}

    /** An omitted optional input ({@code Value.NONE}). */
    record None() implements Pattern {}

    /**
     * A value produced by a node: {@code op} (any op when null) in {@code domain}, output {@code output} of it, with
     * inputs matching {@code inputs} position by position (trailing omitted inputs ignored), or any inputs when
     * {@code inputs} is null. {@code swappable} lets a two-input node match its inputs in either order.
     */
    record Op(String domain, String op, List<Pattern> inputs, String name, int output, boolean swappable)
            implements Pattern {
        public Op {
            inputs = inputs == null ? null : List.copyOf(inputs);
        }

        /** Binds the matched node to {@code nodeName}. */
        public Op as(String nodeName) { return new Op(domain, op, inputs, nodeName, output, swappable); }

        /** Lets a two-input node match its inputs in either order. */
        public Op commutative() { return new Op(domain, op, inputs, name, output, true); }

        /** Matches the node's output {@code k} instead of its first output (only meaningful below the root). */
        public Op output(int k) { return new Op(domain, op, inputs, name, k, swappable); }

        public Op domain(String d) { return new Op(d, op, inputs, name, output, swappable); }

        /** Accepts the node whatever its inputs; conditions inspect them. */
        public Op anyInputs() { return new Op(domain, op, null, name, output, swappable); }
    }

    static Pattern any(String name) { return new Any(name); }

    static Pattern any() { return new Any(null); }

    static Pattern constant(String name) { return new Const(name); }

    static Pattern none() { return new None(); }

    /** A node of the default (ONNX) domain with exactly these inputs. */
    static Op op(String op, Pattern... inputs) {
        return new Op("", op, new ArrayList<>(Arrays.asList(inputs)), null, 0, false);
    }

    /** Any node of any op, whatever its inputs (for rules such as constant folding that decide by condition). */
    static Op anyNode() { return new Op(null, null, null, null, 0, false); }
}
