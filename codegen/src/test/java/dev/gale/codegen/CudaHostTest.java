package dev.gale.codegen;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA text runs, not only compiles, without a GPU: the golden kernels and 300 random bodies go into a CUDA
 * corpus ({@link CudaCorpus}) that {@code scripts/gpu/run_cuda_corpus.py --host} compiles with g++ (a small header
 * stands in for CUDA's built-ins), runs thread by thread, and compares with the interpreter's outputs, poisoned
 * padding around every buffer included. On a GPU the same corpus runs through NVRTC (README). Skipped when g++ or
 * Python with NumPy is missing.
 */
class CudaHostTest {
    @Test
    void renderedCudaComputesWhatTheInterpreterDoes() throws Exception {
        Assumptions.assumeTrue(run(List.of("g++", "--version"), null).rc == 0, "g++ is not installed");
        Assumptions.assumeTrue(run(List.of("python3", "-c", "import numpy"), null).rc == 0, "no python3 with numpy");
        Path base = Path.of(System.getProperty("gale.root", ".")).toAbsolutePath(), runner = null;
        for (Path d = base; d != null && runner == null; d = d.getParent()) // the root, or above a module's folder
            if (Files.isRegularFile(d.resolve("scripts/gpu/run_cuda_corpus.py"))) runner = d.resolve("scripts/gpu/run_cuda_corpus.py");
        Assumptions.assumeTrue(runner != null, "no scripts/gpu/run_cuda_corpus.py at or above " + base);
        Path dir = Files.createTempDirectory("gale-cuda-host");
        try {
            CudaCorpus.write(dir, DifferentialTest.BODIES, false);
            Result r = run(List.of("python3", runner.toString(), dir.toString(), "--host", "--no-fmad-retry"), dir);
            assertEquals(0, r.rc, r.out);
            assertTrue(r.out.contains(" 0 failed, 0 failed to compile of "), r.out);
        } finally {
            try (var files = Files.walk(dir)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
            }
        }
    }

    private record Result(int rc, String out) {}

    private static Result run(List<String> command, Path dir) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).redirectErrorStream(true)
                    .start();
        } catch (java.io.IOException e) {
            return new Result(-1, e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(600, TimeUnit.SECONDS)) p.destroyForcibly();
        return new Result(p.exitValue(), out);
    }
}
