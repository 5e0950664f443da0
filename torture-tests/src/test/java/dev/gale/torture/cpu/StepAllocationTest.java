package dev.gale.torture.cpu;

import dev.gale.ir.DType;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
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
        int batch = 8;
        Random r = new Random(5);
        Tensor x = Tensor.zeros(DType.FLOAT32, 64, 784);
        for (int i = 0; i < x.numel(); i++) x.setDouble(i, r.nextGaussian());
        Tensor y = Tensor.zeros(DType.INT64, 64);
        for (int i = 0; i < 64; i++) y.setLong(i, r.nextInt(10));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("x", x);
        arrays.put("y", y);
        TrainConfig config = new TrainConfig(model.graph().outputs().getFirst().name(), LossKind.parse("cross-entropy"),
                Long.MIN_VALUE, name -> true, Optimizers.create("adam", null, null, null, null, null, null),
                LrSchedule.constant(1e-3), 0, batch, Long.MAX_VALUE / 2, true, 1, "cpu", null, null, 0, false);
        Trainer trainer = new Trainer(model, "test", config, arrays, Map.of("x", "x"), "y");
        long params = trainer.state().layout().size();
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // Until the JIT has compiled the Vector API loops, their interpreted and C1 forms box every vector: so the
        // steps are measured in windows of 200 until one window is clean, for at most a minute.
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
        long perStep = window[1];
        assertTrue(perStep < LIMIT && perStep < params * 4 / 8,
                "a step allocated " + perStep + " bytes; the parameters are "
                        + params * 4 + " bytes");
    }
}
