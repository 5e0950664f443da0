package dev.gale.torture.cpu;

import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npy;
import dev.gale.torture.GaleCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gale run --backend cpu} says when nodes ran on the interpreter's kernels (here Hardmax, which the cpu backend
 * does not run itself) and stays quiet when every node is native.
 */
class FallbackNoteTest {
    private static Path model(Path dir, String name, String body) throws IOException {
        Path f = dir.resolve(name + ".gir");
        Files.writeString(f, "graph @" + name + "(%x: tensor<[1,4,3,3],f32>) -> (%y: tensor<[1,4,3,3],f32>) {\n"
                + body + "\n}\n");
        return f;
    }

    private static GaleCli.Result run(Path dir, Path model) throws IOException {
        Path in = dir.resolve("in");
        Files.createDirectories(in);
        float[] x = new float[36];
        for (int i = 0; i < x.length; i++) x[i] = (i % 7) * 0.25f - 0.5f;
        Files.write(in.resolve("x.npy"), Npy.write(new Tensor(DType.FLOAT32, new long[] {1, 4, 3, 3}, x)));
        return GaleCli.gale("run", model.toString(), "--inputs", in.toString(), "--outputs",
                dir.resolve("out").toString(), "--backend", "cpu");
    }

    @Test
    void namesTheOpsThatFellBack(@TempDir Path tmp) throws IOException {
        GaleCli.Result r = run(tmp, model(tmp, "hardmax", "  %z = Hardmax(%x)\n  %y = Relu(%z)"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("note: 1 node ran on the interpreter's kernels, not the cpu backend's own"), r.out());
        assertTrue(r.out().contains(": Hardmax;"), r.out());
    }

    @Test
    void quietWhenAllNative(@TempDir Path tmp) throws IOException {
        GaleCli.Result r = run(tmp, model(tmp, "relu", "  %y = Relu(%x)"));
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("note:"), r.out());
    }
}
