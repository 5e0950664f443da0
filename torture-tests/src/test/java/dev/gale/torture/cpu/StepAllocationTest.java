package dev.gale.torture.cpu;

import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.onnx.OnnxImporter;
import dev.gale.torture.PyTorchModelsTest;
import dev.gale.train.LossKind;
import dev.gale.train.TrainConfig;
import dev.gale.train.Trainer;
import dev.gale.train.optim.LrSchedule;
import dev.gale.train.optim.Optimizers;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training step on the cpu backend runs out of its plan's one arena: the parameters and gradients stay there
 * (bound regions), the optimizer updates them in place and the batch is sampled into reused tensors, so what a
 * step allocates on the Java heap (after the JIT has compiled the loops) does not grow with the model.
 */
class StepAllocationTest {
    /**
     * Bytes per step allowed. Copying the parameters in and the gradients out would be 1.6 MB here. What remains
     * was about 28 KB when the limit was set (the Vector API boxing vectors in a few loops that C2 did not fully
     * intrinsify: float[] from FloatVector fallbacks in NormSteps and the GEMM tile store, seen with JFR allocation
     * sampling); on 2026-11-27 it was 3.1 KB a step after 12,000 steps in each of 4 fresh JVMs (after 2,000 steps,
     * 8 KB to 300 KB: the JIT was not done). The limit leaves room for a JVM whose C2 inlines less.
     */
    private static final long LIMIT = 48 * 1024;

    @Test
    void aTrainingStepAllocatesNothingProportionalToTheModel() {
        Model model = OnnxImporter.load(PyTorchModelsTest.model("mlp").resolve("model.onnx"));
        Random r = new Random(5);
        Tensor x = Tensor.zeros(DType.FLOAT32, 64, 784);
        for (int i = 0; i < x.numel(); i++) x.setDouble(i, r.nextGaussian());
        Tensor y = Tensor.zeros(DType.INT64, 64);
        for (int i = 0; i < 64; i++) y.setLong(i, r.nextInt(10));
        Trainer trainer = trainer(model, "cross-entropy", 8, x, y);
        long params = trainer.state().layout().size(), perStep = bytesPerStep(trainer);
        assertTrue(perStep < LIMIT && perStep < params * 4 / 8,
                "a step allocated " + perStep + " bytes; the parameters are " + params * 4 + " bytes");
    }

    /**
     * The model output is not copied out of the arena each step (nothing in a step reads it): a linear layer whose
     * output, 64 x 1024 floats, is 256 KiB, with an MSE loss. When the trainer ran the step graph with the model
     * output among its outputs, the transformer encoder layer's step allocated 283 KB, 196 KB of them that copy.
     */
    @Test
    void theModelOutputIsNotCopiedOutEveryStep() {
        int batch = 64, in = 32, out = 1024;
        Random r = new Random(6);
        GraphBuilder g = Graph.builder("wide");
        Value xv = g.input("x", DType.FLOAT32, "batch", in);
        Value w = g.initializer("w", random(r, 0.1, in, out));
        Value b = g.initializer("b", random(r, 0.1, out));
        g.output(g.add(g.matmul(xv, w), b));
        Tensor x = random(r, 1, 256, in), y = random(r, 1, 256, out);
        Trainer trainer = trainer(g.buildModel(), "mse", batch, x, y);
        long perStep = bytesPerStep(trainer);
        assertTrue(perStep < LIMIT, "a step allocated " + perStep + " bytes; the model output is "
                + (long) batch * out * 4 + " bytes");
    }

    private static Tensor random(Random r, double scale, long... shape) {
        Tensor t = Tensor.zeros(DType.FLOAT32, shape);
        for (int i = 0; i < t.numel(); i++) t.setDouble(i, scale * r.nextGaussian());
        return t;
    }

    private static Trainer trainer(Model model, String loss, int batch, Tensor x, Tensor y) {
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("x", x);
        arrays.put("y", y);
        TrainConfig config = new TrainConfig(model.graph().outputs().getFirst().name(), LossKind.parse(loss),
                Long.MIN_VALUE, name -> true, Optimizers.create("adam", null, null, null, null, null, null),
                LrSchedule.constant(1e-3), 0, batch, Long.MAX_VALUE / 2, true, 1, "cpu", null, null, 0, false);
        return new Trainer(model, "test", config, arrays, Map.of("x", "x"), "y");
    }

    /**
     * Heap bytes a step allocates on this thread, the best window of 200 steps. Until the JIT has compiled the Vector
     * API loops, their interpreted and C1 forms box every vector: so the steps are measured in windows of 200 until
     * one window is under the limit, for at most a minute.
     */
    private static long bytesPerStep(Trainer trainer) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long deadline = System.nanoTime() + 60_000_000_000L;
        long[] window = {0, Long.MAX_VALUE}; // allocated bytes at the window's start; best bytes per step seen
        class Done extends RuntimeException {
            Done() { super(null, null, false, false); }
        }
        try {
            trainer.run((step, steps, loss, lr) -> {
                if (step % 200 == 0) {
                    long now = threads.getCurrentThreadAllocatedBytes();
                    if (step > 200) window[1] = Math.min(window[1], (now - window[0]) / 200);
                    window[0] = now;
                    if (window[1] < LIMIT || System.nanoTime() > deadline) throw new Done();
                }
            });
        } catch (Done expected) {
            // measured
        }
        assertTrue(trainer.ranBound(), "the cpu backend should bind the parameters and gradients");
        return window[1];
    }
}
