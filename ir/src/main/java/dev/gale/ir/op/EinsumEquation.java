package dev.gale.ir.op;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A parsed Einsum equation bound to the ranks of its operands, shared by type inference and the interpreter.
 *
 * <p>Every axis of every operand gets an integer label: letters {@code a-z} are 0-25, {@code A-Z} 26-51, and the axes
 * an ellipsis stands for are {@code 52 + j}, right-aligned across operands so that they broadcast like numpy batch
 * dimensions. Without {@code ->} the output is the ellipsis axes followed by the letters that occur exactly once, in
 * ASCII order (numpy's implicit mode). Labels missing from the output are summed over.
 *
 * @param inputs     the labels of each operand's axes
 * @param output     the labels of the output's axes
 * @param numLabels  one past the largest label used
 */
public record EinsumEquation(int[][] inputs, int[] output, int numLabels) {
    /** First label of the ellipsis axes. */
    public static final int ELLIPSIS = 52;

    /** True for labels that stand for ellipsis (broadcast) axes. */
    public static boolean isEllipsis(int label) { return label >= ELLIPSIS; }

    public static EinsumEquation parse(String equation, int[] ranks, Function<String, ? extends RuntimeException> error) {
        String eq = equation.replace(" ", "");
        int arrow = eq.indexOf("->");
        String lhs = arrow < 0 ? eq : eq.substring(0, arrow);
        String rhs = arrow < 0 ? null : eq.substring(arrow + 2);
        String[] terms = lhs.split(",", -1);
        if (terms.length != ranks.length)
            throw error.apply("equation '" + equation + "' has " + terms.length + " operand terms but the node has "
                    + ranks.length + " inputs");
        List<List<Integer>> letters = new ArrayList<>();
        int[] ellipsisAt = new int[terms.length];
        int ellipsisRank = 0;
        for (int t = 0; t < terms.length; t++) {
            List<Integer> ls = new ArrayList<>();
            ellipsisAt[t] = parseTerm(terms[t], ls, equation, error);
            letters.add(ls);
            int covered = ranks[t] - ls.size();
            if (ellipsisAt[t] < 0 ? covered != 0 : covered < 0)
                throw error.apply("term '" + terms[t] + "' of equation '" + equation + "' does not fit input " + t
                        + " of rank " + ranks[t]);
            if (ellipsisAt[t] >= 0) ellipsisRank = Math.max(ellipsisRank, covered);
        }
        int[][] inputs = new int[terms.length][];
        int[] count = new int[ELLIPSIS];
        boolean anyEllipsis = false;
        for (int t = 0; t < terms.length; t++) {
            List<Integer> ls = letters.get(t);
            int[] labels = new int[ranks[t]];
            int covered = ranks[t] - ls.size(), k = 0;
            for (int j = 0; j <= ls.size(); j++) {
                if (j == ellipsisAt[t]) {
                    anyEllipsis = true;
                    for (int e = 0; e < covered; e++) labels[k++] = ELLIPSIS + ellipsisRank - covered + e;
                }
                if (j < ls.size()) {
                    labels[k++] = ls.get(j);
                    count[ls.get(j)]++;
                }
            }
            inputs[t] = labels;
        }
        List<Integer> out = new ArrayList<>();
        if (rhs == null) {
            if (anyEllipsis) for (int e = 0; e < ellipsisRank; e++) out.add(ELLIPSIS + e);
            for (char ch = 'A'; ch <= 'z'; ch++) {
                int l = label(ch);
                if (l >= 0 && count[l] == 1) out.add(l);
            }
        } else {
            List<Integer> ls = new ArrayList<>();
            int at = parseTerm(rhs, ls, equation, error);
            for (int j = 0; j <= ls.size(); j++) {
                if (j == at) for (int e = 0; e < ellipsisRank; e++) out.add(ELLIPSIS + e);
                if (j < ls.size()) {
                    int l = ls.get(j);
                    if (count[l] == 0)
                        throw error.apply("output label '" + name(l) + "' of equation '" + equation
                                + "' does not occur in any input");
                    if (out.contains(l))
                        throw error.apply("output label '" + name(l) + "' occurs twice in equation '" + equation + "'");
                    out.add(l);
                }
            }
        }
        int[] output = out.stream().mapToInt(Integer::intValue).toArray();
        return new EinsumEquation(inputs, output, ELLIPSIS + ellipsisRank);
    }

    /** Reads a term's letters into {@code labels}; returns the letter position of its ellipsis or -1. */
    private static int parseTerm(String term, List<Integer> labels, String equation,
                                 Function<String, ? extends RuntimeException> error) {
        int ellipsis = -1;
        for (int i = 0; i < term.length(); i++) {
            char ch = term.charAt(i);
            if (ch == '.') {
                if (ellipsis >= 0 || !term.startsWith("...", i))
                    throw error.apply("equation '" + equation + "' has a malformed ellipsis in term '" + term + "'");
                ellipsis = labels.size();
                i += 2;
                continue;
            }
            int l = label(ch);
            if (l < 0) throw error.apply("equation '" + equation + "' has an invalid character '" + ch + "'");
            labels.add(l);
        }
        return ellipsis;
    }

    private static int label(char ch) {
        if (ch >= 'a' && ch <= 'z') return ch - 'a';
        if (ch >= 'A' && ch <= 'Z') return 26 + ch - 'A';
        return -1;
    }

    private static String name(int l) { return l < 26 ? "" + (char) ('a' + l) : "" + (char) ('A' + l - 26); }
}
