package dev.gale.ir.text;

import dev.gale.ir.GaleException;
import dev.gale.ir.UnsupportedException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Malformed text is reported as {@code file:line:col: message}, pointing at the offending token. */
class TextParserErrorTest {
    static final String HEAD = "graph @g(%x: tensor<[2],f32>) -> (%y: tensor<[2],f32>) {\n";

    static String error(String text) {
        GaleException e = assertThrows(GaleException.class, () -> TextParser.parse(text, "bad.gir"));
        return e.getMessage();
    }

    @Test
    void syntaxErrors() {
        assertEquals("bad.gir:3:1: mismatched input '}', expecting ',' or ')'", error(HEAD + "  %y = Relu(%x\n}"));
        assertEquals("bad.gir:2:17: token recognition error at: '$'", error(HEAD + "  %y = Relu(%x) $\n}"));
        assertEquals("bad.gir:3:3: extraneous input 'extra', expecting end of file",
                error(HEAD + "  %y = Relu(%x)\n} extra"));
        assertEquals("bad.gir:2:17: unterminated string (a string ends with \" on the same line)",
                error(HEAD + "  %y = Relu(%x) @\"abc\n}"));
        assertEquals("bad.gir:2:18: unexpected end of file", error(HEAD + "  %y = Relu(%x) {"));
    }

    @Test
    void scopingErrors() {
        assertEquals("bad.gir:2:13: use of undefined value %q", error(HEAD + "  %y = Relu(%q)\n}"));
        assertEquals("bad.gir:3:3: value %y is defined twice", error(HEAD + "  %y = Relu(%x)\n  %y = Relu(%x)\n}"));
        assertEquals("bad.gir:1:35: graph output %y is never defined", error(HEAD + "}"));
        assertEquals("bad.gir:2:3: a value name cannot be empty (use _ for an omitted value)",
                error(HEAD + "  %\"\" = Relu(%x)\n  %y = Relu(%x)\n}"));
    }

    @Test
    void typeAndLiteralErrors() {
        assertTrue(error("graph @g(%x: tensor<[2],f33>) -> () {}")
                .startsWith("bad.gir:1:25: unknown element type 'f33'; expected one of f32"));
        assertEquals("bad.gir:1:22: a dimension cannot be negative: -2",
                error("graph @g(%x: tensor<[-2],f32>) -> () {}"));
        assertEquals("bad.gir:2:26: an empty list names its kind: ints[], floats[], strings[], tensors[] or graphs[]",
                error(HEAD + "  %y = Relu(%x) {alpha = []}\n}"));
        assertEquals("bad.gir:2:30: list elements must all be of one kind (here: numbers)",
                error(HEAD + "  %y = Relu(%x) {alpha = [1, \"a\"]}\n}"));
        assertEquals("bad.gir:2:25: attribute 'a' is given twice", error(HEAD + "  %y = Relu(%x) {a = 1, a = 2}\n}"));
        assertEquals("bad.gir:2:26: 99999999999999999999 does not fit in 64 bits",
                error(HEAD + "  %y = Relu(%x) {alpha = 99999999999999999999}\n}"));
    }

    @Test
    void opTableAndInferenceErrorsPointAtTheNode() {
        GaleException u = assertThrows(UnsupportedException.class,
                () -> TextParser.parse(HEAD + "  %y = Frobnicate(%x)\n}", "bad.gir"));
        assertTrue(u.getMessage().startsWith("bad.gir:2:8: unsupported op 'Frobnicate'"), u.getMessage());
        assertEquals("bad.gir:2:3: invalid graph 'g': node 'y' (Relu): unknown attribute 'alpha'",
                error(HEAD + "  %y = Relu(%x) {alpha = 1.0}\n}"));
        assertEquals("bad.gir:1:35: graph output 'y': declared shape [3] but the op produces [2]",
                error("graph @g(%x: tensor<[2],f32>) -> (%y: tensor<[3],f32>) {\n  %y = Relu(%x)\n}"));
    }

    @Test
    void headerErrors() {
        assertEquals("bad.gir:1:8: unknown model field 'version'; the header has opsets, producer and metadata",
                error("model {version = \"1\"}\n" + HEAD + "  %y = Relu(%x)\n}"));
        assertEquals("bad.gir:1:24: model field 'producer' is given twice",
                error("model {producer = \"a\", producer = \"b\"}\n" + HEAD + "  %y = Relu(%x)\n}"));
    }
}
