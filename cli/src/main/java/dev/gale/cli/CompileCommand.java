package dev.gale.cli;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextPrinter;
import dev.gale.onnx.AtomicFiles;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.passes.pipeline.PassReport;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;
import dev.gale.train.optim.Optimizer;
import dev.gale.train.optim.Optimizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code gale compile}: loads a model, optionally turns it into a training step, fixes the batch size, runs the pass
 * pipeline and writes the compiled graph ({@code kernels.gir}), the memory plan and a manifest into OUT_DIR.
 * Everything written to OUT_DIR is a function of the input model and the options: the same input gives the same
 * bytes (no times or absolute paths; maps sorted). Times go only to stdout and the {@code --report} file.
 */
@Command(name = "compile", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compile a model: simplify, fuse and plan memory with the pass pipeline, and write the result "
                + "(kernels.gir, memory-plan.json, manifest.json) into OUT_DIR.")
final class CompileCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "An .onnx or .gir file.") Path model;
    @Option(names = "--train", description = "Compile the training step: loss, backward graph and gradients.") boolean train;
    @Option(names = "--loss", paramLabel = "LOSS", description = "With --train: cross-entropy or mse.") String loss;
    @Option(names = "--labels", paramLabel = "NAME", description = "With --train: name of the labels input "
            + "(default " + TrainingProgram.LABELS + ").") String labels;
    @Option(names = "--output", paramLabel = "NAME", description = "With --train: the model output the loss reads "
            + "(default: the first).") String output;
    @Option(names = "--optimizer", paramLabel = "NAME",
            description = "With --train: sgd, adam, adamw or adagrad (recorded in the manifest).")
    String optimizer;
    @Option(names = "--lr", paramLabel = "X", description = "Learning rate recorded with the optimizer.") Double lr;
    @Option(names = "--momentum", paramLabel = "X", description = "Optimizer hyper-parameters, recorded in the "
            + "manifest with PyTorch's defaults for those not given.") Double momentum;
    @Option(names = "--beta1", paramLabel = "X") Double beta1;
    @Option(names = "--beta2", paramLabel = "X") Double beta2;
    @Option(names = "--eps", paramLabel = "X") Double eps;
    @Option(names = "--weight-decay", paramLabel = "X") Double weightDecay;
    @Option(names = "--batch-size", paramLabel = "B", description = "Fix the symbolic batch dimension to B.") Long batchSize;
    @Option(names = {"-o", "--out-dir"}, required = true, paramLabel = "OUT_DIR",
            description = "Output folder (created if missing).") Path outDir;
    @Option(names = "--report", paramLabel = "FILE.json", description = "Write timings, node and kernel counts and "
            + "memory figures as JSON.") Path report;
    @Option(names = "--dump-after", paramLabel = "PASS|all", description = "Write the text IR after that pass (or "
            + "after every pass) to OUT_DIR/dump/NN-PASS.gir.") String dumpAfter;
    @Option(names = "--memory-budget", paramLabel = "BYTES", description = "Memory budget for the planner: bytes, or "
            + "with a suffix K, M, G (KiB, MiB, GiB).") String memoryBudget;
    @Option(names = "--pipeline", paramLabel = "P1,P2,...", description = "Run these passes instead of the default "
            + "pipeline.") String pipelineSpec;
    @Option(names = "--inline-weights", description = "Write every tensor of kernels.gir in full, so it loads again.")
    boolean inlineWeights;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        long t0 = System.nanoTime();
        checkOptions();
        Long budget = memoryBudget == null ? null : parseBytes(memoryBudget);
        Optimizer opt = optimizer == null ? null
                : Optimizers.create(optimizer, momentum, null, beta1, beta2, eps, weightDecay);
        if (!Files.isRegularFile(model)) throw new GaleException(model + ": no such file");
        if (Files.exists(outDir) && !Files.isDirectory(outDir))
            throw new GaleException(outDir + ": exists and is not a folder; -o names the output folder");
        // Hashing a large model costs about as much as loading it: done on the side, streamed.
        CompletableFuture<String> sha256 = CompletableFuture.supplyAsync(() -> sha256(model));
        Model m = ModelFiles.load(model);
        if (batchSize != null) m = m.withGraph(BatchDimension.fix(m.graph(), batchSize));
        TrainingProgram program = null;
        if (train) {
            String out = output != null ? output : m.graph().outputs().get(0).name();
            program = TrainingProgram.build(m.graph(), out, LossKind.parse(loss), n -> true, Long.MIN_VALUE);
            Graph g = program.graph();
            if (labels != null) g = ValueRenamer.rename(g, TrainingProgram.LABELS, labels);
            m = m.withGraph(g);
        }
        // memory planning needs every size: the default pipeline leaves it out while the batch is symbolic
        boolean sized = m.graph().runtimeInputs().stream().allMatch(v -> v.type() instanceof Type.TensorType t
                && t.shape() != null && t.shape().isStatic());
        Pipeline pipeline = pipelineSpec != null ? parsePipeline(pipelineSpec) : Pipelines.standard(train, sized);
        String memoryNote = pipelineSpec == null && !sized
                ? "memory not planned: the inputs have symbolic dimensions (give --batch-size)" : null;
        List<String> passNames = pipeline.passes().stream().map(Pass::name).toList();
        if (dumpAfter != null && !dumpAfter.equals("all") && !passNames.contains(dumpAfter))
            throw new GaleException("--dump-after '" + dumpAfter + "' is not a pass of the pipeline " + passNames
                    + " (or use 'all')");

        Map<String, String> passOptions = new TreeMap<>();
        passOptions.put(Pipelines.TRAINING, Boolean.toString(train));
        if (batchSize != null) passOptions.put(Pipelines.BATCH_SIZE, Long.toString(batchSize));
        if (budget != null) passOptions.put(Pipelines.MEMORY_BUDGET, Long.toString(budget));
        PassContext ctx = new PassContext(passOptions);
        Files.createDirectories(outDir);
        Path dumpDir = outDir.resolve("dump");
        clearDumps(dumpDir);
        PrintOptions print = inlineWeights ? PrintOptions.INLINE : PrintOptions.SUMMARY;
        Model input = m;
        int[] index = {0};
        String[] last = {null};
        Pipeline.Result result;
        try {
            result = pipeline.run(m.graph(), ctx, true, (name, g) -> {
                index[0]++;
                last[0] = name;
                if (dumpAfter != null && (dumpAfter.equals("all") || dumpAfter.equals(name)))
                    write(dumpDir.resolve(String.format(Locale.ROOT, "%02d-%s.gir", index[0], name)),
                            TextPrinter.print(input.withGraph(g), print));
            });
        } catch (GaleException e) {
            if (e.getMessage().startsWith("after pass '") || e.getMessage().startsWith("pipeline [")) throw e;
            throw new GaleException("in pass '" + passNames.get(index[0]) + "': " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalStateException("pass '" + passNames.get(index[0]) + "' failed: " + e, e);
        }
        Model compiled = m.withGraph(result.graph());
        Object plan = ctx.get(Pipelines.MEMORY_PLAN);

        List<String> written = new ArrayList<>();
        write(outDir.resolve("kernels.gir"), TextPrinter.print(compiled, print));
        written.add("kernels.gir");
        Path planFile = outDir.resolve("memory-plan.json");
        if (plan != null) {
            write(planFile, CompileJson.planText(plan));
            written.add("memory-plan.json");
        } else {
            Files.deleteIfExists(planFile); // a plan from an earlier compile into this folder would mislead
        }
        written.add("manifest.json");
        write(outDir.resolve("manifest.json"), Json.write(manifest(join(sha256), passNames, opt, budget, program, compiled,
                written)));

        Map<String, Object> kernels = kernels(input.graph(), compiled.graph());
        Map<String, Object> memory = MemoryFigures.of(ctx, compiled.graph());
        double compileMs = (System.nanoTime() - t0) / 1e6;
        if (report != null) write(report, Json.write(report(result.reports(), kernels, memory, ctx, compileMs)));
        summary(result.reports(), kernels, memory, memoryNote, written, compileMs);
        return 0;
    }

    private void checkOptions() {
        if (!train) {
            for (Object[] o : new Object[][] {{"--loss", loss}, {"--labels", labels}, {"--output", output},
                    {"--optimizer", optimizer}, {"--lr", lr}, {"--momentum", momentum}, {"--beta1", beta1},
                    {"--beta2", beta2}, {"--eps", eps}, {"--weight-decay", weightDecay}})
                if (o[1] != null) throw new GaleException(o[0] + " needs --train");
        } else if (loss == null) {
            throw new GaleException("--train needs --loss (cross-entropy or mse)");
        }
        if (batchSize != null && batchSize <= 0) throw new GaleException("--batch-size must be positive, got " + batchSize);
        if (lr != null && !(lr > 0)) throw new GaleException("--lr must be positive, got " + lr);
        if (labels != null && labels.isBlank()) throw new GaleException("--labels needs a name");
    }

    private static Pipeline parsePipeline(String spec) {
        if (spec.isBlank() || Stream.of(spec.split(",")).allMatch(String::isBlank))
            throw new GaleException("--pipeline names no pass; known passes: " + PassRegistry.names());
        return PassRegistry.parse(spec);
    }

    private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*([KMG](?:i?B)?|B)?", Pattern.CASE_INSENSITIVE);

    /** {@code 1048576}, {@code 1M}, {@code 1MiB}: bytes. */
    static long parseBytes(String s) {
        Matcher m = BYTES.matcher(s.strip());
        if (!m.matches()) throw new GaleException("--memory-budget '" + s + "' is not a size (bytes, or 512K, 64M, 2G)");
        long unit = m.group(2) == null ? 1 : switch (Character.toUpperCase(m.group(2).charAt(0))) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new GaleException("--memory-budget '" + s + "' is too large");
        }
    }

    private Map<String, Object> manifest(String sha256, List<String> passNames, Optimizer opt, Long budget,
                                         TrainingProgram program, Model compiled, List<String> written) {
        Map<String, Object> mf = new LinkedHashMap<>();
        mf.put("format", "gale-compile/1");
        mf.put("gale_version", galeVersion());
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("file", model.getFileName().toString());
        source.put("sha256", sha256);
        mf.put("model", source);
        mf.put("mode", train ? "training" : "inference");
        mf.put("pipeline", passNames);
        Map<String, Object> options = new TreeMap<>();
        options.put("batch_size", batchSize);
        options.put("memory_budget", budget);
        options.put("inline_weights", inlineWeights);
        if (train) {
            options.put("loss", LossKind.parse(loss).cliName());
            options.put("labels", labels != null ? labels : TrainingProgram.LABELS);
            options.put("output", program.output());
            if (opt != null) {
                Map<String, Object> o = new TreeMap<>();
                o.put("name", opt.name());
                o.put("lr", lr != null ? lr : 1e-3);
                o.put("hyper_parameters", new TreeMap<>(opt.hyperParameters()));
                options.put("optimizer", o);
            } else {
                options.put("optimizer", null);
            }
        }
        mf.put("options", options);
        mf.put("inputs", values(compiled.graph().runtimeInputs()));
        mf.put("outputs", values(compiled.graph().outputs()));
        if (program != null) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("params", program.params());
            t.put("gradients", program.gradients());
            t.put("state_updates", new TreeMap<>(program.stateUpdates()));
            mf.put("training", t);
        }
        mf.put("files", written);
        return mf;
    }

    private static List<Object> values(List<Value> vs) {
        List<Object> r = new ArrayList<>();
        for (Value v : vs) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", v.name());
            e.put("type", TextPrinter.type(v.type()));
            r.add(e);
        }
        return r;
    }

    /** Node count before the pipeline; after it, fused kernels ({@code gale::Kernel}) plus the remaining nodes. */
    static Map<String, Object> kernels(Graph before, Graph after) {
        long fused = after.nodes().stream().filter(CompileCommand::isKernel).count();
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("before", before.nodes().size());
        k.put("after", after.nodes().size());
        k.put("fused", fused);
        k.put("plain", after.nodes().size() - fused);
        return k;
    }

    static boolean isKernel(Node n) { return n.domain().equals(GaleOps.DOMAIN) && n.op().equals("Kernel"); }

    private Map<String, Object> report(List<PassReport> passes, Map<String, Object> kernels,
                                       Map<String, Object> memory, PassContext ctx, double compileMs) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.getFileName().toString());
        r.put("mode", train ? "training" : "inference");
        List<Object> ps = new ArrayList<>();
        for (PassReport p : passes) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", p.name());
            e.put("ms", round(p.millis()));
            e.put("nodes_before", p.nodesBefore());
            e.put("nodes_after", p.nodesAfter());
            ps.add(e);
        }
        r.put("passes", ps);
        r.put("counters", new TreeMap<>(ctx.counters()));
        r.put("kernels", kernels);
        r.put("memory", memory);
        r.put("compile_ms", round(compileMs));
        return r;
    }

    private static double round(double ms) { return Math.round(ms * 1000) / 1000.0; }

    private void summary(List<PassReport> passes, Map<String, Object> kernels, Map<String, Object> memory,
                         String memoryNote, List<String> written, double compileMs) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("compiled %s (%s%s) into %s in %.0f ms%n", model.getFileName(), train ? "training" : "inference",
                batchSize != null ? ", batch " + batchSize : "", outDir, compileMs);
        int w = Math.max(4, passes.stream().mapToInt(p -> p.name().length()).max().orElse(4));
        out.printf("  %-" + w + "s %10s  %s%n", "pass", "ms", "nodes");
        for (PassReport p : passes)
            out.printf(Locale.ROOT, "  %-" + w + "s %10.1f  %d -> %d%n", p.name(), p.millis(), p.nodesBefore(),
                    p.nodesAfter());
        out.printf("  kernels: %s nodes -> %s fused kernels + %s other nodes%n", kernels.get("before"),
                kernels.get("fused"), kernels.get("plain"));
        out.printf("  memory: naive %s, lower bound %s, planned %s%s%n", size(memory.get("naive_bytes")),
                size(memory.get("lower_bound_bytes")), size(memory.get("planned_bytes")),
                memory.get("remat_extra_flops") instanceof Long f && f > 0 ? " (rematerialization: +" + f + " flops)" : "");
        if (memoryNote != null) out.println("  " + memoryNote);
        if (memory.get("over_budget_bytes") instanceof Long over && over > 0)
            out.printf("  warning: the plan needs %s more than the memory budget of %s%n", size(over),
                    size(memory.get("budget_bytes")));
        out.printf("  wrote %s%s%n", String.join(", ", written), report != null ? "; report " + report : "");
        out.flush();
    }

    private static String size(Object bytes) {
        if (!(bytes instanceof Number n)) return "-";
        double b = n.doubleValue();
        if (b < 1024) return n.longValue() + " B";
        if (b < 1 << 20) return String.format(Locale.ROOT, "%.1f KiB", b / 1024);
        if (b < 1 << 30) return String.format(Locale.ROOT, "%.1f MiB", b / (1 << 20));
        return String.format(Locale.ROOT, "%.2f GiB", b / (1 << 30));
    }

    private static void write(Path file, String text) { AtomicFiles.write(file, text.getBytes(StandardCharsets.UTF_8)); }

    /** Removes dumps of an earlier compile into the same folder, so the folder shows this run only. */
    private static void clearDumps(Path dumpDir) throws IOException {
        if (!Files.isDirectory(dumpDir)) return;
        try (Stream<Path> s = Files.list(dumpDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".gir")).toList()) Files.delete(p);
        }
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String join(CompletableFuture<String> f) {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    static String galeVersion() {
        Properties p = new Properties();
        try (InputStream in = CompileCommand.class.getResourceAsStream("/gale-version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }
}
