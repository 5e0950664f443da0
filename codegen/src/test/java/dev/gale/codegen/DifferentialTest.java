package dev.gale.codegen;

import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.jvm.JvmCompiler;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.KernelPrinter;
import dev.gale.codegen.render.JavaRenderer;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential tests: random kernel bodies ({@link RandomBodies}) lowered, rendered to Java, compiled and run on
 * random inputs must match the reference interpreter running the same body graph.
 */
class DifferentialTest {
    /** How many random bodies; {@code -Dgale.codegen.bodies=N} runs more. */
    static final int BODIES = Integer.getInteger("gale.codegen.bodies", 300);

    /** Kernels big enough to be split across threads (chunks of the outer loop) still match, tails included. */
    @Test
    void largeKernelsSplitAcrossThreads() throws Exception {
        for (String name : List.of("bias_gelu", "softmax", "layernorm_op", "reshape_slice")) {
            Graph body = KernelTesting.parse(java.nio.file.Files.readString(
                    GoldenKernelTest.goldenDir().resolve(name + ".gir")), name);
            KernelIR k = KernelTesting.lower(body);
            Map<String, Long> sizes = Map.of("batch", 211L, "n", 7001L);
            List<Tensor> in = KernelTesting.randomInputs(body, sizes, new Random(3));
            List<Tensor> expected = KernelTesting.interpret(body, in);
            for (var compiler : List.of(GoldenKernelTest.COMPILER, GoldenKernelTest.SEGMENTS)) {
                List<Tensor> actual = compiler.compile(k).parallel(true).run(in);
                for (int o = 0; o < expected.size(); o++)
                    KernelTesting.assertClose(expected.get(o), actual.get(o), 1e-4, 1e-6, name + " output " + o);
            }
        }
    }

    /**
     * Transposes whose output is reshaped with axes merged (attention's heads split and merged), every permutation
     * of rank 3 and 4, a fused elementwise op or a Concat along the merged axis after them (a nest per region), shapes
     * whose innermost run is a whole number of vectors,
     * a part of one, or one element, and a symbolic leading axis: the lowering splits the innermost loop where an
     * index divides it (InnerSplit), and the kernels must still match the interpreter, on arrays and on segments.
     */
    @Test
    void mergedAxesAfterTransposesMatchTheInterpreter() throws Exception {
        int split = 0, cases = 0;
        for (long[] dims : new long[][] {{3, 4, 16}, {2, 5, 7}, {3, 2, 32}, {2, 3, 4, 16}, {2, 2, 3, 5}, {4, 3, 1, 8}}) {
            int r = dims.length;
            for (int[] perm : permutations(r)) {
                long[] t = new long[r];
                for (int k = 0; k < r; k++) t[k] = dims[perm[k]];
                // merge the last two axes of the transposed shape; the leading axis stays symbolic (n)
                StringBuilder in = new StringBuilder(), out = new StringBuilder(), target = new StringBuilder();
                for (int k = 0; k < r; k++) in.append(k > 0 ? "," : "").append(k == perm[0] ? "n" : Long.toString(dims[k]));
                out.append("n");
                for (int k = 1; k < r - 2; k++) out.append(",").append(t[k]);
                out.append(",").append(t[r - 2] * t[r - 1]);
                target.append("0");
                for (int k = 1; k < r - 2; k++) target.append(", ").append(t[k]);
                target.append(", ").append(t[r - 2] * t[r - 1]);
                String head = "  %t = Transpose(%p0) {perm = " + java.util.Arrays.toString(perm) + "}\n"
                        + "  %s = Constant() {value = tensor<[" + (r - 1) + "],i64> [" + target + "]}\n"
                        + "  %m = Reshape(%t, %s)\n";
                String doubled = out.substring(0, out.lastIndexOf(",") + 1) + 2 * t[r - 2] * t[r - 1];
                // alone, and concatenated with its negation along the merged axis (a nest per region of it)
                for (String text : List.of(
                        "graph @merge(%p0: tensor<[" + in + "],f32>) -> (%o0: tensor<[" + out + "],f32>) {\n" + head
                                + "  %o0 = Neg(%m)\n}\n",
                        "graph @merge(%p0: tensor<[" + in + "],f32>) -> (%o0: tensor<[" + doubled + "],f32>) {\n" + head
                                + "  %g = Neg(%m)\n  %o0 = Concat(%m, %g) {axis = " + (r - 2) + "}\n}\n")) {
                    Graph body = KernelTesting.parse(text, "merge");
                    KernelIR k = KernelTesting.lower(body);
                    if (parallelDepth(k) > r - 1) split++;
                    for (long n : new long[] {1, 3}) {
                        List<Tensor> inputs = KernelTesting.randomInputs(body, Map.of("n", n), new Random(n));
                        List<Tensor> expected = KernelTesting.interpret(body, inputs);
                        for (var compiler : List.of(GoldenKernelTest.COMPILER, GoldenKernelTest.SEGMENTS))
                            KernelTesting.assertClose(expected.get(0), compiler.compile(k).parallel(n > 1).run(inputs)
                                    .get(0), 0, 0, text + KernelPrinter.print(k));
                    }
                    cases++;
                }
            }
        }
        System.out.println("differential: " + cases + " transposes with merged axes, " + split + " with a split innermost loop");
        assertTrue(split > cases / 4, "only " + split + " of " + cases + " kernels split their innermost loop");
    }

    private static int parallelDepth(KernelIR k) {
        int depth = 0;
        for (KernelIR.Nest n : k.nests()) depth = Math.max(depth, parallelDepth(n.body()));
        return depth;
    }

    private static int parallelDepth(List<dev.gale.codegen.kir.Stmt> body) {
        int d = 0;
        for (dev.gale.codegen.kir.Stmt s : body)
            if (s instanceof dev.gale.codegen.kir.Stmt.Loop l && l.kind() == dev.gale.codegen.kir.Stmt.Kind.PARALLEL)
                d = Math.max(d, 1 + parallelDepth(l.body()));
        return d;
    }

    private static List<int[]> permutations(int r) {
        List<int[]> out = new ArrayList<>();
        permute(new int[r], new boolean[r], 0, out);
        return out;
    }

    private static void permute(int[] p, boolean[] used, int at, List<int[]> out) {
        if (at == p.length) {
            out.add(p.clone());
            return;
        }
        for (int i = 0; i < p.length; i++) {
            if (used[i]) continue;
            used[i] = true;
            p[at] = i;
            permute(p, used, at + 1, out);
            used[i] = false;
        }
    }

    /**
     * The vector functions of JavaRenderer over their whole ranges: every float32 step of 1/64 on [-12, 12] (the fits
     * are clamped at 4 sqrt 2 for Gelu, 4 for erf, 7.9 for tanh, and Gelu's 1 + erf cancels below -3), then zeros,
     * subnormals, the clamp points, huge values, infinities and NaN; Gelu within 1.5e-6 absolute (about 3 ulp of the
     * largest values its fit covers), erf and tanh within 1e-6 relative plus 1e-7 absolute, of the interpreter's
     * float64 formulas, the infinities and NaN exactly as it gives them.
     */
    @ParameterizedTest
    @CsvSource({"Gelu, .abs(), 0, 1.5e-6", "Erf, 4f, 1e-6, 1e-7", "Tanh, 7.90531110763549805f, 1e-6, 1e-7"})
    void vectorFunctionsMatchTheInterpreterOverTheirRanges(String op, String marker, double rtol, double atol)
            throws Exception {
        Graph body = KernelTesting.parse("""
                graph @f(%x: tensor<[n],f32>) -> (%y: tensor<[n],f32>) {
                  %y = OP(%x)
                }
                """.replace("OP", op), "f");
        KernelIR k = KernelTesting.lower(body);
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 4f, -4f, 5.6568542f, -5.6568542f,
                7.905311f, -7.905311f, 1e30f, -1e30f, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN};
        int steps = 24 * 64 + 1;
        Tensor x = Tensor.zeros(DType.FLOAT32, steps + special.length);
        for (int i = 0; i < steps; i++) x.setDouble(i, -12 + i / 64.0);
        for (int i = 0; i < special.length; i++) x.setDouble(steps + i, special[i]);
        List<Tensor> expected = KernelTesting.interpret(body, List.of(x));
        for (var compiler : List.of(GoldenKernelTest.COMPILER, GoldenKernelTest.SEGMENTS)) {
            CompiledKernel c = compiler.compile(k);
            assertTrue(c.source().contains(marker), op + " was not rendered as its vector function:\n" + c.source());
            KernelTesting.assertClose(expected.getFirst(), c.run(List.of(x)).getFirst(), rtol, atol, op);
        }
    }

    /**
     * Kernels that differ only in their names (a transformer's layers each have their LayerNorm) share one generated
     * class, so that the JIT compiles it once, and each still computes its own result; a kernel with other code gets
     * a class of its own.
     */
    @Test
    void kernelsThatDifferOnlyInNameShareAClass() throws Exception {
        JvmCompiler compiler = new JvmCompiler(true, JavaRenderer.Storage.SEGMENTS);
        String body = java.nio.file.Files.readString(GoldenKernelTest.goldenDir().resolve("layernorm_op.gir"));
        List<KernelIR> kernels = new ArrayList<>();
        List<Graph> bodies = new ArrayList<>();
        for (String name : List.of("norm_a", "norm_b", "norm_c")) {
            Graph g = KernelTesting.parse(body.replace("@fused_layernormalization", "@" + name), name);
            bodies.add(g);
            kernels.add(KernelTesting.lower(g));
        }
        assertTrue(!kernels.get(0).name().equals(kernels.get(1).name()), "the kernels keep their own names");
        List<CompiledKernel> compiled = compiler.compileAll(kernels);
        assertTrue(compiler.classesDefined() == 1, compiler.classesDefined() + " classes for three alike kernels");
        for (int i = 0; i < kernels.size(); i++) {
            List<Tensor> in = KernelTesting.randomInputs(bodies.get(i), Map.of("batch", 3L + i), new Random(i));
            List<Tensor> expected = KernelTesting.interpret(bodies.get(i), in);
            List<Tensor> actual = compiled.get(i).run(in);
            for (int o = 0; o < expected.size(); o++)
                KernelTesting.assertClose(expected.get(o), actual.get(o), 1e-4, 1e-6, "kernel " + i + " output " + o);
        }
        Graph other = KernelTesting.parse(java.nio.file.Files.readString(
                GoldenKernelTest.goldenDir().resolve("bias_gelu.gir")), "bias_gelu");
        compiler.compile(KernelTesting.lower(other));
        assertTrue(compiler.classesDefined() == 2, compiler.classesDefined() + " classes after another kernel");
    }

    @Test
    void randomBodiesMatchTheInterpreter() {
        List<Graph> bodies = new ArrayList<>();
        List<KernelIR> kernels = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (int seed = 0; seed < BODIES; seed++) {
            String text = RandomBodies.generate(seed, "rand" + seed);
            Graph body;
            try {
                body = KernelTesting.parse(text, "rand" + seed);
            } catch (RuntimeException e) {
                throw new AssertionError("generator wrote an invalid body (seed " + seed + "):\n" + text, e);
            }
            texts.add(text);
            bodies.add(body);
            try {
                kernels.add(KernelTesting.lower(body));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + text, e);
            }
        }
        List<CompiledKernel> compiled = GoldenKernelTest.COMPILER.compileAll(kernels);
        List<CompiledKernel> onSegments = GoldenKernelTest.SEGMENTS.compileAll(kernels);
        int vectorized = 0, outer = 0, failures = 0;
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < bodies.size(); i++) {
            if (JavaRenderer.vectorized(kernels.get(i))) vectorized++;
            if (JavaRenderer.outerVectorized(kernels.get(i))) outer++;
            Random rnd = new Random(i);
            for (long n : new long[] {1, 6}) {
                List<Tensor> in = KernelTesting.randomInputs(bodies.get(i), Map.of("n", n), rnd);
                try {
                    List<Tensor> expected = KernelTesting.interpret(bodies.get(i), in);
                    List<Tensor> actual = compiled.get(i).run(in);
                    for (int o = 0; o < expected.size(); o++)
                        KernelTesting.assertClose(expected.get(o), actual.get(o), 1e-3, 1e-5, "output " + o);
                    actual = onSegments.get(i).run(in);
                    for (int o = 0; o < expected.size(); o++)
                        KernelTesting.assertClose(expected.get(o), actual.get(o), 1e-3, 1e-5,
                                "output " + o + " (segments)");
                } catch (AssertionError | RuntimeException e) {
                    if (failures++ < 5)
                        report.append("\n--- seed ").append(i).append(", n = ").append(n).append(": ")
                                .append(e.getMessage()).append('\n').append(texts.get(i))
                                .append(KernelPrinter.print(kernels.get(i)));
                    break;
                }
            }
        }
        long nests = kernels.stream().filter(k -> k.nests().size() > 1).count();
        long reductions = kernels.stream().filter(k -> KernelPrinter.print(k).contains("reduce ")).count();
        long symbolic = kernels.stream().filter(k -> !k.sizes().isEmpty()).count();
        long guarded = texts.stream().filter(t -> t.contains("Pad(") || t.contains("Concat(") || t.contains("SliceGrad("))
                .count();
        long pools = texts.stream().filter(t -> t.contains("Pool(")).count();
        System.out.println("differential: " + BODIES + " random kernels, " + vectorized + " with a vector loop ("
                + outer + " around reduce loops), "
                + reductions + " with reductions, " + symbolic + " with symbolic sizes, " + nests
                + " with several nests, " + guarded + " with Pad, Concat or SliceGrad, " + pools + " with pooling; "
                + failures + " differ");
        if (failures > 0) fail(failures + " of " + BODIES + " random kernels differ from the interpreter:" + report);
        assertTrue(vectorized > BODIES / 4, "only " + vectorized + " kernels have a vector loop");
    }
}
