/**
 * The {@code cpu} backend's runtime: compile once, plan once per set of input shapes, then run steps that touch only
 * preallocated memory.
 *
 * <ol>
 *   <li>{@link dev.gale.backends.cpu.runtime.CpuBackend} opens a model: the ops are checked (each needs a native
 *       step or an interpreter kernel) and {@code simplify} and {@code fuse-patterns} run
 *       ({@link dev.gale.backends.cpu.runtime.CompilePipeline}, passes looked up by name).</li>
 *   <li>{@link dev.gale.backends.cpu.runtime.CpuSession} builds an
 *       {@link dev.gale.backends.cpu.runtime.ExecutionPlan} for the shapes of the feeds it sees (at open when the
 *       inputs' shapes are static): the input types are bound, inference runs again, then the graph passes once more
 *       (shape computations fold now), {@code partition}, {@code schedule} and {@code plan-memory}.</li>
 *   <li>{@link dev.gale.backends.cpu.runtime.PlanBuilder} lays out one off-heap arena (the memory plan's offsets for
 *       intermediates, {@link dev.gale.backends.cpu.runtime.OffsetPacker} for the rest), allocates and touches it
 *       once, and turns each node into a {@link dev.gale.backends.cpu.runtime.Step}: fused kernels run their bodies
 *       node by node (or as generated code, {@link dev.gale.backends.cpu.runtime.CodegenKernels}); each node gets
 *       the step of its family file ({@code ElementwiseSteps}, {@code LinearSteps}, {@code ConvSteps},
 *       {@code NormSteps}, {@code ReduceSteps}, {@code LossSteps}, {@code LayoutSteps}, {@code AttentionSteps},
 *       registered in {@link dev.gale.backends.cpu.runtime.NativeOps}), or else the interpreter's kernel
 *       ({@link dev.gale.backends.cpu.runtime.FallbackStep}).</li>
 *   <li>A run copies the feeds into the arena, runs the steps on the kernel pool's threads (or on the calling thread
 *       alone, where timing shows that a second thread gains nothing: {@link dev.gale.backends.cpu.runtime.ThreadChoice},
 *       {@code -Dgale.cpu.threadChoice=false} to keep to the pool), and copies the outputs out.
 *       {@link dev.gale.backends.cpu.runtime.RuntimeStats} counts what ran natively and what fell back.</li>
 * </ol>
 *
 * Float32 tensors of static shape live in the arena; everything else (other element types, shapes only the run time
 * knows, sequences) lives in boxes as Java objects, and the nodes that need it run on the interpreter's kernels.
 * Debugging: {@code -Dgale.cpu.verbose=true} prints each plan and every node that falls back;
 * {@code -Dgale.cpu.profile=true} times every step and prints the costliest, and how many runs kept to the calling
 * thread, when the plan closes;
 * {@code -Dgale.cpu.passes=a,b} replaces the graph passes.
 */
package dev.gale.backends.cpu.runtime;
