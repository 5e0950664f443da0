package dev.gale.onnx;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.gale.onnx.Protos.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every malformed model of {@link BadModelCorpus} fails with a {@link GaleException} whose message is one line, names
 * the file, says what is wrong, and is not an internal error, without allocating much on the way.
 */
class BadInputTest {
    @TempDir
    static Path root;

    static List<BadModelCorpus.Case> cases() { return BadModelCorpus.cases(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void failsWithOneActionableLine(BadModelCorpus.Case c) {
        Path model = c.write(root);
        long before = allocatedBytes();
        GaleException e = assertThrows(GaleException.class, () -> OnnxImporter.load(model));
        long allocated = allocatedBytes() - before;
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "message spans lines: " + m);
        assertTrue(m.startsWith("model.onnx: "), "message does not name the file: " + m);
        assertTrue(m.contains(c.expected()), "expected '" + c.expected() + "' in: " + m);
        assertFalse(m.contains("internal error"), m);
        assertTrue(m.length() < 400, "message too long (" + m.length() + " chars): " + m);
        assertTrue(allocated < 64L << 20, "allocated " + (allocated >> 20) + " MiB to refuse " + c.name());
    }

    @Test
    void externalEscapesNeverOpenTheOutsideFile() throws Exception {
        // A secret the importer could read through any of the escapes; refusing happens on the path alone.
        for (BadModelCorpus.Case c : cases()) {
            if (!List.of("external-dotdot", "external-absolute", "external-symlink-out").contains(c.name())) continue;
            Path model = c.write(root);
            Files.write(root.resolve("secret.bin"), new byte[24]);
            Files.setPosixFilePermissions(root.resolve("secret.bin"), java.util.Set.of());
            GaleException e = assertThrows(GaleException.class, () -> OnnxImporter.load(model));
            assertFalse(e.getMessage().contains("Permission denied"), "tried to open the file: " + e.getMessage());
            Files.setPosixFilePermissions(root.resolve("secret.bin"),
                    java.util.Set.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE));
        }
    }

    @Test
    void nodesOutOfOrderAreSorted() throws Exception {
        var g = reluGraph().setNode(0, node("Relu", List.of("h"), List.of("y")))
                .addNode(node("Relu", List.of("x"), List.of("h")));
        Path file = root.resolve("unsorted.onnx");
        Files.write(file, model(g.build(), 18).toByteArray());
        Model m = OnnxImporter.load(file);
        assertEquals(List.of("h", "y"), m.graph().nodes().stream().map(n -> n.output(0).name()).toList());
    }

    @Test
    void aMissingFileIsOneLine() {
        GaleException e = assertThrows(GaleException.class, () -> OnnxImporter.load(root.resolve("nope.onnx")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
