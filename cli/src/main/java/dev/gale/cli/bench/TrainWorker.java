package dev.gale.cli.bench;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npz;
import dev.gale.onnx.OnnxImporter;
import dev.gale.passes.LowerGradientOps;
import dev.gale.train.LossKind;
import dev.gale.train.TrainConfig;
import dev.gale.train.Trainer;
import dev.gale.train.optim.LrSchedule;
import dev.gale.train.optim.Optimizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Child process of {@code gale bench} that times Gale's training steps (forward, backward, Adam update) through
 * {@link Trainer}, exactly as {@code gale train} runs them, on one fixed batch; in its own process so that its
 * peak resident memory is the training run's alone. Speaks the {@link WorkerProcess} protocol: {@code step N}.
 *
 * <p>The trainer drives the loop, so the commands are read between its steps, in the progress callback; a step is
 * timed from the callback's return to its next call (batch assembly, the graph run, gradient copy and optimizer
 * update). The first step also opens the backend session: it belongs in the warmup.
 *
 * <p>Arguments: TRAIN.onnx DATA.npz INPUT[,INPUT...] LOSS BATCH BACKEND
 */
public final class TrainWorker {
    private TrainWorker() {}

    /** Thrown from the progress callback to leave the trainer's loop on {@code quit}. */
    private static final class Quit extends RuntimeException {
        Quit() { super(null, null, false, false); }
    }

    public static void main(String[] args) {
        System.setOut(System.err); // stdout carries the protocol only
        try {
            serve(Path.of(args[0]), Path.of(args[1]), List.of(args[2].split(",")), args[3], Integer.parseInt(args[4]),
                    args[5]);
        } catch (Quit done) {
            System.exit(0);
        } catch (Throwable e) {
            WorkerMain.error(e);
            System.exit(1);
        }
        System.exit(0);
    }

    private static void serve(Path modelFile, Path data, List<String> inputs, String loss, int batch, String backend) {
        Model model = LowerGradientOps.apply(OnnxImporter.load(modelFile));
        Map<String, Tensor> arrays = Npz.read(data);
        Map<String, String> feeds = new LinkedHashMap<>();
        for (String in : inputs) feeds.put(in, in);
        TrainConfig config = new TrainConfig(model.graph().outputs().getFirst().name(), LossKind.parse(loss),
                Long.MIN_VALUE, name -> true, Optimizers.create("adam", null, null, null, null, null, null),
                LrSchedule.constant(1e-3), 0, batch, Long.MAX_VALUE, false, 0, backend, null, null, 0, false);
        Trainer trainer = new Trainer(model, "gale-bench", config, arrays, feeds, "y");
        model = null; // the trainer holds the weights in its state; the imported copy can go
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("backend", backend);
        info.put("parameters", trainer.state().layout().slots().stream().mapToLong(s -> s.numel()).sum());
        info.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
        info.put("rss_kb", WorkerMain.statusKb("VmRSS"));
        WorkerMain.ready(info);

        Clock clock = new Clock();
        clock.await();
        trainer.run((step, steps, lossValue, lr) -> clock.stepDone());
    }

    /** Times the steps of the current command and reads the next one when it is done. */
    private static final class Clock {
        private long[] nanos = new long[0];
        private int done;
        private long start;

        void stepDone() {
            nanos[done++] = System.nanoTime() - start;
            if (done == nanos.length) {
                WorkerMain.times(nanos, done);
                await();
            }
            start = System.nanoTime();
        }

        /** Answers commands until the next {@code step N}; quits at {@code quit} or end of input. */
        void await() {
            try {
                for (String[] cmd; (cmd = WorkerMain.next()) != null; ) {
                    switch (cmd[0]) {
                        case "step" -> {
                            int n = Integer.parseInt(cmd[1]);
                            if (n <= 0) throw new GaleException("step count must be positive");
                            nanos = new long[n];
                            done = 0;
                            WorkerMain.blockStarts();
                            start = System.nanoTime();
                            return;
                        }
                        case "mem" -> WorkerMain.memory();
                        case "quit" -> throw new Quit();
                        default -> WorkerMain.OUT.println("error\tunknown command " + cmd[0]);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new Quit();
        }
    }
}
