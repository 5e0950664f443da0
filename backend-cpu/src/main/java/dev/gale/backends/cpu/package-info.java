/**
 * Fast float32 CPU kernels on the incubator Vector API, over {@link java.lang.foreign.MemorySegment}s so that the CPU
 * runtime can run a whole plan out of one off-heap arena:
 * <ul>
 *   <li>{@link dev.gale.backends.cpu.Sgemm}: {@code C = act(alpha op(A) op(B) + beta C + bias + residual)}, plain or
 *       batched with strides; packed panels, a 12 x 32 register-blocked FMA micro-kernel, fused
 *       {@link dev.gale.backends.cpu.Epilogue}s; constant weights packed once ({@link dev.gale.backends.cpu.PackedB}),
 *       and for a batch of about 32 rows multiplied as {@code C^T = B^T A^T} ({@code ShortAGemm}); constant
 *       weights too large for the cache are read into L2 a block at a time before they are multiplied
 *       ({@code ReadAhead});</li>
 *   <li>{@link dev.gale.backends.cpu.Conv2d}: NCHW convolution (strides, pads, dilations, groups) by implicit
 *       im2col into the same GEMM, and its input and weight gradients;</li>
 *   <li>{@link dev.gale.backends.cpu.Pool2d}: max and average pooling, forward and backward.</li>
 * </ul>
 * Work runs on a {@link dev.gale.backends.cpu.KernelPool} (one participant per core) whose per-thread
 * {@link dev.gale.backends.cpu.Scratch} holds the packing buffers, reused from call to call. Every kernel is tested
 * against the reference interpreter ({@code dev.gale.backends.interp}); the {@code bench} module measures them
 * ({@code bench/gale-bench GemmBench -p size=1024 -p threads=1,2}, {@code bench/gale-bench LinearBench}).
 */
package dev.gale.backends.cpu;
