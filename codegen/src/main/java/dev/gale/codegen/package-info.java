/**
 * Code generation for fused kernels: the {@code gale::Kernel} nodes that partitioning makes.
 *
 * <ul>
 *   <li>{@code kir}: the kernel IR. A kernel is flat buffers (array plus element offset each, so tensors can live
 *       in one arena), symbolic sizes bound from input shapes, run-time size checks, and one or more loop nests
 *       of parallel and reduce loops over temporaries, accumulators and stores. Index arithmetic ({@code Ix}) is
 *       kept in a normal form that cancels the divisions and remainders reshapes introduce.</li>
 *   <li>{@code lower}: {@code KernelLowering} turns a kernel body graph into the IR (elementwise, broadcast and
 *       injective ops, reductions, normalizations, pooling, padding and concatenation) or says why it cannot. An
 *       output whose source changes along one axis (a Concat, a sum of slice gradients) gets one nest per region
 *       ({@code Regions}), so that no element reads the sources it does not use.</li>
 *   <li>{@code render}: one C-like base ({@code CLikeRenderer}) with Java (vectorized with
 *       {@code jdk.incubator.vector}), OpenCL C and CUDA C targets.</li>
 *   <li>{@code jvm}: compiles the Java source in memory and runs it, optionally on several threads.</li>
 * </ul>
 *
 * <pre>
 *   KernelLowering.Result r = KernelLowering.lower(kernelNode);
 *   if (r instanceof KernelLowering.Lowered l) {
 *       CompiledKernel k = new JvmCompiler().compile(l.kernel());
 *       List&lt;Tensor&gt; outputs = k.run(inputs);
 *       String cuda = new CudaRenderer().render(l.kernel());
 *   }
 * </pre>
 */
package dev.gale.codegen;
