package dev.gale.codegen;

import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.jvm.JvmCompiler;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.KernelPrinter;
import dev.gale.codegen.render.CudaRenderer;
import dev.gale.codegen.render.JavaRenderer;
import dev.gale.codegen.render.OpenCLRenderer;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Golden tests of generated kernels. Each {@code golden/<case>.gir} holds a kernel body in text IR; the test lowers
 * it and compares the kernel IR ({@code .kir}) and the Java, OpenCL and CUDA sources ({@code .java}, {@code .cl},
 * {@code .cu}) with the files next to it. No device is needed. {@code -Dgale.bless=true} rewrites the expected files
 * from the current output. Each case also runs: the Java kernel is compiled and compared with the interpreter on
 * random inputs.
 */
class GoldenKernelTest {
    private static final boolean BLESS = Boolean.getBoolean("gale.bless");
    static final JvmCompiler COMPILER = new JvmCompiler();
    /** Kernels on memory segments, as the cpu runtime runs them on its arena. */
    static final JvmCompiler SEGMENTS = new JvmCompiler(true, JavaRenderer.Storage.SEGMENTS);

    static Path goldenDir() {
        String root = System.getProperty("gale.root");
        Path p = root == null ? null : Path.of(root, "codegen", "src", "test", "resources", "golden");
        if (p != null && Files.isDirectory(p)) return p;
        try {
            return Path.of(GoldenKernelTest.class.getResource("/golden").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> golden() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> cases;
        try (Stream<Path> s = Files.list(goldenDir())) {
            cases = s.filter(p -> p.toString().endsWith(".gir")).sorted().toList();
        }
        Map<String, Function<KernelIR, String>> outputs = Map.of(
                "kir", KernelPrinter::print,
                "java", k -> new JavaRenderer().render(k),
                "seg.java", k -> new JavaRenderer(true, JavaRenderer.Storage.SEGMENTS).render(k),
                "cl", k -> new OpenCLRenderer().render(k),
                "cu", k -> new CudaRenderer().render(k));
        for (Path gir : cases) {
            String name = gir.getFileName().toString().replace(".gir", "");
            Graph body = KernelTesting.parse(Files.readString(gir), gir.getFileName().toString());
            KernelIR k = KernelTesting.lower(body);
            for (String ext : List.of("kir", "java", "seg.java", "cl", "cu")) {
                Path expected = gir.resolveSibling(name + "." + ext);
                // The segment form has goldens for a few cases only (the rest is the same code with other accesses).
                if (ext.equals("seg.java") && !SEGMENT_GOLDENS.contains(name) && !Files.exists(expected)) continue;
                tests.add(DynamicTest.dynamicTest(name + "." + ext, () -> {
                    String actual = outputs.get(ext).apply(k);
                    if (BLESS) Files.writeString(expected, actual);
                    else assertEquals(Files.exists(expected) ? Files.readString(expected) : "<missing " + expected + ">",
                            actual, name + "." + ext + " (rerun with -Dgale.bless=true to accept)");
                }));
            }
            tests.add(DynamicTest.dynamicTest(name + " runs", () -> runAgainstInterpreter(body, k)));
        }
        return tests.stream();
    }

    /** The cases whose segment-storage Java source has a golden file. */
    private static final List<String> SEGMENT_GOLDENS = List.of("bias_gelu", "where_mask", "layernorm");

    /**
     * Compiles the JVM kernel (for arrays, and for memory segments) and compares it with the interpreter for two
     * bindings of the symbolic sizes.
     */
    static void runAgainstInterpreter(Graph body, KernelIR k) {
        runAgainstInterpreter(body, k, COMPILER);
        runAgainstInterpreter(body, k, SEGMENTS);
    }

    private static void runAgainstInterpreter(Graph body, KernelIR k, JvmCompiler compiler) {
        CompiledKernel ck = compiler.compile(k);
        Random rnd = new Random(42);
        for (long size : new long[] {1, 37}) {
            Map<String, Long> sizes = new HashMap<>();
            for (Value v : body.inputs())
                if (v.type() instanceof Type.TensorType t && t.shape() != null)
                    for (Dim d : t.shape().dims()) if (d instanceof Dim.Sym s) sizes.put(s.name(), size);
            List<Tensor> in = KernelTesting.randomInputs(body, sizes, rnd);
            List<Tensor> expected = KernelTesting.interpret(body, in);
            List<Tensor> actual = ck.run(in);
            for (int i = 0; i < expected.size(); i++)
                KernelTesting.assertClose(expected.get(i), actual.get(i), 1e-4, 1e-6, k.name() + " output " + i);
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
