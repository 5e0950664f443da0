package dev.gale.backends.interp;

import dev.gale.ir.Graph;
import dev.gale.ir.op.GaleOps;

import java.util.List;

/**
 * The interpreter's {@code gale::Kernel}: a fused group of nodes runs as its body graph, node by node, so a
 * partitioned graph computes exactly what the graph before partitioning did.
 */
final class KernelBodyKernels {
    private KernelBodyKernels() {}

    static void registerAll() { Kernels.register(GaleOps.DOMAIN, "Kernel", KernelBodyKernels::run); }

    static List<Object> run(KernelCall c) {
        Graph body = c.attrGraph("body");
        if (body.inputs().size() != c.numInputs())
            throw c.error("the body takes " + body.inputs().size() + " inputs, the node has " + c.numInputs());
        if (body.outputs().size() != c.numOutputs())
            throw c.error("the body gives " + body.outputs().size() + " outputs, the node has " + c.numOutputs());
        for (int i = 0; i < c.numInputs(); i++)
            if (!c.has(i)) throw c.error("input " + i + " is missing; a kernel's inputs are all required");
        return c.runGraph(body, c.values());
    }
}
