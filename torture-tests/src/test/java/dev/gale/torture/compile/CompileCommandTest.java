package dev.gale.torture.compile;

import dev.gale.backends.interp.Interpreter;
import dev.gale.cli.Gale;
import dev.gale.cli.Pipelines;
import dev.gale.cli.conformance.Allclose;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.text.TextParser;
import dev.gale.onnx.OnnxTensors;
import dev.gale.passes.pipeline.Pass;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.passes.pipeline.Property;
import dev.gale.torture.PyTorchModelsTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** {@code gale compile}: deterministic output, the report's keys, dumps, memory plan artifacts and bad input. */
class CompileCommandTest {
    static final Path MLP = PyTorchModelsTest.model("mlp").resolve("model.onnx");

    record Result(int code, String out, String err) {}

    static Result gale(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Gale.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static Result ok(String... args) {
        Result r = gale(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    /** A stand-in for memory planning: leaves a plan artifact and records a figure, changes nothing. */
    record FakePlan(long plannedBytes, List<Slot> slots, Map<String, Long> offsets) {}

    record Slot(String value, long offset, long bytes) {}

    @BeforeAll
    static void registerFakePlanner() {
        if (PassRegistry.names().contains("test-memory-plan")) return;
        PassRegistry.register("test-memory-plan", () -> new Pass() {
            @Override
            public String name() { return "test-memory-plan"; }

            @Override
            public Graph run(Graph g, PassContext ctx) {
                Map<String, Long> offsets = new java.util.HashMap<>(); // unordered on purpose: the writer sorts
                offsets.put("zeta", 64L);
                offsets.put("alpha", 0L);
                ctx.put(Pipelines.MEMORY_PLAN, new FakePlan(4096, List.of(new Slot("h", 0, 64)), offsets));
                return g;
            }
        });
    }

    /** Every file under a folder, by relative path, with its bytes. */
    static Map<String, byte[]> tree(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    static void assertSameTree(Map<String, byte[]> a, Map<String, byte[]> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), k + " differs between the two runs");
    }

    @Test
    void twoRunsWriteTheSameBytes(@TempDir Path tmp) throws IOException {
        // the default pipeline, whatever passes it has by now, then the fake planner's plan
        List<String[]> variants = List.of(new String[] {"--dump-after", "all", "--batch-size", "4"},
                new String[] {"--dump-after", "all", "--batch-size", "4", "--pipeline", "lower-gradient,test-memory-plan"});
        for (String[] common : variants) for (boolean train : new boolean[] {false, true}) {
            String v = train + "-" + common.length;
            Path a = tmp.resolve("a" + v), b = tmp.resolve("b" + v);
            for (Path out : List.of(a, b)) {
                List<String> args = new java.util.ArrayList<>(List.of("compile", MLP.toString(), "-o", out.toString()));
                args.addAll(List.of(common));
                if (train) args.addAll(List.of("--train", "--loss", "cross-entropy", "--optimizer", "adam"));
                ok(args.toArray(String[]::new));
            }
            Map<String, byte[]> ta = tree(a);
            assertTrue(ta.containsKey("kernels.gir") && ta.containsKey("manifest.json"), ta.keySet().toString());
            if (common.length > 4) assertTrue(ta.containsKey("memory-plan.json"), ta.keySet().toString());
            assertSameTree(ta, tree(b));
            // the same folder again: still the same bytes
            List<String> again = new java.util.ArrayList<>(List.of("compile", MLP.toString(), "-o", a.toString()));
            again.addAll(List.of(common));
            if (train) again.addAll(List.of("--train", "--loss", "cross-entropy", "--optimizer", "adam"));
            ok(again.toArray(String[]::new));
            assertSameTree(ta, tree(a));
        }
    }

    @Test
    void theDefaultPipelineRunsAndTheReportHasItsKeys(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out"), report = tmp.resolve("report.json");
        Result r = ok("compile", MLP.toString(), "-o", out.toString(), "--report", report.toString(), "--batch-size", "2");
        assertTrue(r.out().contains("compiled model.onnx (inference, batch 2)"), r.out());
        @SuppressWarnings("unchecked")
        Map<String, Object> rep = (Map<String, Object>) JsonReader.parse(Files.readString(report));
        for (String k : List.of("passes", "kernels", "memory", "compile_ms")) assertTrue(rep.containsKey(k), k + " in " + rep);
        List<?> passes = (List<?>) rep.get("passes");
        List<String> standard = Pipelines.standard(false).passes().stream().map(Pass::name).toList();
        assertEquals(standard.size(), passes.size());
        for (int i = 0; i < passes.size(); i++) {
            Map<?, ?> p = (Map<?, ?>) passes.get(i);
            assertEquals(standard.get(i), p.get("name"));
            for (String k : List.of("ms", "nodes_before", "nodes_after")) assertInstanceOf(Double.class, p.get(k), k);
        }
        Map<?, ?> kernels = (Map<?, ?>) rep.get("kernels");
        assertInstanceOf(Double.class, kernels.get("before"));
        assertInstanceOf(Double.class, kernels.get("after"));
        Map<?, ?> memory = (Map<?, ?>) rep.get("memory");
        for (String k : List.of("naive_bytes", "lower_bound_bytes", "planned_bytes", "remat_extra_flops"))
            assertTrue(memory.containsKey(k), k);
        // static shapes: the figures exist
        double naive = (Double) memory.get("naive_bytes"), lower = (Double) memory.get("lower_bound_bytes");
        assertTrue(0 < lower && lower <= naive, memory.toString());
        assertEquals(Files.exists(out.resolve("memory-plan.json")), Pipelines.standard(false).passes().stream()
                .anyMatch(p -> p.establishes().contains(Property.MEMORY_PLANNED)), "a plan exactly when planned");

        @SuppressWarnings("unchecked")
        Map<String, Object> manifest = (Map<String, Object>) JsonReader.parse(Files.readString(out.resolve("manifest.json")));
        assertEquals(List.of(Map.of("name", "x", "type", "tensor<[2,784],f32>")), manifest.get("inputs"));
        assertEquals(List.of(Map.of("name", "logits", "type", "tensor<[2,10],f32>")), manifest.get("outputs"));
        assertEquals(64, ((String) ((Map<?, ?>) manifest.get("model")).get("sha256")).length());
        assertEquals(standard, manifest.get("pipeline"));
    }

    @Test
    void anyPlanArtifactIsWrittenAsSortedJson(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        ok("compile", MLP.toString(), "-o", out.toString(), "--pipeline", "test-memory-plan");
        Map<?, ?> p = (Map<?, ?>) JsonReader.parse(Files.readString(out.resolve("memory-plan.json")));
        assertEquals(4096.0, p.get("plannedBytes"));
        assertEquals(List.of("alpha", "zeta"), List.copyOf(((Map<?, ?>) p.get("offsets")).keySet()));
        // a later compile without a planner removes the stale plan
        ok("compile", MLP.toString(), "-o", out.toString(), "--pipeline", "lower-gradient");
        assertFalse(Files.exists(out.resolve("memory-plan.json")));
    }

    @Test
    void theMemoryPlanAndItsFiguresReachTheOutput(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out"), report = tmp.resolve("r.json");
        Result compiled = ok("compile", MLP.toString(), "-o", out.toString(), "--train", "--loss", "cross-entropy",
                "--batch-size", "4", "--report", report.toString(), "--memory-budget", "1K");
        Map<?, ?> plan = (Map<?, ?>) JsonReader.parse(Files.readString(out.resolve("memory-plan.json")));
        Map<?, ?> memory = (Map<?, ?>) ((Map<?, ?>) JsonReader.parse(Files.readString(report))).get("memory");
        assertEquals(plan.get("arena_bytes"), memory.get("planned_bytes"), memory.toString());
        assertEquals(plan.get("naive_bytes"), memory.get("naive_bytes"));
        assertEquals(plan.get("lower_bound_bytes"), memory.get("lower_bound_bytes"));
        double planned = (Double) memory.get("planned_bytes"), lower = (Double) memory.get("lower_bound_bytes");
        assertTrue(0 < lower && lower <= planned && planned <= (Double) memory.get("naive_bytes"), memory.toString());
        assertNotNull(memory.get("remat_extra_flops"), "training graphs go through remat");
        assertEquals(1024.0, memory.get("budget_bytes"));
        assertEquals(planned - 1024, memory.get("over_budget_bytes"));
        assertTrue(compiled.out().contains("warning: the plan needs"), compiled.out());
        // a symbolic batch: the default pipeline stops before memory planning and says why
        Result r = ok("compile", MLP.toString(), "-o", tmp.resolve("sym").toString(), "--report", report.toString());
        assertTrue(r.out().contains("give --batch-size"), r.out());
        assertFalse(Files.exists(tmp.resolve("sym/memory-plan.json")));
        memory = (Map<?, ?>) ((Map<?, ?>) JsonReader.parse(Files.readString(report))).get("memory");
        assertNull(memory.get("planned_bytes"));
        assertNull(memory.get("naive_bytes"), "sizes unknown: no estimate");
        // asked for explicitly, memory planning with a symbolic batch is a clear error
        assertOneLineError(gale("compile", MLP.toString(), "-o", tmp.resolve("e").toString(), "--pipeline",
                "schedule,plan-memory"), "--batch-size");
    }

    @Test
    void dumpsAfterOnePassOrAll(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        ok("compile", MLP.toString(), "-o", out.toString(), "--pipeline", "lower-gradient,test-memory-plan,lower-gradient",
                "--dump-after", "lower-gradient", "--inline-weights");
        assertEquals(List.of("dump/01-lower-gradient.gir", "dump/03-lower-gradient.gir", "kernels.gir",
                "manifest.json", "memory-plan.json"), List.copyOf(tree(out).keySet()));
        // the dump reads back (--inline-weights) and equals the compiled graph, since the passes changed nothing
        Model dumped = TextParser.parse(out.resolve("dump/03-lower-gradient.gir"));
        Model kernels = TextParser.parse(out.resolve("kernels.gir"));
        assertEquals(kernels, dumped);
        ok("compile", MLP.toString(), "-o", out.toString(), "--pipeline", "lower-gradient,test-memory-plan",
                "--dump-after", "all");
        assertEquals(List.of("dump/01-lower-gradient.gir", "dump/02-test-memory-plan.gir", "kernels.gir",
                "manifest.json", "memory-plan.json"), List.copyOf(tree(out).keySet()), "old dumps are removed");
    }

    @Test
    void theCompiledModelComputesWhatTheOriginalDoes(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        ok("compile", MLP.toString(), "-o", out.toString(), "--inline-weights");
        Model compiled = TextParser.parse(out.resolve("kernels.gir"));
        Path set = MLP.resolveSibling("test_data_set_0");
        Tensor x = OnnxTensors.readTensor(set.resolve("input_0.pb"));
        Tensor expected = OnnxTensors.readTensor(set.resolve("output_0.pb"));
        Object actual = Interpreter.run(compiled, Map.of("x", x)).get(0);
        assertNull(Allclose.compare(expected, actual, 1e-3, 1e-5));
    }

    @Test
    void trainingManifestRecordsTheOptimizerAndLabels(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        ok("compile", MLP.toString(), "-o", out.toString(), "--train", "--loss", "mse", "--labels", "target",
                "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.1", "--batch-size", "3");
        Map<?, ?> m = (Map<?, ?>) JsonReader.parse(Files.readString(out.resolve("manifest.json")));
        assertEquals("training", m.get("mode"));
        Map<?, ?> options = (Map<?, ?>) m.get("options");
        assertEquals("mse", options.get("loss"));
        assertEquals("target", options.get("labels"));
        Map<?, ?> opt = (Map<?, ?>) options.get("optimizer");
        assertEquals("sgd", opt.get("name"));
        assertEquals(0.1, opt.get("lr"));
        assertEquals(0.9, ((Map<?, ?>) opt.get("hyper_parameters")).get("momentum"));
        List<?> inputs = (List<?>) m.get("inputs");
        assertTrue(inputs.contains(Map.of("name", "target", "type", "tensor<[3,10],f32>")), inputs.toString());
        assertNotNull(m.get("training"));
    }

    @Test
    void theStandardPipelineIsValid() {
        for (boolean training : new boolean[] {false, true}) {
            var p = Pipelines.standard(training);
            p.check(EnumSet.of(Property.TYPED));
            assertEquals("lower-gradient", p.passes().get(0).name());
        }
    }

    static void assertOneLineError(Result r, String expected) {
        assertNotEquals(0, r.code(), r.err());
        assertTrue(r.err().contains(expected), "stderr should mention '" + expected + "': " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void badInputIsOneClearLine(@TempDir Path tmp) throws IOException {
        String o = tmp.resolve("out").toString(), mlp = MLP.toString();
        assertOneLineError(gale("compile", tmp.resolve("nope.onnx").toString(), "-o", o), "no such file");
        assertOneLineError(gale("compile", mlp, "-o", o, "--train"), "--train needs --loss");
        assertOneLineError(gale("compile", mlp, "-o", o, "--loss", "mse"), "--loss needs --train");
        assertOneLineError(gale("compile", mlp, "-o", o, "--optimizer", "adam"), "--optimizer needs --train");
        assertOneLineError(gale("compile", mlp, "-o", o, "--train", "--loss", "hinge"), "unknown loss 'hinge'");
        assertOneLineError(gale("compile", mlp, "-o", o, "--train", "--loss", "mse", "--optimizer", "lion"),
                "unknown optimizer 'lion'");
        assertOneLineError(gale("compile", mlp, "-o", o, "--pipeline", "frobnicate"), "unknown pass 'frobnicate'");
        assertOneLineError(gale("compile", mlp, "-o", o, "--pipeline", ","), "--pipeline names no pass");
        assertOneLineError(gale("compile", mlp, "-o", o, "--dump-after", "nope"), "--dump-after 'nope' is not a pass");
        assertOneLineError(gale("compile", mlp, "-o", o, "--batch-size", "0"), "--batch-size must be positive");
        assertOneLineError(gale("compile", mlp, "-o", o, "--memory-budget", "lots"), "--memory-budget 'lots'");
        assertOneLineError(gale("compile", mlp, "-o", o, "--train", "--loss", "mse", "--labels", "x"),
                "already has a value of that name");
        Path file = tmp.resolve("file");
        Files.writeString(file, "x");
        assertOneLineError(gale("compile", mlp, "-o", file.toString()), "is not a folder");
        Path relu = Path.of("/usr/share/libonnx-testdata/data/node/test_relu/model.onnx");
        if (Files.exists(relu))
            assertOneLineError(gale("compile", relu.toString(), "-o", o, "--batch-size", "2"),
                    "no input of the model has a symbolic first (batch) dimension");
        Path gir = tmp.resolve("bad.gir");
        Files.writeString(gir, "graph @g(%x: tensor<[2],f32>) -> (%y: tensor<[2],f32>) {\n  %y = Frobnicate(%x)\n}\n");
        assertOneLineError(gale("compile", gir.toString(), "-o", o), "unsupported op 'Frobnicate'");
        Path frob = tmp.resolve("frob.onnx");
        Files.write(frob, unknownOpModel());
        assertOneLineError(gale("compile", frob.toString(), "-o", o), "unsupported op 'Frobnicate'");
        Result usage = gale("compile", mlp);
        assertEquals(2, usage.code(), "a missing -o is a usage error");
        assertTrue(usage.err().contains("-o"), usage.err());
        assertFalse(Files.exists(tmp.resolve("out").resolve("kernels.gir")), "nothing written on errors");
    }

    /** An ONNX model whose one node is an op Gale does not know. */
    static byte[] unknownOpModel() {
        var type = ai.onnx.proto.OnnxMl.TypeProto.newBuilder().setTensorType(ai.onnx.proto.OnnxMl.TypeProto.Tensor
                .newBuilder().setElemType(1).setShape(ai.onnx.proto.OnnxMl.TensorShapeProto.newBuilder()
                        .addDim(ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))));
        var graph = ai.onnx.proto.OnnxMl.GraphProto.newBuilder().setName("g")
                .addNode(ai.onnx.proto.OnnxMl.NodeProto.newBuilder().setOpType("Frobnicate").addInput("x").addOutput("y"))
                .addInput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName("x").setType(type))
                .addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName("y").setType(type));
        return ai.onnx.proto.OnnxMl.ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
                .addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .build().toByteArray();
    }

    @Test
    void memoryBudgetSizes(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        ok("compile", MLP.toString(), "-o", out.toString(), "--memory-budget", "64MiB");
        Map<?, ?> m = (Map<?, ?>) JsonReader.parse(Files.readString(out.resolve("manifest.json")));
        assertEquals((double) (64L << 20), ((Map<?, ?>) m.get("options")).get("memory_budget"));
    }
}
