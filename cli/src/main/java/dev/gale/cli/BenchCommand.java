package dev.gale.cli;

import dev.gale.cli.bench.Bench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gale bench}: Gale against ONNX Runtime (forward) and PyTorch (training step, peak memory), side by side. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure Gale against the peers its users would pick instead, in one run: forward latency "
                + "against ONNX Runtime, training-step time (forward, backward, Adam) and peak resident memory against "
                + "PyTorch, on the same model, inputs and thread count. Each line prints the median and spread of "
                + "both sides and of their ratio (Gale / peer, above 1: Gale slower), taken over runs that alternate "
                + "between the sides.",
                "Models are exported by scripts/export_bench_models.py into --models-dir on first use."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--models", split = ",", paramLabel = "NAME",
            description = "mlp, mlp-large, cnn, transformer, minilm, resnet18 (default: all).") List<String> models;
    @Option(names = "--threads", defaultValue = "2", description = "Threads for every side (default ${DEFAULT-VALUE}): "
            + "ONNX Runtime's intra-op threads, torch.set_num_threads, and -XX:ActiveProcessorCount and -Dgale.threads "
            + "for Gale's worker JVMs (the interp backend runs on one thread).")
    int threads;
    @Option(names = "--runs", defaultValue = "10", description = "Timed runs per side (default ${DEFAULT-VALUE}); a run "
            + "is a block of steps back to back (see --run-ms), reported as time per step.") int runs;
    @Option(names = "--run-ms", defaultValue = "200", paramLabel = "MS",
            description = "About how long one timed run lasts (default ${DEFAULT-VALUE}): the warmup calibrates how many "
                    + "steps that is for each side.") double runMillis;
    @Option(names = "--warmup", defaultValue = "3", description = "Untimed runs per side first, at least "
            + "(default ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--warmup-seconds", defaultValue = "3", paramLabel = "S", description = "Untimed steps per side "
            + "first for at least this long (default ${DEFAULT-VALUE}), so that Gale's JIT has compiled its loops.")
    double warmupSeconds;
    @Option(names = "--backend", defaultValue = "cpu", description = "Gale backend (default ${DEFAULT-VALUE}).") String backend;
    @Option(names = "--report", paramLabel = "FILE.json", description = "Also write every measurement as JSON.") Path report;
    @Option(names = "--models-dir", paramLabel = "DIR",
            description = "Where the exported models live (default ~/.cache/gale/bench-models).") Path modelsDir;
    @Option(names = "--scripts", paramLabel = "DIR", description = "Gale's scripts folder (default: found from the jar).")
    Path scripts;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Bench.run(new Bench.Options(models, threads, runs, warmup, backend, report, modelsDir, scripts,
                warmupSeconds, runMillis),
                spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
