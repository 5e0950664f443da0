package dev.gale.codegen;

import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.KernelPrinter;
import dev.gale.codegen.render.JavaRenderer;
import dev.gale.ir.Graph;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Test;

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
