package dev.gale.passes.partition;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.Verifier;
import dev.gale.ir.text.PrintOptions;
import dev.gale.ir.text.TextParser;
import dev.gale.ir.text.TextPrinter;
import dev.gale.ir.text.UseTypes;
import dev.gale.passes.pipeline.PassContext;
import dev.gale.passes.pipeline.PassRegistry;
import dev.gale.passes.pipeline.Pipeline;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fusion rules one by one, on small graphs in text IR. Each case states the partition it expects as a summary:
 * kernels as {@code [pattern: op op ...]} (constants left out), plain nodes by op, in graph order. Every case also
 * verifies, re-infers its types, reads back from text and computes exactly what the graph before did.
 */
class PartitionTest {
    // ---------------------------------------------------------------- elementwise, broadcast, injective

    @Test
    void elementwiseChainFusesIntoOneKernel() {
        Graph g = partition("""
                graph @chain(%x: tensor<[2,3],f32>) -> (%z: tensor<[2,3],f32>) {
                  %a = Relu(%x)
                  %b = Exp(%a)
                  %z = Neg(%b)
                }""");
        assertEquals("[elementwise: Relu Exp Neg]", summary(g));
        Node k = g.nodes().get(0);
        assertEquals("fused_relu_exp_neg_0", ((Attr.StringAttr) k.attr("name")).value());
        assertEquals("fused_relu_exp_neg_0", k.name());
    }

    @Test
    void broadcastChainTakesWeightsAsInputs() {
        Graph g = partition("""
                graph @bcast(%x: tensor<[2,3],f32>) -> (%z: tensor<[2,3],f32>) {
                  init %b = tensor<[3],f32> [1.0, 2.0, 3.0]
                  %a = Add(%x, %b)
                  %c = Mul(%a, %a)
                  %z = Sigmoid(%c)
                }""");
        assertEquals("[broadcast: Add Mul Sigmoid]", summary(g));
        assertEquals(List.of("x", "b"), g.nodes().get(0).inputs().stream().map(Value::name).toList());
    }

    @Test
    void injectiveOpsFuseIntoTheirConsumers() {
        Graph g = partition("""
                graph @inj(%x: tensor<[2,3],f32>, %y: tensor<[3,2],f32>) -> (%z: tensor<[3,2],f32>) {
                  %t = Transpose(%x) {perm = [1, 0]}
                  %s = Add(%t, %y)
                  %z = Relu(%s)
                }""");
        assertEquals("[injective: Transpose Add Relu]", summary(g));
    }

    @Test
    void diamondFusesWhole() {
        // %a (two inputs, not cheap to recompute) feeds both branches; the branches meet again in %z.
        Graph g = partition("""
                graph @diamond(%x: tensor<[4],f32>, %y: tensor<[4],f32>) -> (%z: tensor<[4],f32>) {
                  %a = Add(%x, %y)
                  %s = Sin(%a)
                  %c = Cos(%a)
                  %z = Mul(%s, %c)
                }""");
        assertEquals("[broadcast: Add Sin Cos Mul]", summary(g));
    }

    @Test
    void independentChainsStayApart() {
        Graph g = partition("""
                graph @two(%x: tensor<[4],f32>, %y: tensor<[4],f32>) -> (%a: tensor<[4],f32>, %b: tensor<[4],f32>) {
                  %a = Relu(%x)
                  %b = Neg(%y)
                }""");
        assertEquals("[elementwise: Relu] ; [elementwise: Neg]", summary(g));
    }

    // ---------------------------------------------------------------- values other groups need

    @Test
    void valueNeededByAnotherGroupIsNotFusedAcross() {
        // %a feeds Relu and the opaque CumSum: fusing Add with Relu would hide %a inside a kernel that CumSum waits on.
        Graph g = partition("""
                graph @shared(%x: tensor<[4],f32>, %y: tensor<[4],f32>) -> (%r: tensor<[4],f32>, %c: tensor<[4],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %a = Add(%x, %y)
                  %r = Relu(%a)
                  %c = CumSum(%a, %axis)
                }""");
        assertEquals("Constant ; [broadcast: Add] ; [elementwise: Relu] ; CumSum", summary(g));
    }

    @Test
    void graphOutputInsideAGroupBecomesAKernelOutput() {
        Graph g = partition("""
                graph @out(%x: tensor<[4],f32>) -> (%a: tensor<[4],f32>, %z: tensor<[4],f32>) {
                  %a = Exp(%x)
                  %z = Neg(%a)
                }""");
        assertEquals("[elementwise: Exp Neg]", summary(g));
        assertEquals(List.of("a", "z"), g.nodes().get(0).outputs().stream().map(Value::name).toList());
    }

    @Test
    void cheapOpIsRecomputedInEachConsumer() {
        // Exp(x) is read by a reduction and by an elementwise chain: each gets its own copy, the original goes away.
        PassContext ctx = PassContext.defaults();
        Graph g = partition("""
                graph @recompute(%x: tensor<[2,3],f32>, %y: tensor<[2,3],f32>) -> (%s: tensor<[2],f32>, %m: tensor<[2,3],f32>) {
                  %axes = Constant() {value = tensor<[1],i64> [1]}
                  %e = Exp(%x)
                  %s = ReduceSum(%e, %axes) {keepdims = 0}
                  %m = Mul(%e, %y)
                }""", ctx);
        assertEquals("[reduction: Exp ReduceSum] ; [broadcast: Exp Mul]", summary(g));
        assertEquals(2L, ctx.counters().get("partition.recomputed"));
    }

    @Test
    void opWithTwoInputsIsNotRecomputed() {
        Graph g = partition("""
                graph @norecompute(%x: tensor<[2,3],f32>, %y: tensor<[2,3],f32>) -> (%s: tensor<[2],f32>, %m: tensor<[2,3],f32>) {
                  %axes = Constant() {value = tensor<[1],i64> [1]}
                  %e = Add(%x, %y)
                  %s = ReduceSum(%e, %axes) {keepdims = 0}
                  %m = Mul(%e, %y)
                }""");
        assertEquals("[broadcast: Add] ; [reduction: ReduceSum] ; [broadcast: Mul]", summary(g));
    }

    @Test
    void cheapOpIsNotRecomputedWhenAConsumerCannotTakeIt() {
        // MatMul takes no producers, so Relu must be computed once anyway.
        Graph g = partition("""
                graph @keep(%x: tensor<[2,2],f32>, %w: tensor<[2,2],f32>) -> (%m: tensor<[2,2],f32>, %n: tensor<[2,2],f32>) {
                  %r = Relu(%x)
                  %m = MatMul(%r, %w)
                  %n = Neg(%r)
                }""");
        assertEquals("[elementwise: Relu] ; [matmul: MatMul] ; [elementwise: Neg]", summary(g));
    }

    // ---------------------------------------------------------------- no cycles

    @Test
    void mergeThatWouldCloseACycleIsRefused() {
        // Split's first half feeds Add directly, its second half through the opaque CumSum. Fusing Split into Add's
        // kernel would make the kernel wait for CumSum, which waits for the kernel's second output.
        Graph g = partition("""
                graph @cycle(%x: tensor<[4],f32>) -> (%z: tensor<[2],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %s0, %s1 = Split(%x) {axis = 0, num_outputs = 2}
                  %o = CumSum(%s1, %axis)
                  %z = Add(%s0, %o)
                }""");
        assertEquals("Constant ; [injective: Split] ; CumSum ; [broadcast: Add]", summary(g));
    }

    @Test
    void cycleThroughAGroupSpanningTheGraphIsFound() {
        // Second sweep: {g} may now join {h, k}, but g1 -> x -> y1 sits in {s, y1}, whose s0 -> z -> h closes the
        // loop. Group {s, y1} spans the whole graph, so a search pruned by node position would miss it.
        Graph g = partition("""
                graph @span(%in1: tensor<[4],f32>, %in2: tensor<[4],f32>) -> (%k: tensor<[2],f32>, %y1: tensor<[2],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %s0, %s1 = Split(%in1) {axis = 0, num_outputs = 2}
                  %z = CumSum(%s0, %axis)
                  %g0, %g1 = Split(%in2) {axis = 0, num_outputs = 2}
                  %h = Add(%g0, %z)
                  %k = Mul(%g0, %h)
                  %x = CumSum(%g1, %axis)
                  %y1 = Add(%s1, %x)
                }""");
        assertEquals("Constant ; [injective: Split] ; CumSum ; [injective: Split Add] ; CumSum ; [broadcast: Add Mul]",
                summary(g));
    }

    @Test
    void diamondsFormOnlyThroughTheirJoin() {
        // Sin and Cos meet only in Mul, which waits for CumSum(Sin): Cos joins Mul, Add stays apart because both Sin
        // and the Cos-Mul kernel read it.
        Graph g = partition("""
                graph @halfdiamond(%x: tensor<[4],f32>, %y: tensor<[4],f32>) -> (%z: tensor<[4],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %a = Add(%x, %y)
                  %s = Sin(%a)
                  %c = Cos(%a)
                  %o = CumSum(%s, %axis)
                  %z = Mul(%c, %o)
                }""");
        assertEquals("Constant ; [broadcast: Add] ; [elementwise: Sin] ; CumSum ; [broadcast: Cos Mul]", summary(g));
    }

    @Test
    void epilogueStopsWhereAnOutsideNodeSitsBetween() {
        // Relu and Neg fuse into the MatMul; Add reads CumSum, which reads Relu: Add stays out.
        Graph g = partition("""
                graph @epicycle(%x: tensor<[2,2],f32>, %w: tensor<[2,2],f32>) -> (%z: tensor<[2,2],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %m = MatMul(%x, %w)
                  %r = Relu(%m)
                  %n = Neg(%m)
                  %o = CumSum(%r, %axis)
                  %z = Add(%n, %o)
                }""");
        assertEquals("Constant ; [matmul+epilogue: MatMul Relu Neg] ; CumSum ; [broadcast: Add]", summary(g));
    }

    @Test
    void shapeComputationsStayOutOfDataKernels() {
        // PyTorch's dynamic reshape: the new shape comes from Shape, Gather, Unsqueeze and Concat on int64 scalars.
        // Those fuse into a "shape" kernel; the data kernel (Reshape, Relu) takes the shape as an input.
        Graph g = partition("""
                graph @dyn(%x: tensor<[2,6],f32>) -> (%y: tensor<[2,3,2],f32>) {
                  %zero = Constant() {value = tensor<[],i64> [0]}
                  %axes = Constant() {value = tensor<[1],i64> [0]}
                  %rest = Constant() {value = tensor<[2],i64> [3, 2]}
                  %s = Shape(%x)
                  %b = Gather(%s, %zero) {axis = 0}
                  %u = Unsqueeze(%b, %axes)
                  %shape = Concat(%u, %rest) {axis = 0}
                  %r = Reshape(%x, %shape)
                  %y = Relu(%r)
                }""");
        assertEquals("Shape ; [shape: Gather Unsqueeze Concat] ; [injective: Reshape Relu]", summary(g));
    }

    // ---------------------------------------------------------------- reductions

    @Test
    void reductionTakesItsProducersAndAnEpilogue() {
        Graph g = partition("""
                graph @norm(%x: tensor<[2,3],f32>) -> (%n: tensor<[2,1],f32>) {
                  %axes = Constant() {value = tensor<[1],i64> [1]}
                  %sq = Mul(%x, %x)
                  %s = ReduceSum(%sq, %axes) {keepdims = 1}
                  %n = Sqrt(%s)
                }""");
        assertEquals("[reduction+epilogue: Mul ReduceSum Sqrt]", summary(g));
    }

    @Test
    void reductionPrologueComputesOnlyWhatTheReductionReads() {
        // %e is also returned: a prologue that writes it out would be a reduction kernel with a side output.
        Graph g = partition("""
                graph @side(%x: tensor<[2,3],f32>) -> (%e: tensor<[2,3],f32>, %s: tensor<[2],f32>) {
                  %axes = Constant() {value = tensor<[1],i64> [1]}
                  %e = Exp(%x)
                  %s = ReduceSum(%e, %axes) {keepdims = 0}
                }""");
        assertEquals("[elementwise: Exp] ; [reduction: ReduceSum]", summary(g));
    }

    @Test
    void reductionEpilogueKeepsTheReducedShape() {
        // Sub(x, mean) has x's shape, not the reduced one: it is no epilogue, and it reads the reduction's result,
        // so it is no prologue either. Softmax written out by hand fuses into four kernels.
        Graph g = partition("""
                graph @softmax(%x: tensor<[2,3],f32>) -> (%y: tensor<[2,3],f32>) {
                  %axes = Constant() {value = tensor<[1],i64> [1]}
                  %m = ReduceMax(%x, %axes) {keepdims = 1}
                  %d = Sub(%x, %m)
                  %e = Exp(%d)
                  %s = ReduceSum(%e, %axes) {keepdims = 1}
                  %y = Div(%e, %s)
                }""");
        assertEquals("[reduction: ReduceMax] ; [broadcast: Sub Exp] ; [reduction: ReduceSum] ; [broadcast: Div]",
                summary(g));
    }

    // ---------------------------------------------------------------- MatMul, Conv, Gemm

    @Test
    void matmulTakesBiasActivationAndResidual() {
        Graph g = partition("""
                graph @layer(%x: tensor<[2,4],f32>, %w: tensor<[4,4],f32>, %b: tensor<[4],f32>) -> (%y: tensor<[2,4],f32>) {
                  %m = MatMul(%x, %w)
                  %a = Add(%m, %b)
                  %r = Relu(%a)
                  %y = Add(%r, %x)
                }""");
        assertEquals("[matmul+epilogue: MatMul Add Relu Add]", summary(g));
        assertEquals("fused_matmul_add_relu_add_0", g.nodes().get(0).name());
    }

    @Test
    void gemmTakesAWholeGeluDiamond() {
        Graph g = partition("""
                graph @gelu(%x: tensor<[2,4],f32>, %w: tensor<[4,4],f32>) -> (%y: tensor<[2,4],f32>) {
                  %r2 = Constant() {value = tensor<[],f32> [1.4142135]}
                  %one = Constant() {value = tensor<[],f32> [1.0]}
                  %half = Constant() {value = tensor<[],f32> [0.5]}
                  %h = Gemm(%x, %w)
                  %d = Div(%h, %r2)
                  %e = Erf(%d)
                  %p = Add(%e, %one)
                  %q = Mul(%h, %p)
                  %y = Mul(%q, %half)
                }""");
        assertEquals("[gemm+epilogue: Gemm Div Erf Add Mul Mul]", summary(g));
    }

    @Test
    void convTakesNoProducersAndNoShapeChangingConsumers() {
        // Relu before the Conv stays apart; the Add that broadcasts the result to a larger shape is no epilogue.
        Graph g = partition("""
                graph @conv(%x: tensor<[1,1,4,4],f32>, %w: tensor<[2,1,3,3],f32>, %big: tensor<[3,2,2,2],f32>) -> (%y: tensor<[3,2,2,2],f32>) {
                  %r = Relu(%x)
                  %c = Conv(%r, %w)
                  %y = Add(%c, %big)
                }""");
        assertEquals("[elementwise: Relu] ; [conv: Conv] ; [broadcast: Add]", summary(g));
    }

    @Test
    void preActivationNeededElsewhereStopsTheEpilogue() {
        // Training keeps %a for the backward pass: Relu may not make it internal.
        Graph g = partition("""
                graph @keep(%x: tensor<[2,4],f32>, %w: tensor<[4,4],f32>, %b: tensor<[4],f32>) -> (%r: tensor<[2,4],f32>, %c: tensor<[2,4],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %m = MatMul(%x, %w)
                  %a = Add(%m, %b)
                  %r = Relu(%a)
                  %c = CumSum(%a, %axis)
                }""");
        assertEquals("Constant ; [matmul+epilogue: MatMul Add] ; [elementwise: Relu] ; CumSum", summary(g));
    }

    // ---------------------------------------------------------------- opaque ops, nested graphs, constants

    @Test
    void nestedGraphOpsStayPlainAndTheirCapturesAreKernelOutputs() {
        // The If branch reads %a from the outer graph: %a must leave its kernel.
        Graph g = partition("""
                graph @nested(%c: tensor<[],bool>, %x: tensor<[3],f32>) -> (%n: tensor<[3],f32>, %r: tensor<[3],f32>) {
                  %a = Add(%x, %x)
                  %n = Neg(%a)
                  %r = If(%c) {
                    else_branch = graph @else_body() -> (%e: tensor<[3],f32>) {
                      %e = Exp(%a)
                    },
                    then_branch = graph @then_body() -> (%t: tensor<[3],f32>) {
                      %t = Relu(%x)
                    }
                  }
                }""");
        assertEquals("[broadcast: Add] ; [elementwise: Neg] ; If", summary(g));
        Map<String, Object> f = feeds(g);
        f.put("c", Tensor.ofBools(new long[0], false));
        Model m = Model.of(g);
        assertEquals(Interpreter.run(Model.of(inputGraph), f), Interpreter.run(m, f));
    }

    @Test
    void constantsAreCopiedIntoKernelsAndDropped() {
        Graph g = partition("""
                graph @consts(%x: tensor<[4],f32>) -> (%y: tensor<[4],f32>) {
                  %two = Constant() {value = tensor<[],f32> [2.0]}
                  %a = Mul(%x, %two)
                  %y = Add(%a, %two)
                }""");
        assertEquals(1, g.nodes().size());
        Graph body = body(g.nodes().get(0));
        assertEquals(List.of("Constant", "Mul", "Add"), body.nodes().stream().map(Node::op).toList());
        assertEquals(List.of("x"), g.nodes().get(0).inputs().stream().map(Value::name).toList());
    }

    @Test
    void constantAlsoReadByAPlainNodeStaysAndTheCopyIsRenamed() {
        Graph g = partition("""
                graph @consts(%x: tensor<[4],f32>) -> (%y: tensor<[4],f32>, %f: tensor<[],f32>, %c: tensor<[4],f32>) {
                  %zero = Constant() {value = tensor<[],i64> [0]}
                  %y = Relu(%x)
                  %f = Cast(%zero) {to = 1}
                  %c = CumSum(%y, %zero)
                }""");
        assertEquals("Constant ; [elementwise: Relu] ; [elementwise: Cast] ; CumSum", summary(g));
        Graph cast = body(g.nodes().get(2));
        assertEquals("zero_1", cast.nodes().get(0).output(0).name(), "the copy must not shadow the outer %zero");
    }

    @Test
    void kernelPrintsAsTextWithItsBody() {
        Graph g = partition("""
                graph @layer(%x: tensor<[2,4],f32>, %w: tensor<[4,4],f32>, %b: tensor<[4],f32>) -> (%y: tensor<[2,4],f32>) {
                  %m = MatMul(%x, %w)
                  %a = Add(%m, %b)
                  %y = Relu(%a)
                }""");
        assertEquals("""
                graph @layer(%x: tensor<[2,4],f32>, %w: tensor<[4,4],f32>, %b: tensor<[4],f32>) -> (%y: tensor<[2,4],f32>) {
                  %y: tensor<[2,4],f32> = gale::Kernel(%x, %w, %b) {
                    body = graph @fused_matmul_add_relu_0(%p0: tensor<[2,4],f32>, %p1: tensor<[4,4],f32>, %p2: tensor<[4],f32>) -> (%o0: tensor<[2,4],f32>) {
                      %m: tensor<[2,4],f32> = MatMul(%p0, %p1)
                      %a: tensor<[2,4],f32> = Add(%m, %p2)
                      %o0: tensor<[2,4],f32> = Relu(%a)
                    },
                    name = "fused_matmul_add_relu_0",
                    pattern = "matmul+epilogue"
                  } @fused_matmul_add_relu_0
                }""", TextPrinter.print(g, PrintOptions.SUMMARY).strip());
    }

    // ---------------------------------------------------------------- the pass

    @Test
    void partitioningTwiceChangesNothing() {
        Graph once = partition("""
                graph @twice(%x: tensor<[2,4],f32>, %w: tensor<[4,4],f32>) -> (%y: tensor<[2,4],f32>, %c: tensor<[2,4],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %m = MatMul(%x, %w)
                  %y = Relu(%m)
                  %c = CumSum(%y, %axis)
                }""");
        assertEquals(once, Partition.apply(once));
    }

    @Test
    void passIsRegisteredAndCounts() {
        Pipeline p = PassRegistry.parse("partition");
        PassContext ctx = PassContext.defaults();
        Graph g = parse("""
                graph @count(%x: tensor<[4],f32>) -> (%y: tensor<[4],f32>, %c: tensor<[4],f32>) {
                  %axis = Constant() {value = tensor<[],i64> [0]}
                  %a = Exp(%x)
                  %y = Neg(%a)
                  %c = CumSum(%y, %axis)
                }""");
        Graph out = p.run(g, ctx, true, null).graph();
        assertEquals("Constant ; [elementwise: Exp Neg] ; CumSum", summary(out));
        assertEquals(1L, ctx.counters().get("partition.kernels"));
        assertEquals(2L, ctx.counters().get("partition.fused_nodes"));
        assertEquals(2L, ctx.counters().get("partition.plain_nodes"));
    }

    @Test
    void kernelBodyMustMatchTheNode() {
        Graph g = partition("""
                graph @bad(%x: tensor<[4],f32>, %y: tensor<[4],f32>) -> (%z: tensor<[4],f32>) {
                  %z = Add(%x, %y)
                }""");
        Node k = g.nodes().get(0);
        Graph broken = g.withNodes(List.of(k.withInputs(List.of(k.input(0)))));
        var e = assertThrows(dev.gale.ir.GaleException.class, () -> ShapeInference.run(broken));
        assertTrue(e.getMessage().contains("the body takes 2 inputs"), e.getMessage());
        Map<String, Object> f = feeds(broken);
        var run = assertThrows(dev.gale.ir.GaleException.class, () -> Interpreter.run(Model.of(broken), f));
        assertTrue(run.getMessage().contains("the body takes 2 inputs, the node has 1"), run.getMessage());
    }

    // ---------------------------------------------------------------- helpers

    private Graph inputGraph;

    private static Graph parse(String text) { return TextParser.parse(text).graph(); }

    private Graph partition(String text) { return partition(text, PassContext.defaults()); }

    /** Partitions, checks the result's structure and that it computes bit for bit what the input did. */
    private Graph partition(String text, PassContext ctx) {
        inputGraph = parse(text);
        Graph g = new Partition().run(inputGraph, ctx);
        Verifier.verify(g);
        ShapeInference.run(g);
        Model m = Model.of(g);
        assertEquals(UseTypes.refresh(m), TextParser.parse(TextPrinter.print(m, PrintOptions.INLINE)));
        if (inputGraph.inputs().stream().allMatch(v -> v.tensorType().dtype() == DType.FLOAT32)) {
            Map<String, Object> f = feeds(inputGraph);
            assertEquals(Interpreter.run(Model.of(inputGraph), f), Interpreter.run(m, f), "outputs differ");
        }
        return g;
    }

    private static Map<String, Object> feeds(Graph g) {
        Random r = new Random(1);
        Map<String, Object> f = new HashMap<>();
        for (Value v : g.runtimeInputs()) {
            if (v.tensorType().dtype() != DType.FLOAT32) continue;
            Tensor t = Tensor.zeros(DType.FLOAT32, v.tensorType().shape().sizes());
            for (int i = 0; i < t.numel(); i++) t.setDouble(i, r.nextGaussian());
            f.put(v.name(), t);
        }
        return f;
    }

    private static Graph body(Node kernel) { return ((Attr.GraphAttr) kernel.attr("body")).value(); }

    /** Kernels as {@code [pattern: ops]} without constants, plain nodes by op, in order. */
    static String summary(Graph g) {
        List<String> parts = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!n.op().equals("Kernel")) {
                parts.add(n.op());
                continue;
            }
            StringBuilder sb = new StringBuilder("[" + ((Attr.StringAttr) n.attr("pattern")).value() + ":");
            for (Node b : body(n).nodes()) if (!b.op().equals("Constant")) sb.append(' ').append(b.op());
            parts.add(sb.append(']').toString());
        }
        return String.join(" ; ", parts);
    }
}
