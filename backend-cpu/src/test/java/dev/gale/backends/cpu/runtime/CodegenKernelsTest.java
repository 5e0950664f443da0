package dev.gale.backends.cpu.runtime;

import dev.gale.backends.cpu.KernelPool;
import dev.gale.backends.interp.Interpreter;
import dev.gale.codegen.jvm.CompiledKernel;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.text.TextParser;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generated kernels on the arena: which outputs may overwrite their inputs, and that the others are computed aside. */
class CodegenKernelsTest {
    private static final String CHAIN = """
            graph @chain(%x: tensor<[4,33],f32>, %b: tensor<[33],f32>) -> (%y: tensor<[4,33],f32>) {
              %a = Add(%x, %b)
              %t = Tanh(%a)
              %y = Mul(%t, %x)
            }
            """;
    private static final String TRANSPOSE = """
            graph @transpose(%x: tensor<[5,5],f32>) -> (%y: tensor<[5,5],f32>) {
              %t = Transpose(%x) {perm = [1, 0]}
              %y = Add(%t, %x)
            }
            """;
    private static final String SOFTMAX = """
            graph @softmax(%x: tensor<[4,33],f32>) -> (%y: tensor<[4,33],f32>) {
              %y = Softmax(%x) {axis = -1}
            }
            """;

    /** A reduction kernel the cpu backend still generates (kernels holding a Softmax run op by op). */
    private static final String LAYERNORM = """
            graph @layernorm(%x: tensor<[4,33],f32>, %s: tensor<[33],f32>, %b: tensor<[33],f32>) -> (%y: tensor<[4,33],f32>) {
              %y = LayerNormalization(%x, %s, %b) {axis = -1}
            }
            """;

    private static Graph body(String text) { return TextParser.parse(text, "body").graph(); }

    private static KernelIR lower(String text) {
        Graph body = body(text);
        return ((KernelLowering.Lowered) KernelLowering.lower(body, body.name())).kernel();
    }

    @Test
    void pointwiseReadsBeforeTheWriteMayShareMemory() {
        KernelIR chain = lower(CHAIN);
        assertTrue(CodegenKernels.inPlaceSafe(chain, 0, 2), "x -> y");
        assertFalse(CodegenKernels.inPlaceSafe(lower(TRANSPOSE), 0, 1), "a transposed read");
        assertFalse(CodegenKernels.inPlaceSafe(lower(SOFTMAX), 0, 1), "reductions read the row before it is written");
    }

    @Test
    void outputsOverInputsMatchTheInterpreter() {
        for (String text : List.of(CHAIN, TRANSPOSE, LAYERNORM)) runInPlace(text);
    }

    /** Runs the body as a kernel step whose output lies over its first input in the arena. */
    private static void runInPlace(String text) {
        Graph body = body(text);
        Random r = new Random(5);
        List<Tensor> feeds = new ArrayList<>();
        for (Value v : body.inputs()) {
            Tensor t = Tensor.zeros(DType.FLOAT32, v.tensorType().shape().sizes());
            for (int i = 0; i < t.numel(); i++) t.setDouble(i, r.nextGaussian());
            feeds.add(t);
        }
        Map<String, Object> named = new java.util.HashMap<>();
        for (int i = 0; i < feeds.size(); i++) named.put(body.inputs().get(i).name(), feeds.get(i));
        Tensor expected = (Tensor) Interpreter.run(Model.of(body), named).getFirst();

        Node node = new Node(body.name(), "gale", "Kernel", body.inputs(), body.outputs(),
                Map.of("body", new Attr.GraphAttr(body)));
        CompiledKernel k = CodegenKernels.compile(List.of(node)).get(node);
        assertNotNull(k, body.name() + " did not compile");
        try (Arena arena = Arena.ofShared(); KernelPool pool = new KernelPool(2)) {
            Slot[] in = new Slot[feeds.size()];
            long at = 0;
            for (int i = 0; i < in.length; i++) {
                in[i] = new Slot(body.inputs().get(i).name(), body.inputs().get(i).type());
                in[i].offset = at;
                at += in[i].numel;
            }
            Slot out = new Slot(body.outputs().getFirst().name(), body.outputs().getFirst().type());
            out.offset = in[0].offset;
            MemorySegment mem = arena.allocate(at * 4, 64);
            for (int i = 0; i < in.length; i++)
                MemorySegment.copy(feeds.get(i).floats(), 0, mem, Vec.F, in[i].offset << 2, (int) in[i].numel);
            EmitContext c = new EmitContext(node, in, new Slot[] {out}, mem, pool, new Object[0], Map.of(), arena, 0);
            Step step = CodegenKernels.step(c, k);
            assertNotNull(step, body.name() + " has no step");
            step.run();
            float[] actual = new float[(int) out.numel];
            MemorySegment.copy(mem, Vec.F, out.offset << 2, actual, 0, actual.length);
            float[] want = expected.floats();
            assertEquals(want.length, actual.length);
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], actual[i], 1e-5 + 1e-4 * Math.abs(want[i]), body.name() + " element " + i);
        }
    }
}
