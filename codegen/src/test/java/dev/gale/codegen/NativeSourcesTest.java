package dev.gale.codegen;

import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.render.CudaRenderer;
import dev.gale.codegen.render.OpenCLRenderer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The generated OpenCL and CUDA sources compile, checked without a device: CUDA with {@code nvcc -ptx} and OpenCL
 * C with {@code gcc -fsyntax-only} and a small header standing in for OpenCL's built-ins. Each half is skipped
 * when its compiler is not installed. Covers the golden kernels and a share of the random ones.
 */
class NativeSourcesTest {
    private static final int RANDOM = 80;

    private static List<KernelIR> kernels() throws IOException {
        List<KernelIR> r = new ArrayList<>();
        try (Stream<Path> s = Files.list(GoldenKernelTest.goldenDir())) {
            for (Path p : s.filter(f -> f.toString().endsWith(".gir")).sorted().toList())
                r.add(KernelTesting.lower(KernelTesting.parse(Files.readString(p), p.getFileName().toString())));
        }
        for (int seed = 0; seed < RANDOM; seed++)
            r.add(KernelTesting.lower(KernelTesting.parse(RandomBodies.generate(seed, "rand" + seed), "rand" + seed)));
        return r;
    }

    @Test
    void cudaCompilesWithNvcc() throws Exception {
        Assumptions.assumeTrue(onPath("nvcc"), "nvcc is not installed");
        Path dir = Files.createTempDirectory("gale-cuda");
        StringBuilder src = new StringBuilder();
        for (KernelIR k : kernels()) src.append(new CudaRenderer().render(k)).append('\n');
        Files.writeString(dir.resolve("kernels.cu"), src);
        run(dir, List.of("nvcc", "-ptx", "-arch=sm_80", "-o", "kernels.ptx", "kernels.cu"));
    }

    @Test
    void openclParsesAsC() throws Exception {
        Assumptions.assumeTrue(onPath("gcc"), "gcc is not installed");
        Path dir = Files.createTempDirectory("gale-opencl");
        Files.writeString(dir.resolve("opencl.h"), """
                #include <math.h>
                #include <stdbool.h>
                #include <stdlib.h>
                #define __kernel
                #define __global
                typedef unsigned char uchar;
                static inline int get_global_id(int d) { (void) d; return 0; }
                #define max(a, b) ((a) > (b) ? (a) : (b))
                #define min(a, b) ((a) < (b) ? (a) : (b))
                """);
        StringBuilder src = new StringBuilder();
        for (KernelIR k : kernels()) src.append(new OpenCLRenderer().render(k)).append('\n');
        Files.writeString(dir.resolve("kernels.cl"), src);
        run(dir, List.of("gcc", "-std=c99", "-fsyntax-only", "-Werror", "-Wall", "-Wno-unknown-pragmas",
                "-Wno-unused-variable", "-include", "opencl.h", "-x", "c", "kernels.cl"));
    }

    private static void run(Path dir, List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS)) p.destroyForcibly();
        assertEquals(0, p.exitValue(), String.join(" ", command) + " in " + dir + ":\n" + out);
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
            if (Files.isExecutable(Path.of(d, tool))) return true;
        return false;
    }
}
