package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import dev.gale.torture.grad.GradientCheck.Operand;
import dev.gale.torture.grad.GradientRulesTest.Case;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.torture.grad.GradientCheck.*;

/**
 * Gradient-check cases of the reduction family: the Reduce* ops over several axes/keepdims/noop settings, ReduceMax and
 * ReduceMin with a two-way tie (central differences give each tied element half, as the even split does), the softmax
 * family along every axis, CumSum, TopK values, and the two losses with every reduction, weights and ignore_index.
 */
final class GradientCasesReduction {
    private GradientCasesReduction() {}

    static List<Case> cases(Random r) {
        List<Case> c = new ArrayList<>();
        for (String op : List.of("ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum",
                "ReduceLogSumExp", "ReduceMax", "ReduceMin", "ReduceProd"))
            reduce(c, r, op);
        tie(c, "ReduceMax", new double[] {0.5, 0.9, 0.9, -0.3, 0.1, 0.2});
        tie(c, "ReduceMin", new double[] {-0.7, 0.3, -0.7, -0.2, 0.1, -0.2});

        for (String op : List.of("Softmax", "LogSoftmax"))
            for (long axis : new long[] {-1, 0, 1, 2})
                c.add(new Case(op + " axis " + axis, op, Map.of("axis", Attr.of(axis)), List.of(param(r, 2, 3, 4)), 1));
        c.add(new Case("Softmax 2-D default axis", "Softmax", Map.of(), List.of(param(r, 3, 5)), 1));

        for (long axis : new long[] {0, 1, -1})
            for (long exclusive = 0; exclusive <= 1; exclusive++)
                for (long reverse = 0; reverse <= 1; reverse++)
                    c.add(new Case("CumSum axis " + axis + " exclusive " + exclusive + " reverse " + reverse, "CumSum",
                            Map.of("exclusive", Attr.of(exclusive), "reverse", Attr.of(reverse)),
                            List.of(param(r, 3, 4), fixed(Tensor.scalarLong(DType.INT64, axis))), 1));
        c.add(new Case("CumSum 1-D axis tensor", "CumSum", Map.of(),
                List.of(param(r, 2, 3, 2), fixed(Tensor.vector(1))), 1));

        c.add(new Case("TopK last axis", "TopK", Map.of(), List.of(param(r, 3, 5), fixed(Tensor.vector(2))), 2));
        c.add(new Case("TopK axis 0 smallest", "TopK", Map.of("axis", Attr.of(0L), "largest", Attr.of(0L)),
                List.of(param(r, 4, 3), fixed(Tensor.vector(3))), 2));
        c.add(new Case("TopK axis 1 unsorted", "TopK", Map.of("axis", Attr.of(1L), "sorted", Attr.of(0L)),
                List.of(param(r, 2, 4, 3), fixed(Tensor.vector(2))), 2));

        for (String op : List.of("SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"))
            losses(c, r, op);
        return c;
    }

    private static void reduce(List<Case> c, Random r, String op) {
        // Axis sets on a [2, 3, 4] input: one axis, a negative one, two axes, all axes (omitted), no-op (empty axes).
        record Axes(String name, long[] axes, long keepdims, long noop) {}
        List<Axes> settings = List.of(
                new Axes("axis 1", new long[] {1}, 0, 0),
                new Axes("axis -1 keepdims", new long[] {-1}, 1, 0),
                new Axes("axes 0,2", new long[] {0, 2}, 0, 0),
                new Axes("axes -3,1 keepdims", new long[] {-3, 1}, 1, 0),
                new Axes("all", null, 0, 0),
                new Axes("all keepdims", null, 1, 0),
                new Axes("empty axes", new long[0], 0, 0),
                new Axes("empty axes noop", new long[0], 0, 1));
        for (Axes a : settings) {
            List<Operand> in = new ArrayList<>();
            in.add(operand(r, op, 2, 3, 4));
            if (a.axes() != null) in.add(fixed(Tensor.vector(a.axes())));
            Map<String, Attr> attrs = new HashMap<>();
            attrs.put("keepdims", Attr.of(a.keepdims()));
            if (a.noop() != 0) attrs.put("noop_with_empty_axes", Attr.of(a.noop()));
            c.add(new Case(op + " " + a.name(), op, attrs, in, 1));
        }
        c.add(new Case(op + " of a scalar", op, Map.of(), List.of(operand(r, op)), 1));
    }

    /** Inputs each op is smooth on: positive for ReduceLogSum, away from 0 for ReduceL1 and ReduceProd. */
    private static Operand operand(Random r, String op, long... shape) {
        return switch (op) {
            case "ReduceLogSum" -> positive(r, shape);
            case "ReduceL1", "ReduceProd" -> {
                Tensor t = random(r, 0.5, 1.5, shape);
                for (int i = 0; i < t.numel(); i++) if (r.nextBoolean()) t.setDouble(i, -t.getDouble(i));
                yield new Operand(t, true);
            }
            default -> param(r, shape);
        };
    }

    private static void tie(List<Case> c, String op, double[] values) {
        Tensor x = Tensor.ofDoubles(new long[] {2, 3}, values);
        c.add(new Case(op + " two-way tie", op, Map.of("keepdims", Attr.of(0L)),
                List.of(new Operand(x, true), fixed(Tensor.vector(1))), 1));
        c.add(new Case(op + " two-way tie over all", op, Map.of(), List.of(new Operand(x, true)), 1));
    }

    private static void losses(List<Case> c, Random r, String op) {
        Tensor target2 = Tensor.ofLongs(new long[] {4}, 2, 0, 4, 2);
        Tensor target4 = Tensor.ofLongs(new long[] {2, 2, 3}, 0, 1, 2, 2, 1, 0, 1, 1, 0, 2, 0, 1);
        Tensor weight5 = random(r, 0.2, 2, 5), weight3 = random(r, 0.2, 2, 3);
        for (String reduction : List.of("none", "sum", "mean")) {
            Map<String, Attr> red = Map.of("reduction", Attr.of(reduction));
            c.add(new Case(op + " " + reduction, op, red, List.of(param(r, 4, 5), fixed(target2)), 1));
            c.add(new Case(op + " " + reduction + " weighted", op, red,
                    List.of(param(r, 4, 5), fixed(target2), fixed(weight5)), 1));
            c.add(new Case(op + " " + reduction + " (N, C, d1, d2) weighted", op, red,
                    List.of(param(r, 2, 3, 2, 3), fixed(target4), fixed(weight3)), 1));
            Map<String, Attr> ignore = Map.of("reduction", Attr.of(reduction), "ignore_index", Attr.of(2L));
            c.add(new Case(op + " " + reduction + " ignore_index", op, ignore,
                    List.of(param(r, 4, 5), fixed(target2)), 1));
            c.add(new Case(op + " " + reduction + " ignore_index weighted (N, C, d1, d2)", op, ignore,
                    List.of(param(r, 2, 3, 2, 3), fixed(target4), fixed(weight3)), 1));
            Map<String, Attr> negIgnore = Map.of("reduction", Attr.of(reduction), "ignore_index", Attr.of(-1L));
            c.add(new Case(op + " " + reduction + " ignore_index -1", op, negIgnore,
                    List.of(param(r, 4, 5), fixed(Tensor.ofLongs(new long[] {4}, 1, -1, 3, -1))), 1));
            if (op.equals("SoftmaxCrossEntropyLoss")) {
                c.add(new Case(op + " " + reduction + " with log_prob", op, red,
                        List.of(param(r, 4, 5), fixed(target2), fixed(weight5)), 2));
                c.add(new Case(op + " " + reduction + " with log_prob, ignore_index (N, C, d1, d2)", op, ignore,
                        List.of(param(r, 2, 3, 2, 3), fixed(target4)), 2));
            }
        }
        c.add(new Case(op + " int32 target", op, Map.of(), List.of(param(r, 3, 4),
                fixed(Tensor.ofInts(new long[] {3}, 3, 0, 1))), 1));
    }
}
