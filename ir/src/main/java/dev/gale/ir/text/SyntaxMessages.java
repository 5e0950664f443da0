package dev.gale.ir.text;

import java.util.Map;

/** Shortens ANTLR's syntax error messages: long "expecting {...}" sets say little, the offending token says more. */
final class SyntaxMessages {
    private SyntaxMessages() {}

    private static final Map<String, String> TOKENS = Map.of("VALUE_ID", "%value", "GLOBAL_ID", "@name",
            "STRING", "a string", "INT", "an integer", "FLOAT", "a float", "NONFINITE", "inf or nan", "HEX", "hex data",
            "ID", "a name", "<EOF>", "end of file");

    static String simplify(String msg) {
        msg = msg.replace("'<EOF>'", "end of file");
        if (msg.startsWith("token recognition error at: '") && msg.indexOf('"') >= 0)
            return "unterminated string (a string ends with \" on the same line)";
        int at = msg.indexOf(" expecting ");
        if (at < 0) return msg.startsWith("mismatched input ") ? "unexpected " + msg.substring(17) : msg;
        String head = msg.substring(0, at), expecting = msg.substring(at + " expecting ".length());
        if (expecting.chars().filter(c -> c == ',').count() >= 6)
            return head.startsWith("mismatched input ") ? "unexpected " + head.substring(17) : head;
        StringBuilder sb = new StringBuilder(head).append(", expecting ");
        String[] parts = expecting.replaceAll("^\\{|\\}$", "").split(", ");
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) sb.append(i == parts.length - 1 ? " or " : ", ");
            sb.append(TOKENS.getOrDefault(parts[i], parts[i]));
        }
        return sb.toString();
    }
}
