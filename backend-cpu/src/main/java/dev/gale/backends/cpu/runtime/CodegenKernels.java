package dev.gale.backends.cpu.runtime;

import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.jvm.JvmCompiler;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.ir.DType;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fused {@code gale::Kernel} nodes run as code the codegen module generates and compiles (lowering to its kernel IR,
 * the Java renderer, javac in memory), when {@code -Dgale.cpu.codegen=true}. Off by default: generated kernels work
 * on Java arrays, so each run copies the kernel's arena inputs into staging arrays and its outputs back (one pass
 * each, against the op-by-op body's one pass per node), and compiling costs a javac run per plan, which pays only for
 * plans that run many times (training). Kernels the lowering rejects run op by op.
 */
final class CodegenKernels {
    private static final JvmCompiler COMPILER = new JvmCompiler();

    private CodegenKernels() {}

    static boolean enabled() { return Boolean.getBoolean("gale.cpu.codegen"); }

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
        for (int i = 0; i < lowered.size(); i++) r.put(lowered.get(i), compiled.get(i).parallel(false));
        return r;
    }

    /** The IR's buffers are the node's operands, in order. */
    private static boolean fits(Node n, KernelIR k) {
        if (k.inputs().size() != n.inputs().size() || k.outputs().size() != n.outputs().size()) return false;
        for (int i = 0; i < n.inputs().size(); i++) if (n.input(i).isNone()) return false;
        for (int i = 0; i < n.outputs().size(); i++) if (n.output(i).isNone()) return false;
        return true;
    }

    /** The step that runs {@code k} for node {@code c.node}, or null when an operand does not suit it. */
    static Step step(EmitContext c, CompiledKernel k) {
        KernelIR ir = k.ir();
        int ni = c.numInputs(), no = c.numOutputs();
        Object[] buffers = new Object[ni + no];
        float[][] staging = new float[ni + no][];
        Tensor[] views = new Tensor[ni];
        boolean dynamicSizes = false;
        for (int i = 0; i < ni + no; i++) {
            Slot s = i < ni ? c.in(i) : c.out(i - ni);
            KernelIR.Buffer b = ir.buffers().get(i);
            if (s.dtype != b.type() || s.shape == null) return null;
            if (s.inArena()) {
                staging[i] = new float[Math.toIntExact(s.numel)];
                buffers[i] = staging[i];
                if (i < ni) views[i] = new Tensor(DType.FLOAT32, s.shape, staging[i]);
            } else if (i < ni) {
                Tensor constant = c.constant(i);
                views[i] = constant != null ? constant : Tensor.zeros(s.dtype, s.shape);
                if (constant == null) dynamicSizes |= ir.sizes().stream().anyMatch(p -> p.fromValue());
            } else {
                buffers[i] = c.ownedOutput(i - ni).data();
            }
        }
        Map<String, Long> sizes = ir.bindSizes(List.of(views));
        for (int i = 0; i < no; i++) {
            long[] shape = ir.shape(ir.outputs().get(i), sizes);
            if (!java.util.Arrays.equals(shape, c.out(i).shape)) return null;
        }
        Slot[] slots = new Slot[ni + no];
        for (int i = 0; i < ni + no; i++) slots[i] = i < ni ? c.in(i) : c.out(i - ni);
        MemorySegment m = c.mem;
        Object[] boxes = c.boxes;
        int[] offsets = new int[ni + no];
        boolean rebind = dynamicSizes;
        return () -> {
            for (int i = 0; i < ni; i++) {
                Slot s = slots[i];
                if (s.inArena()) MemorySegment.copy(m, Vec.F, s.offset << 2, staging[i], 0, staging[i].length);
                else if (!s.constant) {
                    Tensor t = (Tensor) boxes[s.box];
                    buffers[i] = t.data();
                    if (rebind) views[i] = t;
                } else buffers[i] = ((Tensor) boxes[s.box]).data();
            }
            k.run(buffers, offsets, rebind ? ir.bindSizes(List.of(views)) : sizes);
            for (int i = ni; i < ni + no; i++)
                if (slots[i].inArena()) MemorySegment.copy(staging[i], 0, m, Vec.F, slots[i].offset << 2, staging[i].length);
        };
    }
}
