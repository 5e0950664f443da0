package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.jvm.JvmCompiler;
import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.codegen.render.JavaRenderer;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fused {@code gale::Kernel} nodes run as code the codegen module generates and compiles (lowering to its kernel IR,
 * the Java renderer, javac in memory): one pass over memory for the whole fused body, against one per node when the
 * body runs op by op. On by default; {@code -Dgale.cpu.codegen=false} runs every kernel op by op.
 *
 * <p>The generated code reads and writes the arena directly ({@link JavaRenderer.Storage#SEGMENTS}: every buffer a
 * memory segment at an element offset, vector loops on {@code FloatVector.fromMemorySegment}); boxed operands (other
 * element types) are heap segments over their arrays. A large nest is split over its outer loop across the plan's
 * {@link KernelPool}. An output the plan puts over one of the kernel's inputs is written in place when every read of
 * that input is of the element being written, before it is written ({@link #inPlaceSafe}); otherwise the kernel
 * writes a private buffer that is copied over the output afterwards.
 *
 * <p>Compiling costs a javac run per plan for the kernels not compiled before: the compiler keeps the classes by
 * kernel source text, so the same kernel in another plan (another batch size of a static-shaped model, the next
 * session of the same model) is free. Kernels the lowering rejects run op by op.
 */
final class CodegenKernels {
    private static final JvmCompiler COMPILER = new JvmCompiler(true, JavaRenderer.Storage.SEGMENTS);

    private CodegenKernels() {}

    static boolean enabled() { return !"false".equals(System.getProperty("gale.cpu.codegen")); }

    /** Compiles every kernel node of {@code nodes} that lowers, in one javac run; by node. */
    static Map<Node, CompiledKernel> compile(List<Node> nodes) {
        List<Node> lowered = new ArrayList<>();
        List<KernelIR> irs = new ArrayList<>();
        for (Node n : nodes) {
            if (!n.domain().equals("gale") || !n.op().equals("Kernel")) continue;
            if (KernelLowering.lower(n) instanceof KernelLowering.Lowered l && fits(n, l.kernel())) {
                lowered.add(n);
                irs.add(l.kernel());
            }
        }
        Map<Node, CompiledKernel> r = new HashMap<>();
        if (irs.isEmpty()) return r;
        List<CompiledKernel> compiled = COMPILER.compileAll(irs);
        for (int i = 0; i < lowered.size(); i++) r.put(lowered.get(i), compiled.get(i));
        return r;
    }

    /**
     * Ops whose native steps beat a generated loop nest, so a kernel holding one runs op by op: pooling (vectorized
     * windows), softmax (the generated nest sums in double and takes its last pass lane by lane with Math.exp,
     * 4.3 ns per element in the encoder's attention, against a vectorized row kernel) and the bias gradient's
     * gale::ReduceSumToShape (the generated nest now runs the kept axis in vectors around the reduce loops, four
     * vectors of a row at a time, but sums in float64 as every generated sum does: 0.061 ms for [512, 512] -> [512]
     * in the encoder's training step, against 0.027 for the native step, which adds whole rows in float32 lanes; it
     * was 0.24 ms as one scalar chain per column).
     */
    private static final java.util.Set<String> NATIVE_BETTER = java.util.Set.of("MaxPool", "AveragePool", "Softmax",
            "LogSoftmax", "gale::ReduceSumToShape");

    /** The IR's buffers are the node's operands, in order, and no op of the body runs better natively. */
    private static boolean fits(Node n, KernelIR k) {
        if (n.attr("body") instanceof dev.gale.ir.Attr.GraphAttr body)
            for (Node b : body.value().nodes()) if (NATIVE_BETTER.contains(b.qualifiedOp())) return false;
        if (k.inputs().size() != n.inputs().size() || k.outputs().size() != n.outputs().size()) return false;
        for (int i = 0; i < n.inputs().size(); i++) if (n.input(i).isNone()) return false;
        for (int i = 0; i < n.outputs().size(); i++) if (n.output(i).isNone()) return false;
        return true;
    }

    /** The step that runs {@code k} for node {@code c.node}, or null when an operand does not suit it. */
    static Step step(EmitContext c, CompiledKernel k) {
        KernelIR ir = k.ir();
        int ni = c.numInputs(), no = c.numOutputs();
        Slot[] slots = new Slot[ni + no];
        for (int i = 0; i < ni + no; i++) slots[i] = i < ni ? c.in(i) : c.out(i - ni);
        Object[] buffers = new Object[ni + no];
        long[] offsets = new long[ni + no];
        Tensor[] constants = new Tensor[ni];
        boolean boxedInputs = false, rebind = false;
        for (int i = 0; i < ni + no; i++) {
            Slot s = slots[i];
            if (s == null || s.dtype != ir.buffers().get(i).type() || s.shape == null) return null;
            if (s.inArena()) {
                buffers[i] = c.mem;
                offsets[i] = s.offset;
            } else if (i < ni) {
                constants[i] = c.constant(i);
                if (constants[i] != null) {
                    buffers[i] = CompiledKernel.segmentOf(constants[i].data());
                } else {
                    boxedInputs = true;
                    for (KernelIR.SizeParam p : ir.sizes()) rebind |= p.fromValue() && p.buffer() == i;
                }
            } else {
                buffers[i] = CompiledKernel.segmentOf(c.ownedOutput(i - ni).data());
            }
        }
        // Sizes from the static shapes (and constant shape inputs); a size read from a value fed at run time is
        // bound on every run, and then only outputs of literal shapes (checked now) are accepted.
        Map<String, Long> sizes = rebind ? null : bind(ir, slots, constants, null);
        if (sizes != null) {
            for (int i = 0; i < no; i++)
                if (!Arrays.equals(ir.shape(ir.outputs().get(i), sizes), slots[ni + i].shape)) return null;
        } else {
            for (int i = 0; i < no; i++) {
                List<Ix> shape = ir.outputs().get(i).shape();
                if (shape.stream().anyMatch(x -> !(x instanceof Ix.Lit))
                        || !Arrays.equals(ir.shape(ir.outputs().get(i), Map.of()), slots[ni + i].shape)) return null;
            }
        }
        // Outputs over inputs that the kernel cannot update in place go to a private buffer, copied afterwards.
        MemorySegment[] privateOut = new MemorySegment[no];
        for (int o = 0; o < no; o++) {
            Slot out = slots[ni + o];
            if (!out.inArena()) continue;
            for (int i = 0; i < ni; i++) {
                Slot in = slots[i];
                if (!in.inArena() || !overlaps(in, out)) continue;
                if (in.offset == out.offset && in.numel == out.numel && inPlaceSafe(ir, i, ni + o)) continue;
                privateOut[o] = c.scratch(out.numel);
                buffers[ni + o] = privateOut[o];
                offsets[ni + o] = 0;
                break;
            }
        }
        CompiledKernel.Launch fixed = sizes == null ? null : k.prepare(sizes);
        CompiledKernel.Splitter splitter = splitter(c.pool);
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        if (fixed != null && !boxedInputs) {
            // The usual case: everything fixed now, so a run allocates nothing.
            KernelPool pool = c.pool;
            int nests = fixed.nests();
            int[] tasks = new int[nests];
            KernelPool.Task[] pieces = new KernelPool.Task[nests];
            for (int n = 0; n < nests; n++) {
                tasks[n] = fixed.tasks(n, pool.threads());
                int nest = n, count = tasks[n];
                pieces[n] = (i, scratch) -> fixed.runPiece(nest, i, count, buffers, offsets);
            }
            return () -> {
                for (int n = 0; n < nests; n++) {
                    if (tasks[n] <= 1) fixed.runPiece(n, 0, 1, buffers, offsets);
                    else pool.parallelFor(tasks[n], pieces[n]);
                }
                for (int o = 0; o < no; o++)
                    if (privateOut[o] != null)
                        MemorySegment.copy(privateOut[o], 0, m, slots[ni + o].offset << 2, slots[ni + o].numel << 2);
            };
        }
        boolean reread = boxedInputs;
        return () -> {
            Tensor[] fed = reread ? new Tensor[ni] : null;
            if (reread) {
                for (int i = 0; i < ni; i++) {
                    Slot s = slots[i];
                    if (s.inArena() || constants[i] != null) continue;
                    fed[i] = (Tensor) boxes[s.box];
                    buffers[i] = CompiledKernel.segmentOf(fed[i].data());
                }
            }
            CompiledKernel.Launch launch = fixed != null ? fixed
                    : k.prepare(bind(ir, slots, constants, fed));
            launch.run(buffers, offsets, splitter);
            for (int o = 0; o < no; o++)
                if (privateOut[o] != null)
                    MemorySegment.copy(privateOut[o], 0, m, slots[ni + o].offset << 2, slots[ni + o].numel << 2);
        };
    }

    /** The sizes' values: dimensions of the operands' static shapes, or elements of (constant or fed) shape inputs. */
    private static Map<String, Long> bind(KernelIR ir, Slot[] slots, Tensor[] constants, Tensor[] fed) {
        Map<String, Long> env = new HashMap<>();
        for (KernelIR.SizeParam p : ir.sizes()) {
            Slot s = slots[p.buffer()];
            if (!p.fromValue()) {
                env.put(p.name(), s.shape[p.axis()]);
                continue;
            }
            Tensor t = constants[p.buffer()] != null ? constants[p.buffer()] : fed == null ? null : fed[p.buffer()];
            if (t == null) return null;
            env.put(p.name(), t.getLong(p.axis()));
        }
        return env;
    }

    private static CompiledKernel.Splitter splitter(KernelPool pool) {
        if (pool.threads() <= 1) return null;
        return new CompiledKernel.Splitter() {
            @Override
            public int threads() { return pool.threads(); }

            @Override
            public void split(int tasks, java.util.function.IntConsumer task) {
                pool.parallelFor(tasks, (i, scratch) -> task.accept(i));
            }
        };
    }

    private static boolean overlaps(Slot a, Slot b) {
        return a.offset < b.offset + Math.max(1, b.numel) && b.offset < a.offset + Math.max(1, a.numel);
    }

    // ---- in place

    /**
     * Whether buffer {@code out} may be the same memory as input buffer {@code in}: the kernel is one nest, and in
     * every statement list the only reads of {@code in} are at the index the list stores {@code out} at, all before
     * that store (so each element is read before it is overwritten, by the thread that overwrites it, also in vector
     * loops, which keep the statements' order).
     */
    static boolean inPlaceSafe(KernelIR ir, int in, int out) {
        return ir.nests().size() == 1 && stores(ir.nests().getFirst().body(), out) == 1
                && safe(ir.nests().getFirst().body(), in, out);
    }

    private static int stores(List<Stmt> body, int out) {
        int n = 0;
        for (Stmt s : body) {
            if (s instanceof Stmt.Loop l) n += stores(l.body(), out);
            if (s instanceof Stmt.Store st && st.buffer() == out) n++;
        }
        return n;
    }

    private static boolean safe(List<Stmt> body, int in, int out) {
        Ix at = null;
        for (Stmt s : body) {
            if (s instanceof Stmt.Store st && st.buffer() == out) {
                if (at != null && !at.equals(st.index())) return false;
                at = st.index();
            }
        }
        boolean stored = false;
        for (Stmt s : body) {
            Ix allowed = stored ? null : at;
            boolean ok = switch (s) {
                case Stmt.Loop l -> at == null && safe(l.body(), in, out) || !readsBuffer(l.body(), in);
                case Stmt.Let t -> readsOnlyAt(t.value(), in, allowed);
                case Stmt.Acc a -> readsOnlyAt(a.init(), in, allowed);
                case Stmt.Assign a -> readsOnlyAt(a.value(), in, allowed);
                case Stmt.Store st -> readsOnlyAt(st.value(), in, allowed);
            };
            if (!ok) return false;
            if (s instanceof Stmt.Store st && st.buffer() == out) stored = true;
        }
        return true;
    }

    /** Every load of buffer {@code b} in {@code x} is at index {@code at} (none at all when {@code at} is null). */
    private static boolean readsOnlyAt(Sx x, int b, Ix at) {
        return switch (x) {
            case Sx.Load l -> l.buffer() != b || at != null && at.equals(l.index());
            case Sx.Unary u -> readsOnlyAt(u.x(), b, at);
            case Sx.Binary y -> readsOnlyAt(y.a(), b, at) && readsOnlyAt(y.b(), b, at);
            case Sx.Select s -> readsOnlyAt(s.cond(), b, at) && readsOnlyAt(s.a(), b, at) && readsOnlyAt(s.b(), b, at);
            case Sx.Cast c -> readsOnlyAt(c.x(), b, at);
            case Sx.Const c -> true;
            case Sx.Ref r -> true;
            case Sx.Index i -> true;
        };
    }

    private static boolean readsBuffer(List<Stmt> body, int b) {
        for (Stmt s : body) {
            boolean reads = switch (s) {
                case Stmt.Loop l -> readsBuffer(l.body(), b);
                case Stmt.Let t -> !readsOnlyAt(t.value(), b, null);
                case Stmt.Acc a -> !readsOnlyAt(a.init(), b, null);
                case Stmt.Assign a -> !readsOnlyAt(a.value(), b, null);
                case Stmt.Store st -> !readsOnlyAt(st.value(), b, null);
            };
            if (reads) return true;
        }
        return false;
    }
}
