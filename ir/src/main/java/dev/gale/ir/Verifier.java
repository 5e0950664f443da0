package dev.gale.ir;

import dev.gale.ir.op.AttrSpec;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Checks a graph's structure against the op table: every op is known, arities and attributes fit its schema, every
 * value is defined once and before use (nested graphs may read the enclosing scopes), and every graph output is
 * defined. Each problem is reported with the node, the op and what is wrong.
 */
public final class Verifier {
    private Verifier() {}

    /** Throws a {@link GaleException} listing the first problems found, if any. */
    public static void verify(Graph g) {
        List<String> problems = check(g);
        if (problems.isEmpty()) return;
        String shown = String.join("; ", problems.subList(0, Math.min(5, problems.size())));
        throw new GaleException("invalid graph '" + g.name() + "': " + shown
                + (problems.size() > 5 ? " (and " + (problems.size() - 5) + " more)" : ""));
    }

    public static List<String> check(Graph g) {
        List<String> problems = new ArrayList<>();
        check(g, name -> false, problems);
        return problems;
    }

    /**
     * {@code outer} answers whether an enclosing scope defines a name so far; a nested graph asks its parent's
     * scope rather than copying it (a partitioned graph has hundreds of kernel bodies).
     */
    private static void check(Graph g, Predicate<String> outer, List<String> problems) {
        Set<String> local = new HashSet<>();
        Predicate<String> defined = name -> local.contains(name) || outer.test(name);
        for (Value v : g.inputs()) define(v.name(), "graph input", local, problems, g);
        for (String name : g.initializers().keySet())
            if (!local.contains(name)) define(name, "initializer", local, problems, g);
        for (Node n : g.nodes()) {
            OpSchema s = OpTable.lookup(n.domain(), n.op());
            if (s == null) {
                problems.add(n.describe() + ": unsupported op");
            } else {
                checkArity(n, s, problems);
                checkAttrs(n, s, problems);
            }
            for (Value v : n.inputs())
                if (!v.isNone() && !defined.test(v.name()))
                    problems.add(n.describe() + ": input '" + v.name() + "' is not defined before use");
            for (Attr a : n.attrs().values()) {
                if (a instanceof Attr.GraphAttr ga) check(ga.value(), defined, problems);
                if (a instanceof Attr.GraphsAttr gs) for (Graph sub : gs.values()) check(sub, defined, problems);
            }
            for (Value v : n.outputs())
                if (!v.isNone()) define(v.name(), n.describe() + " output", local, problems, g);
        }
        for (Value v : g.outputs())
            if (!defined.test(v.name()))
                problems.add("graph '" + g.name() + "': output '" + v.name() + "' is never defined");
    }

    private static void define(String name, String what, Set<String> local, List<String> problems, Graph g) {
        if (name.isEmpty()) {
            problems.add("graph '" + g.name() + "': " + what + " has an empty name");
            local.add(name);
        } else if (!local.add(name)) {
            problems.add("graph '" + g.name() + "': value '" + name + "' is defined twice (" + what + ")");
        }
    }

    private static void checkArity(Node n, OpSchema s, List<String> problems) {
        int ni = n.inputs().size(), no = n.outputs().size();
        if (ni < s.minInputs() || ni > s.maxInputs())
            problems.add(n.describe() + ": has " + ni + " inputs, expected " + range(s.minInputs(), s.maxInputs()));
        if (no < s.minOutputs() || no > s.maxOutputs())
            problems.add(n.describe() + ": has " + no + " outputs, expected " + range(s.minOutputs(), s.maxOutputs()));
        for (int i = 0; i < Math.min(ni, s.minInputs()); i++)
            if (n.inputs().get(i).isNone() && !isOptionalInputAllowed(s))
                problems.add(n.describe() + ": required input " + i + " is missing");
    }

    private static boolean isOptionalInputAllowed(OpSchema s) {
        // Loop's first two inputs (trip count, condition) are required positions that may be left empty.
        return s.name().equals("Loop");
    }

    private static String range(int min, int max) {
        if (min == max) return Integer.toString(min);
        return max == OpSchema.VARIADIC ? "at least " + min : min + " to " + max;
    }

    private static void checkAttrs(Node n, OpSchema s, List<String> problems) {
        for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
            AttrSpec spec = s.attr(e.getKey());
            if (spec == null) {
                problems.add(n.describe() + ": unknown attribute '" + e.getKey() + "'");
            } else if (spec.kind() != e.getValue().kind()
                    && !(spec.kind() == Attr.Kind.INTS && e.getValue().kind() == Attr.Kind.INT)) {
                problems.add(n.describe() + ": attribute '" + e.getKey() + "' is " + e.getValue().kind()
                        + ", expected " + spec.kind());
            }
        }
        for (AttrSpec spec : s.attrs().values())
            if (spec.required() && n.attr(spec.name()) == null)
                problems.add(n.describe() + ": missing required attribute '" + spec.name() + "'");
    }
}
