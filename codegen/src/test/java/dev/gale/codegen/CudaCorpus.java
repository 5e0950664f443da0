package dev.gale.codegen;

import dev.gale.backends.interp.Interpreter;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.KernelPrinter;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.codegen.render.CudaRenderer;
import dev.gale.codegen.render.GpuRenderer;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.io.Npz;
import dev.gale.onnx.OnnxImporter;
import dev.gale.passes.fuse.FusePatterns;
import dev.gale.passes.partition.Partition;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.Pipeline;
import dev.gale.passes.simplify.Simplify;
import dev.gale.train.LossKind;
import dev.gale.train.TrainingProgram;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Writes a corpus for running the CUDA renderer's kernels on a GPU ({@code scripts/gpu/run_cuda_corpus.py}, which
 * needs only Python, NumPy and CuPy there): the golden kernels, random bodies ({@link RandomBodies}, as
 * {@link DifferentialTest} makes them) and, where the test models are present, the kernels that partitioning makes of
 * the PyTorch MLP, CNN and transformer (as {@link ModelKernelsTest} does). Each case is a kernel with its sizes bound,
 * random inputs and the reference interpreter's outputs.
 *
 * <p>Layout: {@code manifest.json} lists the cases; {@code kernels/<kernel>.cu} (and {@code .kir}, for reading) holds
 * each kernel's source; {@code data/<case>.npz} holds one flat array per buffer, named as the buffer: an input's
 * values, an output's expected values. A case's {@code args} is the exact argument list of every function of the
 * kernel (buffers as pointers, {@code <buffer>_off} and sizes as {@code int}); {@code launches} are the functions in
 * the order they must run, each with the threads it needs ({@link GpuRenderer#gridSize}). Some cases place buffers
 * at a non-zero element offset: the runner allocates that many leading elements before the buffer.
 *
 * <p>Usage: {@code CudaCorpus OUT_DIR [RANDOM_BODIES]} (300 random bodies by default); see
 * {@code scripts/cuda-corpus.sh}.
 */
public final class CudaCorpus {
    /** Cases whose inputs and outputs together take more bytes are left out, to keep the corpus small. */
    private static final long MAX_CASE_BYTES = 1 << 20;

    private record Case(String name, String group, String kernelFile, KernelIR kernel, List<Tensor> inputs,
                        List<Tensor> expected, boolean offsets, double rtol, double atol) {}

    private final Path out;
    private final StringBuilder manifest = new StringBuilder();
    private int cases, skipped;
    private long bytes;

    private CudaCorpus(Path out) { this.out = out; }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: CudaCorpus OUT_DIR [RANDOM_BODIES]");
            System.exit(2);
        }
        int random = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        new CudaCorpus(Path.of(args[0])).write(random, true);
    }

    /** Writes a corpus of the golden kernels, {@code random} random bodies and, with {@code models}, model kernels. */
    static void write(Path out, int random, boolean models) throws Exception {
        new CudaCorpus(out).write(random, models);
    }

    private void write(int random, boolean models) throws Exception {
        Files.createDirectories(out.resolve("kernels"));
        Files.createDirectories(out.resolve("data"));
        manifest.append("{\n  \"version\": 1,\n  \"block\": 256,\n  \"launch\": \"each function of launches in order, ")
                .append("threads threads in blocks of any size (grid = ceil(threads / block)); threads past the end ")
                .append("return at once\",\n  \"cases\": [");
        golden();
        randomBodies(random);
        for (String model : models ? List.of("mlp", "cnn", "transformer") : List.<String>of())
            for (boolean training : new boolean[] {false, true}) modelKernels(model, training);
        manifest.append("\n  ]\n}\n");
        Files.writeString(out.resolve("manifest.json"), manifest);
        System.out.printf("CUDA corpus: %d cases (%d left out), %.1f MB of arrays, in %s%n", cases, skipped,
                bytes / 1e6, out);
    }

    /** Every golden body at its symbolic sizes 1, 37 and 300 (1 without offsets), or twice when it has none. */
    private void golden() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(GoldenKernelTest.goldenDir())) {
            files = s.filter(p -> p.toString().endsWith(".gir")).sorted().toList();
        }
        for (Path gir : files) {
            String name = gir.getFileName().toString().replace(".gir", "");
            Graph body = KernelTesting.parse(Files.readString(gir), name);
            KernelIR k = KernelTesting.lower(body);
            String file = source("golden_" + name, k);
            List<String> symbols = new ArrayList<>();
            for (Value v : body.inputs())
                if (v.type() instanceof Type.TensorType t && t.shape() != null)
                    for (Dim d : t.shape().dims())
                        if (d instanceof Dim.Sym s && !symbols.contains(s.name())) symbols.add(s.name());
            long[] values = symbols.isEmpty() ? new long[] {0, 0} : new long[] {1, 37, 300};
            Random rnd = new Random(42);
            for (int b = 0; b < values.length; b++) {
                Map<String, Long> sizes = new HashMap<>();
                for (String s : symbols) sizes.put(s, values[b]);
                List<Tensor> in = KernelTesting.randomInputs(body, sizes, rnd);
                String label = symbols.isEmpty() ? (b == 0 ? "" : "_off") : "_" + String.join("_", symbols) + values[b];
                boolean offsets = b > 0;
                add(() -> new Case("golden_" + name + label, "golden", file, k, in, KernelTesting.interpret(body, in),
                        offsets, 1e-4, 1e-6));
            }
        }
    }

    /** Random bodies at n = 1 and n = 6 with DifferentialTest's inputs; the second binding at non-zero offsets. */
    private void randomBodies(int count) throws Exception {
        for (int seed = 0; seed < count; seed++) {
            String name = "rand" + seed;
            Graph body = KernelTesting.parse(RandomBodies.generate(seed, name), name);
            KernelIR k = KernelTesting.lower(body);
            String file = source(name, k);
            Random rnd = new Random(seed);
            for (long n : new long[] {1, 6}) {
                List<Tensor> in = KernelTesting.randomInputs(body, Map.of("n", n), rnd);
                add(() -> new Case(name + "_n" + n, "random", file, k, in, KernelTesting.interpret(body, in), n > 1,
                        1e-3, 1e-5));
            }
        }
    }

    /** The lowerable kernels of a test model, on the values the interpreter fed them; odd-numbered ones at offsets. */
    private void modelKernels(String name, boolean training) throws Exception {
        Path dir = ModelKernelsTest.model(name);
        if (!Files.isDirectory(dir)) {
            System.err.println("CUDA corpus: " + dir + " is missing; no " + name + " kernels");
            return;
        }
        Model forward = OnnxImporter.load(dir.resolve("model.onnx"));
        Map<String, Object> feeds = ModelKernelsTest.feeds(forward.graph(), dir.resolve("test_data_set_0"));
        Graph g = forward.graph();
        if (training) {
            g = TrainingProgram.build(g, "logits", LossKind.CROSS_ENTROPY, n -> true, Long.MIN_VALUE).graph();
            long[] shape = ((Tensor) new Interpreter(forward).run(feeds).get(0)).shape();
            for (Value v : g.runtimeInputs())
                if (forward.graph().initializers().containsKey(v.name()))
                    feeds.put(v.name(), forward.graph().initializers().get(v.name()));
            feeds.put(TrainingProgram.LABELS, ModelKernelsTest.labels(shape));
        }
        Graph partitioned = new Pipeline(List.of(new Simplify(), new FusePatterns(), new Partition()))
                .run(g, PassContext.defaults(), false, null).graph();
        Map<String, Object> values = new HashMap<>(partitioned.initializers());
        values.putAll(feeds);
        Interpreter interp = new Interpreter(forward.withGraph(partitioned));
        interp.setListener((node, outs) -> {
            for (int i = 0; i < Math.min(outs.size(), node.outputs().size()); i++)
                if (!node.outputs().get(i).isNone()) values.put(node.outputs().get(i).name(), outs.get(i));
        });
        interp.run(feeds);
        int index = 0;
        for (Node node : partitioned.nodes()) {
            if (!node.domain().equals("gale") || !node.op().equals("Kernel")) continue;
            if (!(KernelLowering.lower(node) instanceof KernelLowering.Lowered(KernelIR k))) continue;
            String caseName = "model_" + name + (training ? "_train_" : "_fwd_") + index++;
            String file = source(caseName, k);
            List<Tensor> in = new ArrayList<>(), expected = new ArrayList<>();
            for (Value v : node.inputs()) in.add((Tensor) values.get(v.name()));
            for (Value v : node.outputs()) expected.add((Tensor) values.get(v.name()));
            boolean offsets = index % 2 == 0;
            add(() -> new Case(caseName, "model", file, k, in, expected, offsets, 1e-3, 1e-5));
        }
    }

    /** Writes the kernel's CUDA source (and its kernel IR, for reading) and returns the source's corpus path. */
    private String source(String file, KernelIR k) throws Exception {
        Files.writeString(out.resolve("kernels").resolve(file + ".kir"), KernelPrinter.print(k));
        Files.writeString(out.resolve("kernels").resolve(file + ".cu"), new CudaRenderer().render(k));
        return "kernels/" + file + ".cu";
    }

    private interface CaseMaker {
        Case make() throws Exception;
    }

    /** Writes one case's arrays and its manifest entry; a case that cannot be made is reported and left out. */
    private void add(CaseMaker maker) throws Exception {
        Case c;
        try {
            c = maker.make();
            check(c);
        } catch (Exception | AssertionError e) {
            System.err.println("CUDA corpus: left out a case: " + e.getMessage());
            skipped++;
            return;
        }
        KernelIR k = c.kernel();
        Map<String, Long> sizes = k.bindSizes(c.inputs());
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        List<KernelIR.Buffer> in = k.inputs(), outs = k.outputs();
        long caseBytes = 0;
        for (int i = 0; i < k.buffers().size(); i++) {
            Tensor t = i < in.size() ? c.inputs().get(i) : c.expected().get(i - in.size());
            arrays.put(k.buffers().get(i).name(), t.reshape(t.numel()));
            caseBytes += (long) t.numel() * t.dtype().byteSize();
        }
        if (caseBytes > MAX_CASE_BYTES) {
            System.err.println("CUDA corpus: left out " + c.name() + ": " + caseBytes + " bytes of arrays");
            skipped++;
            return;
        }
        bytes += caseBytes;
        Files.write(out.resolve("data").resolve(c.name() + ".npz"), Npz.write(arrays));

        StringBuilder buffers = new StringBuilder(), args = new StringBuilder(), launches = new StringBuilder();
        for (int i = 0; i < k.buffers().size(); i++) {
            KernelIR.Buffer b = k.buffers().get(i);
            long[] shape = k.shape(b, sizes);
            long count = 1;
            for (long d : shape) count *= d;
            long offset = c.offsets() ? 3 + 5L * i : 0;
            buffers.append(i > 0 ? ", " : "").append("{\"name\": \"").append(b.name()).append("\", \"dtype\": \"")
                    .append(numpyType(b.type())).append("\", \"output\": ").append(b.output()).append(", \"shape\": ")
                    .append(java.util.Arrays.toString(shape)).append(", \"count\": ").append(count)
                    .append(", \"offset\": ").append(offset).append('}');
            args.append(i > 0 ? ", " : "").append("{\"kind\": \"buffer\", \"name\": \"").append(b.name())
                    .append("\"}, {\"kind\": \"int\", \"name\": \"").append(b.name()).append("_off\", \"value\": ")
                    .append(offset).append('}');
        }
        for (KernelIR.SizeParam s : k.sizes())
            args.append(", {\"kind\": \"int\", \"name\": \"").append(s.name()).append("\", \"value\": ")
                    .append(sizes.get(s.name())).append('}');
        for (int n = 0; n < k.nests().size(); n++) {
            KernelIR.Nest nest = k.nests().get(n);
            launches.append(n > 0 ? ", " : "").append("{\"function\": \"").append(GpuRenderer.functionName(k, n))
                    .append("\", \"threads\": ").append(KernelIR.eval(GpuRenderer.gridSize(nest), sizes))
                    .append(", \"guarded\": true}"); // every nest returns past its grid (one thread without one)
        }
        manifest.append(cases++ > 0 ? "," : "").append("\n    {\"name\": \"").append(c.name())
                .append("\", \"group\": \"").append(c.group()).append("\", \"source\": \"").append(c.kernelFile())
                .append("\", \"data\": \"data/").append(c.name()).append(".npz\", \"rtol\": ").append(c.rtol())
                .append(", \"atol\": ").append(c.atol()).append(",\n     \"buffers\": [").append(buffers)
                .append("],\n     \"args\": [").append(args).append("],\n     \"launches\": [").append(launches)
                .append("]}");
    }

    /** The inputs fit the kernel's buffers, its checks hold, and the interpreter gave one output per output buffer. */
    private static void check(Case c) {
        KernelIR k = c.kernel();
        Map<String, Long> sizes = k.bindSizes(c.inputs());
        String failed = k.failedCheck(sizes);
        if (failed != null) throw new IllegalStateException(c.name() + ": " + failed);
        List<KernelIR.Buffer> in = k.inputs(), outs = k.outputs();
        if (c.inputs().size() != in.size() || c.expected().size() != outs.size())
            throw new IllegalStateException(c.name() + ": " + c.inputs().size() + " inputs and " + c.expected().size()
                    + " outputs for " + in.size() + " and " + outs.size() + " buffers");
        for (int i = 0; i < k.buffers().size(); i++) {
            KernelIR.Buffer b = k.buffers().get(i);
            Tensor t = i < in.size() ? c.inputs().get(i) : c.expected().get(i - in.size());
            if (t == null || t.dtype() != b.type() || !java.util.Arrays.equals(t.shape(), k.shape(b, sizes)))
                throw new IllegalStateException(c.name() + ": buffer " + b.name() + " is " + b.type()
                        + java.util.Arrays.toString(k.shape(b, sizes)) + ", its array "
                        + (t == null ? "missing" : t.dtype() + java.util.Arrays.toString(t.shape())));
        }
    }

    private static String numpyType(DType t) {
        return switch (t) {
            case FLOAT32 -> "float32";
            case FLOAT64 -> "float64";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case BOOL -> "bool";
            default -> throw new IllegalArgumentException("no CUDA buffer type for " + t);
        };
    }
}
