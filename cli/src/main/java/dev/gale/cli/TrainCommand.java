package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.io.Npz;
import dev.gale.onnx.OnnxWeights;
import dev.gale.train.LossKind;
import dev.gale.train.TrainConfig;
import dev.gale.train.Trainer;
import dev.gale.train.optim.LrSchedule;
import dev.gale.train.optim.Optimizer;
import dev.gale.train.optim.Optimizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** {@code gale train}: trains an ONNX model's initializers on an .npz data set and writes the trained model. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a model (its output are logits or predictions) on arrays from an .npz file and write the "
                + "model with trained weights as ONNX. Optimizer defaults are PyTorch's.")
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL.onnx") Path model;
    @Option(names = "--data", required = true, paramLabel = "DATA.npz", description = "numpy .npz with the arrays.") Path data;
    @Option(names = "--feed", required = true, split = ",", paramLabel = "INPUT=ARRAY",
            description = "Which array feeds which model input.") List<String> feed;
    @Option(names = "--labels", required = true, paramLabel = "ARRAY", description = "Array of labels / targets.") String labels;
    @Option(names = "--loss", required = true, description = "cross-entropy or mse.") String loss;
    @Option(names = "--optimizer", required = true, description = "sgd, adam, adamw or adagrad.") String optimizer;
    @Option(names = "--lr", defaultValue = "1e-3", description = "Learning rate (default ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--momentum", description = "SGD momentum (default 0).") Double momentum;
    @Option(names = "--nesterov", description = "Nesterov momentum for SGD.") boolean nesterov;
    @Option(names = "--beta1", description = "Adam beta1 (default 0.9).") Double beta1;
    @Option(names = "--beta2", description = "Adam beta2 (default 0.999).") Double beta2;
    @Option(names = "--eps", description = "Epsilon (default 1e-8; Adagrad 1e-10).") Double eps;
    @Option(names = "--weight-decay", description = "Weight decay (default 0; AdamW 1e-2).") Double weightDecay;
    @Option(names = "--clip-grad-norm", defaultValue = "0", paramLabel = "X",
            description = "Clip gradients to this global L2 norm (0: off).") double clip;
    @Option(names = "--lr-schedule", defaultValue = "constant",
            description = "constant, linear-warmup or cosine (default ${DEFAULT-VALUE}).") String schedule;
    @Option(names = "--warmup-steps", defaultValue = "0") long warmup;
    @Option(names = "--batch-size", required = true, paramLabel = "B") int batchSize;
    @Option(names = "--steps", required = true, paramLabel = "N") long steps;
    @Option(names = "--no-shuffle", description = "Step s uses rows (s*B + i) mod n.") boolean noShuffle;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--backend", defaultValue = "cpu", description = "cpu (default) or interp (the reference interpreter; with the compiled step in one planned arena).") String backend;
    @Option(names = "--output", paramLabel = "NAME", description = "Model output the loss reads (default: the first).") String output;
    @Option(names = "--ignore-index", paramLabel = "N", description = "Cross-entropy label to ignore.") Long ignoreIndex;
    @Option(names = "--freeze", split = ",", paramLabel = "NAME|REGEX",
            description = "Initializers to keep fixed: names, or regular expressions matching whole names.") List<String> freeze;
    @Option(names = "--loss-log", paramLabel = "FILE.csv") Path lossLog;
    @Option(names = "--checkpoint-dir", paramLabel = "DIR") Path checkpointDir;
    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "K") long checkpointEvery;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from the newest checkpoint in DIR.") Path resume;
    @Option(names = "--out", required = true, paramLabel = "TRAINED.onnx") Path out;
    @Option(names = "--no-compile", description = "Run the training step as built, without the compile pipeline "
            + "(simplify, fuse, partition, schedule, plan memory) that interp runs it through by default (the cpu "
            + "backend compiles the step its own way).") boolean noCompile;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (steps <= 0) throw new GaleException("--steps must be positive, got " + steps);
        if (checkpointEvery > 0 && checkpointDir == null && resume == null)
            throw new GaleException("--checkpoint-every needs --checkpoint-dir");
        if (resume != null && checkpointDir != null && !resume.equals(checkpointDir))
            throw new GaleException("--resume and --checkpoint-dir name different folders");
        Path ckptDir = resume != null ? resume : checkpointDir;
        if (!Files.isRegularFile(model)) throw new GaleException(model + ": no such file");
        String modelHash = sha256(model); // streamed: the file's bytes are not kept while training
        Model m = ModelFiles.load(model);
        Map<String, Tensor> arrays = Npz.read(data);
        Map<String, String> feeds = new LinkedHashMap<>();
        for (String f : feed) {
            int eq = f.indexOf('=');
            if (eq <= 0 || eq == f.length() - 1) throw new GaleException("--feed '" + f + "' must be INPUT=ARRAY");
            feeds.put(f.substring(0, eq), f.substring(eq + 1));
        }
        Optimizer opt = Optimizers.create(optimizer, momentum, nesterov, beta1, beta2, eps, weightDecay);
        String outName = output != null ? output : m.graph().outputs().get(0).name();
        TrainConfig config = new TrainConfig(outName, LossKind.parse(loss),
                ignoreIndex == null ? Long.MIN_VALUE : ignoreIndex, trainable(m.graph().initializers().keySet()), opt,
                new LrSchedule(schedule, lr, warmup, steps, 0), clip, batchSize, steps, !noShuffle, seed, backend,
                lossLog, ckptDir, checkpointEvery, resume != null, noCompile ? null : Pipelines.standard(true));
        Trainer trainer = new Trainer(m, modelHash,
                config, arrays, feeds, labels);
        m = null; // the trainer holds the weights in its state; the imported copy can go
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf("training %d parameters (%d tensors) of %s with %s, %d steps of batch %d on %s%n",
                trainer.state().layout().slots().stream().mapToLong(s -> s.numel()).sum(),
                trainer.program().params().size(), model.getFileName(), opt.name(), steps, batchSize, backend);
        if (trainer.compiled() != null) {
            var c = trainer.compiled();
            stdout.printf(java.util.Locale.ROOT, "compiled the training step in %.0f ms: %d nodes -> %d fused kernels"
                            + " + %d other nodes%s%n", c.millis(), trainer.program().graph().nodes().size(),
                    c.kernels(), c.graph().nodes().size() - c.kernels(), c.plan() == null ? ""
                            : ", arena " + c.plan().arenaBytes() + " bytes");
        }
        ProgressPrinter progress = new ProgressPrinter(System.console() != null && System.console().isTerminal(),
                err, stdout);
        List<Double> losses = trainer.run(progress);
        progress.done();
        OnnxWeights.writeWithInitializers(model, out, trainer.trainedInitializers());
        if (!losses.isEmpty() && trainer.ranBound())
            stdout.println("parameters and gradients stayed in the backend's memory: no copies per step");
        FallbackNote.print(stdout, backend, trainer.fallbackOps());
        if (!losses.isEmpty()) stdout.printf("final loss %.6f; trained model written to %s%n", losses.getLast(), out);
        else stdout.printf("nothing left to train (already at step %d); model written to %s%n", steps, out);
        return 0;
    }

    private static String sha256(java.nio.file.Path file) throws java.io.IOException {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private Predicate<String> trainable(Set<String> names) {
        if (freeze == null || freeze.isEmpty()) return n -> true;
        java.util.Set<String> frozen = new java.util.HashSet<>();
        for (String f : freeze) {
            if (names.contains(f)) {
                frozen.add(f);
                continue;
            }
            Pattern p;
            try {
                p = Pattern.compile(f);
            } catch (PatternSyntaxException e) {
                throw new GaleException("--freeze '" + f + "' is neither an initializer name nor a valid regular expression");
            }
            List<String> hits = names.stream().filter(n -> p.matcher(n).matches()).toList();
            if (hits.isEmpty()) throw new GaleException("--freeze '" + f + "' matches no initializer of the model");
            frozen.addAll(hits);
        }
        return n -> !frozen.contains(n);
    }
}
