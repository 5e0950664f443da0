package dev.gale.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * OpenBLAS's {@code cblas_sgemm} through FFM, as a peer for {@link GemmBench}: the tuned BLAS that PyTorch uses in
 * Gale's training comparison, on the same machine and thread count. PyTorch gets Debian's OpenMP build (it shares
 * PyTorch's OpenMP pool); here, with no other thread pool in the process, the pthread build ({@code
 * libopenblas0-pthread}), which runs the same kernels.
 */
final class OpenBlas {
    private static final List<String> LIBRARIES = List.of(
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0");
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private final MethodHandle sgemm;

    private OpenBlas(MethodHandle sgemm) { this.sgemm = sgemm; }

    /** Loads OpenBLAS and sets its thread count; fails naming the package to install when it is not there. */
    static OpenBlas load(int threads) {
        String path = LIBRARIES.stream().filter(p -> Files.exists(Path.of(p))).findFirst().orElseThrow(() ->
                new IllegalStateException("OpenBLAS not found (looked for " + LIBRARIES + "); install it: "
                        + "apt-get install libopenblas0-pthread"));
        SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(path), Arena.global());
        Linker linker = Linker.nativeLinker();
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT;
        MethodHandle setThreads = linker.downcallHandle(symbol(lib, path, "openblas_set_num_threads"),
                FunctionDescriptor.ofVoid(i));
        MethodHandle sgemm = linker.downcallHandle(symbol(lib, path, "cblas_sgemm"), FunctionDescriptor.ofVoid(
                i, i, i, i, i, i, f, ValueLayout.ADDRESS, i, ValueLayout.ADDRESS, i, f, ValueLayout.ADDRESS, i));
        try {
            setThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
        return new OpenBlas(sgemm);
    }

    private static MemorySegment symbol(SymbolLookup lib, String path, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException(path + " has no " + name
                + "; is it OpenBLAS? install libopenblas0-pthread"));
    }

    /** C = alpha op(A) op(B) + beta C on row-major native matrices. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
               MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
                    b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }
}
