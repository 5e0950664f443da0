package dev.gale.codegen;

import dev.gale.backends.interp.Interpreter;
import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.onnx.OnnxImporter;
import dev.gale.onnx.OnnxTensors;
import dev.gale.passes.fuse.FusePatterns;
import dev.gale.passes.partition.Partition;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.simplify.Simplify;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernels that partitioning makes of real models: the PyTorch MLP, CNN and transformer (forward and training
 * step) go through simplify, fuse-patterns and partition; every {@code gale::Kernel} is lowered, and each lowered one
 * is compiled for the JVM and run on the values the interpreter fed that kernel node, against the outputs the
 * interpreter computed for it. Prints how many kernels lower and why the others do not.
 */
class ModelKernelsTest {
    static Path model(String name) {
        return Path.of(System.getProperty("gale.root", ".."), "torture-tests", "src", "test", "resources", "models", name);
    }

    @ParameterizedTest
    @CsvSource({"mlp,false", "cnn,false", "transformer,false", "mlp,true", "cnn,true", "transformer,true"})
    void kernelsOfPyTorchModels(String name, boolean training) {
        Path dir = model(name);
        Assumptions.assumeTrue(Files.isDirectory(dir), dir + " is missing");
        Model forward = OnnxImporter.load(dir.resolve("model.onnx"));
        Map<String, Object> feeds = feeds(forward.graph(), dir.resolve("test_data_set_0"));
        Graph g = forward.graph();
        if (training) {
            g = TrainingProgram.build(forward.graph(), "logits", LossKind.CROSS_ENTROPY, n -> true, Long.MIN_VALUE).graph();
            Tensor logits = (Tensor) new Interpreter(forward).run(feeds).get(0);
            for (Value v : g.runtimeInputs())
                if (forward.graph().initializers().containsKey(v.name()))
                    feeds.put(v.name(), forward.graph().initializers().get(v.name()));
            feeds.put(TrainingProgram.LABELS, labels(logits.shape()));
        }
        Graph partitioned = new Pipeline(List.of(new Simplify(), new FusePatterns(), new Partition()))
                .run(g, PassContext.defaults(), false, null).graph();
        Model m = forward.withGraph(partitioned);

        // Every value the interpreter computes, so each kernel node's inputs and outputs are at hand.
        Map<String, Object> values = new HashMap<>(partitioned.initializers());
        values.putAll(feeds);
        Interpreter interp = new Interpreter(m);
        interp.setListener((node, outs) -> {
            for (int i = 0; i < Math.min(outs.size(), node.outputs().size()); i++)
                if (!node.outputs().get(i).isNone()) values.put(node.outputs().get(i).name(), outs.get(i));
        });
        interp.run(feeds);

        List<Node> kernels = partitioned.nodes().stream()
                .filter(n -> n.domain().equals("gale") && n.op().equals("Kernel")).toList();
        List<Node> lowered = new ArrayList<>();
        List<KernelIR> irs = new ArrayList<>();
        Map<String, Integer> reasons = new TreeMap<>();
        for (Node k : kernels) {
            switch (KernelLowering.lower(k)) {
                case KernelLowering.Lowered l -> {
                    lowered.add(k);
                    irs.add(l.kernel());
                }
                case KernelLowering.Rejected r -> reasons.merge(reasonKind(r.reason()), 1, Integer::sum);
            }
        }
        List<CompiledKernel> compiled = GoldenKernelTest.COMPILER.compileAll(irs);
        StringBuilder failures = new StringBuilder();
        for (int i = 0; i < lowered.size(); i++) {
            Node k = lowered.get(i);
            List<Tensor> in = new ArrayList<>();
            for (Value v : k.inputs()) in.add((Tensor) values.get(v.name()));
            try {
                List<Tensor> out = compiled.get(i).run(in);
                for (int o = 0; o < out.size(); o++)
                    KernelTesting.assertClose((Tensor) values.get(k.outputs().get(o).name()), out.get(o), 1e-3, 1e-5,
                            k.name() + " output " + o);
            } catch (AssertionError | RuntimeException e) {
                failures.append("\n").append(e.getMessage());
            }
        }
        String what = name + (training ? " training" : " forward");
        System.out.println("codegen " + what + ": " + kernels.size() + " kernels, " + lowered.size()
                + " lowered and matching the interpreter; not lowerable: " + reasons);
        if (!failures.isEmpty()) fail(what + ": lowered kernels differ from the interpreter:" + failures);
        assertTrue(!kernels.isEmpty(), what + ": partitioning made no kernels");
    }

    /** A rejection reason without the value and node names, so equal reasons count together. */
    private static String reasonKind(String reason) {
        return reason.replaceAll("node '[^']*'", "node").replaceAll("%[\\w.:/]+", "%v")
                .replaceAll("\\[[^\\]]*\\]", "[..]");
    }

    static Map<String, Object> feeds(Graph g, Path set) {
        Map<String, Object> feeds = new HashMap<>();
        List<Value> inputs = g.runtimeInputs();
        for (int k = 0; k < inputs.size(); k++) {
            Path f = set.resolve("input_" + k + ".pb");
            if (Files.exists(f)) feeds.put(inputs.get(k).name(), OnnxTensors.readValue(f, inputs.get(k).type()));
        }
        return feeds;
    }

    /** Class labels for logits of {@code shape} ([batch, classes, ...]): seeded random, the same every run. */
    static Tensor labels(long[] shape) {
        long[] ls = new long[shape.length - 1];
        ls[0] = shape[0];
        for (int k = 2; k < shape.length; k++) ls[k - 1] = shape[k];
        Tensor t = Tensor.zeros(DType.INT64, ls);
        Random r = new Random(7);
        for (int i = 0; i < t.numel(); i++) t.setLong(i, r.nextInt((int) shape[1]));
        return t;
    }

    static boolean isKernel(Node n) { return n.attr("body") instanceof Attr.GraphAttr; }
}
