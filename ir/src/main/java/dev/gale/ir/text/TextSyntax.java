package dev.gale.ir.text;

import java.util.regex.Pattern;

/**
 * The lexical rules printer and parser share: when a name may be written bare, how strings are escaped and how
 * numbers are spelled so that they read back to the same bits.
 */
final class TextSyntax {
    private TextSyntax() {}

    private static final Pattern VALUE_BARE = Pattern.compile("[A-Za-z0-9_.$/\\-]+");
    private static final Pattern NAME_BARE = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");

    /** {@code %name}, or {@code %"name"} when the name has other characters. */
    static String value(String name) { return "%" + (VALUE_BARE.matcher(name).matches() ? name : quote(name)); }

    /** {@code @name} for graph and node names. */
    static String global(String name) { return "@" + (VALUE_BARE.matcher(name).matches() ? name : quote(name)); }

    /** An op, attribute or dimension name: bare when it lexes as one identifier, quoted otherwise. */
    static String name(String name) { return NAME_BARE.matcher(name).matches() ? name : quote(name); }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validPair(s, i))
                        sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** Reverses {@link #quote}; {@code token} includes the quotes (and may start with {@code %} or {@code @}). */
    static String unquote(String token) {
        int start = token.indexOf('"');
        StringBuilder sb = new StringBuilder(token.length());
        for (int i = start + 1; i < token.length() - 1; i++) {
            char c = token.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = token.charAt(++i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(token.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> sb.append(e);
            }
        }
        return sb.toString();
    }

    /** The name a {@code %x}, {@code @x}, {@code %"x"} or {@code "x"} token spells. */
    static String identifier(String token) {
        if (token.endsWith("\"")) return unquote(token);
        return token.charAt(0) == '%' || token.charAt(0) == '@' ? token.substring(1) : token;
    }

    /** Shortest decimal that reads back to the same float ({@code inf}, {@code -inf}, {@code nan} when not finite). */
    static String f32(float v) {
        if (Float.isNaN(v)) return "nan";
        if (Float.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return Float.toString(v);
    }

    static String f64(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return Double.toString(v);
    }

    static float parseF32(String s) {
        return switch (s) {
            case "nan", "-nan" -> Float.NaN;
            case "inf" -> Float.POSITIVE_INFINITY;
            case "-inf" -> Float.NEGATIVE_INFINITY;
            default -> Float.parseFloat(s);
        };
    }

    static double parseF64(String s) {
        return switch (s) {
            case "nan", "-nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }
}
