package dev.gale.codegen.lower;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Names of kernel arguments in generated code: the IR's value and symbol names made into identifiers that are valid
 * and distinct in Java, C, OpenCL and CUDA, and that cannot meet the names renderers make up themselves (temporaries
 * {@code t0}, loop variables {@code i0}/{@code r0}, accumulators {@code acc0}, ...).
 */
final class Names {
    private static final Pattern GENERATED = Pattern.compile("(t|i|r|acc)[0-9]+|gid|lo|hi|end|F|D");
    private static final Set<String> KEYWORDS = Set.of("abstract", "auto", "boolean", "bool", "break", "byte", "case",
            "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extern",
            "final", "float", "for", "goto", "half", "if", "int", "long", "native", "new", "private", "public",
            "register", "return", "short", "signed", "sizeof", "static", "struct", "switch", "this", "throw",
            "typedef", "union", "unsigned", "var", "void", "volatile", "while", "kernel", "global", "local",
            "constant", "uchar", "uint", "ulong", "true", "false", "null", "restrict");

    private final Set<String> used = new HashSet<>();

    /** A valid identifier close to {@code name}: other characters become '_', a leading digit gets a prefix. */
    static String identifier(String name) {
        StringBuilder sb = new StringBuilder();
        for (char ch : name.toCharArray()) sb.append(ch < 128 && Character.isLetterOrDigit(ch) || ch == '_' ? ch : '_');
        String s = sb.toString();
        if (s.isEmpty() || Character.isDigit(s.charAt(0))) s = "v_" + s;
        return s;
    }

    /** A fresh identifier for {@code name}, distinct from every name claimed before. */
    String claim(String name) {
        String base = identifier(name);
        if (GENERATED.matcher(base).matches() || KEYWORDS.contains(base) || base.startsWith("__")) base = "v_" + base;
        String s = base;
        for (int k = 1; !used.add(s); k++) s = base + "_" + k;
        return s;
    }
}
