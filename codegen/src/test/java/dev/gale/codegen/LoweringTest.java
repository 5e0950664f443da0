package dev.gale.codegen;

import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.kir.KernelPrinter;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Value;
import dev.gale.ir.op.GaleOps;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the lowering accepts and, above all, what it refuses (with a reason) rather than computing wrongly. */
class LoweringTest {
    private static String rejected(String text) {
        Graph body = KernelTesting.parse(text, "test");
        KernelLowering.Result r = KernelLowering.lower(body, "k");
        return assertInstanceOf(KernelLowering.Rejected.class, r, () -> "lowered:\n"
                + KernelPrinter.print(((KernelLowering.Lowered) r).kernel())).reason();
    }

    private static void assertRejected(String text, String reasonPart) {
        String reason = rejected(text);
        assertTrue(reason.contains(reasonPart), "reason '" + reason + "' should mention '" + reasonPart + "'");
    }

    @Test
    void opsWithoutAKernelFormAreRefused() {
        assertRejected("""
                graph @g(%a: tensor<[2,3],f32>, %b: tensor<[3,4],f32>) -> (%y: tensor<[2,4],f32>) {
                  %m = MatMul(%a, %b)
                  %y = Relu(%m)
                }""", "MatMul");
        assertRejected("""
                graph @g(%a: tensor<[2,3],f32>) -> (%y: tensor<[2],i64>) {
                  %y = ArgMax(%a) {axis = 1, keepdims = 0}
                }""", "ArgMax");
        assertRejected("""
                graph @g(%a: tensor<[3,3],f32>) -> (%y: tensor<[3,3],f32>) {
                  %y = Trilu(%a) {upper = 1}
                }""", "Trilu");
    }

    @Test
    void operandsThatMustBeConstantAreChecked() {
        assertRejected("""
                graph @g(%a: tensor<[2,3],f32>, %axes: tensor<[1],i64>) -> (%y: tensor<[2,1],f32>) {
                  %y = ReduceSum(%a, %axes) {keepdims = 1}
                }""", "must be a constant");
        assertRejected("""
                graph @g(%a: tensor<[5,3],f32>, %i: tensor<[2],i64>) -> (%y: tensor<[2,3],f32>) {
                  %y = Gather(%a, %i) {axis = 0}
                }""", "run time");
        assertRejected("""
                graph @g(%a: tensor<[5,3],f32>) -> (%y: tensor<[3,3],f32>) {
                  %i = Constant() {value = tensor<[3],i64> [0, 4, 1]}
                  %y = Gather(%a, %i) {axis = 0}
                }""", "evenly spaced");
    }

    @Test
    void shapesMustBeKnown() {
        // Unknown input dimensions are sizes read at run time; an output size nothing determines is refused.
        KernelTesting.lower(KernelTesting.parse("""
                graph @g(%a: tensor<[?,3],f32>) -> (%y: tensor<[?,3],f32>) {
                  %y = Relu(%a)
                }""", "g"));
        assertRejected("""
                graph @g(%a: tensor<[1,3],f32>, %s: tensor<[2],i64>) -> (%y: tensor<[?,3],f32>) {
                  %y = Expand(%a, %s)
                }""", "unknown size");
        assertRejected("""
                graph @g(%a: tensor<[2,3],f16>) -> (%y: tensor<[2,3],f16>) {
                  %y = Relu(%a)
                }""", "f16");
    }

    @Test
    void aSymbolThatMightBroadcastIsTakenAsEqualAndCheckedAtRunTime() {
        // %a's first dimension might be 1 (then it broadcasts) or 4: the kernel assumes 4 and checks it.
        Graph body = KernelTesting.parse("""
                graph @g(%a: tensor<[n,3],f32>, %b: tensor<[4,3],f32>) -> (%y: tensor<[4,3],f32>) {
                  %y = Add(%a, %b)
                }""", "g");
        KernelIR k = KernelTesting.lower(body);
        assertTrue(KernelPrinter.print(k).contains("check n == 4"), KernelPrinter.print(k));
        var compiled = GoldenKernelTest.COMPILER.compile(k);
        var in = KernelTesting.randomInputs(body, Map.of("n", 4L), new java.util.Random(1));
        KernelTesting.assertClose(KernelTesting.interpret(body, in).getFirst(), compiled.run(in).getFirst(), 0, 0, "y");
        var broadcasting = KernelTesting.randomInputs(body, Map.of("n", 1L), new java.util.Random(1));
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.gale.ir.GaleException.class,
                () -> compiled.run(broadcasting));
        assertTrue(e.getMessage().contains("needs n == 4"), e.getMessage());
    }

    @Test
    void constantsAreScalarsOnly() {
        assertRejected("""
                graph @g(%a: tensor<[3],f32>) -> (%y: tensor<[3],f32>) {
                  %c = Constant() {value = tensor<[3],f32> [1.0, 2.0, 3.0]}
                  %y = Add(%a, %c)
                }""", "scalar constants");
    }

    @Test
    void kernelNodesLowerTheirBodyUnderTheirName() {
        Graph body = KernelTesting.parse("""
                graph @body(%p0: tensor<[4],f32>) -> (%o0: tensor<[4],f32>) {
                  %o0 = Tanh(%p0)
                }""", "body");
        Map<String, Attr> attrs = new LinkedHashMap<>();
        attrs.put("body", Attr.of(body));
        attrs.put("name", Attr.of("fused_tanh_0"));
        attrs.put("pattern", Attr.of("elementwise"));
        Node n = new Node("fused_tanh_0", GaleOps.DOMAIN, "Kernel", List.of(new Value("x", body.inputs().getFirst().type())),
                List.of(new Value("y", body.outputs().getFirst().type())), attrs);
        KernelIR k = assertInstanceOf(KernelLowering.Lowered.class, KernelLowering.lower(n)).kernel();
        assertEquals("fused_tanh_0", k.name());
        assertInstanceOf(KernelLowering.Rejected.class, KernelLowering.lower(new Node("Relu",
                List.of(new Value("x", null)), List.of(new Value("y", null)), Map.of())));
    }

    @Test
    void reductionResultsAreComputedOncePerRow() {
        KernelIR k = KernelTesting.lower(KernelTesting.parse("""
                graph @g(%x: tensor<[n,16],f32>) -> (%y: tensor<[n,16],f32>) {
                  %axes = Constant() {value = tensor<[1],i64> [1]}
                  %m = ReduceMax(%x, %axes)
                  %y = Sub(%x, %m)
                }""", "g"));
        // The row maximum sits in the row loop, before the loop over the row's elements.
        assertEquals("""
                kernel g(x: f32[n,16]) -> (y: f32[n,16]) sizes(n = x[0])
                nest 0
                  parallel i0 < n
                    acc1: f32 = -Infinity:f32
                    reduce r0 < 16
                      t2 = load x[i0 * 16 + r0]
                      acc1 = max(acc1, t2)
                    parallel i1 < 16
                      t0 = load x[i0 * 16 + i1]
                      t3 = sub(t0, acc1)
                      store y[i0 * 16 + i1] = t3
                """, KernelPrinter.print(k));
    }

    @Test
    void aReshapeBackToTheInputShapeCancels() {
        KernelIR k = KernelTesting.lower(KernelTesting.parse("""
                graph @g(%x: tensor<[2,3,4],f32>) -> (%y: tensor<[24],f32>) {
                  %e = Exp(%x)
                  %s = Constant() {value = tensor<[1],i64> [24]}
                  %y = Reshape(%e, %s)
                }""", "g"));
        assertTrue(KernelPrinter.print(k).contains("t0 = load x[i0]"), KernelPrinter.print(k));
    }
}
