package dev.gale.torture.grad;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.gale.torture.grad.GradientCheck.*;

/**
 * Gradient-check cases: neural-network layers (MatMul, Gemm, Conv, ConvTranspose, pooling, normalization, Dropout).
 * Normalization nodes are checked with their first output only: the running statistics and Mean/InvStdDev outputs
 * are not differentiated (PyTorch buffers), so finite differences through them would disagree by design.
 */
final class GradientCasesNn {
    private GradientCasesNn() {}

    /** Attributes from alternating name, value pairs (Long, Float, String, long[] values). */
    private static Map<String, Attr> attrs(Object... kv) {
        Map<String, Attr> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put((String) kv[i], switch (v) {
                case Long l -> Attr.of(l);
                case Integer n -> Attr.of((long) n);
                case Float f -> Attr.of(f);
                case String s -> Attr.of(s);
                case long[] a -> Attr.of(a);
                default -> throw new IllegalArgumentException("attribute value " + v);
            });
        }
        return m;
    }

    private static long[] ints(long... v) { return v; }

    private static GradientRulesTest.Case k(String name, String op, Map<String, Attr> a, Operand... operands) {
        return new GradientRulesTest.Case(name, op, a, Arrays.asList(operands), 1);
    }

    static List<GradientRulesTest.Case> cases(Random r) {
        List<GradientRulesTest.Case> c = new ArrayList<>();
        Map<String, Attr> none = Map.of();

        // MatMul: matrices, batches, broadcast batch dims, 1-D operands on either side.
        c.add(k("MatMul 2x3 3x4", "MatMul", none, param(r, 2, 3), param(r, 3, 4)));
        c.add(k("MatMul batched", "MatMul", none, param(r, 2, 3, 4), param(r, 2, 4, 2)));
        c.add(k("MatMul broadcast batch", "MatMul", none, param(r, 2, 1, 3, 4), param(r, 3, 4, 2)));
        c.add(k("MatMul batch x matrix", "MatMul", none, param(r, 2, 3, 4), param(r, 4, 5)));
        c.add(k("MatMul 1-D left", "MatMul", none, param(r, 3), param(r, 2, 3, 4)));
        c.add(k("MatMul 1-D right", "MatMul", none, param(r, 2, 3, 4), param(r, 4)));
        c.add(k("MatMul vector matrix", "MatMul", none, param(r, 4), param(r, 4, 5)));
        c.add(k("MatMul matrix vector", "MatMul", none, param(r, 3, 4), param(r, 4)));
        c.add(k("MatMul dot", "MatMul", none, param(r, 4), param(r, 4)));
        // A 2-D operand broadcast over the other's batch dims: its gradient is one 2-D product over all rows (on the
        // left only when n <= k; otherwise the batched product summed over the batch).
        c.add(k("MatMul rank-4 batch x matrix", "MatMul", none, param(r, 2, 2, 3, 4), param(r, 4, 3)));
        c.add(k("MatMul rank-4 batch x vector", "MatMul", none, param(r, 2, 2, 3, 4), param(r, 4)));
        c.add(k("MatMul matrix x batch, n <= k", "MatMul", none, param(r, 3, 4), param(r, 2, 4, 3)));
        c.add(k("MatMul matrix x rank-4 batch, n <= k", "MatMul", none, param(r, 3, 4), param(r, 2, 2, 4, 2)));
        c.add(k("MatMul matrix x batch, n > k", "MatMul", none, param(r, 3, 4), param(r, 2, 4, 5)));
        c.add(k("MatMul vector x batch, n <= k", "MatMul", none, param(r, 4), param(r, 2, 4, 3)));

        // Gemm: every transpose combination, alpha/beta, C broadcast from every allowed shape.
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                Operand a = ta == 0 ? param(r, 3, 4) : param(r, 4, 3), b = tb == 0 ? param(r, 4, 2) : param(r, 2, 4);
                c.add(k("Gemm transA=" + ta + " transB=" + tb, "Gemm",
                        attrs("transA", ta, "transB", tb, "alpha", 0.7f, "beta", 1.3f), a, b, param(r, 3, 2)));
            }
        }
        c.add(k("Gemm Linear (transB, C [N])", "Gemm", attrs("transB", 1), param(r, 3, 4), param(r, 2, 4), param(r, 2)));
        c.add(k("Gemm C [M, 1]", "Gemm", attrs("beta", 0.5f), param(r, 3, 4), param(r, 4, 2), param(r, 3, 1)));
        c.add(k("Gemm C scalar", "Gemm", none, param(r, 3, 4), param(r, 4, 2), param(r)));
        c.add(k("Gemm no C", "Gemm", attrs("alpha", 2.0f), param(r, 3, 4), param(r, 4, 2)));

        // Conv: 1-D/2-D/3-D, strides (with a leftover input column), pads, dilations, groups, auto_pad, bias.
        c.add(k("Conv 1-D", "Conv", none, param(r, 2, 3, 7), param(r, 4, 3, 3), param(r, 4)));
        c.add(k("Conv 2-D pads strides", "Conv", attrs("pads", ints(1, 0, 1, 2), "strides", ints(2, 2)),
                param(r, 2, 2, 5, 6), param(r, 3, 2, 3, 3), param(r, 3)));
        c.add(k("Conv 2-D dilations", "Conv", attrs("dilations", ints(2, 1), "pads", ints(1, 1, 1, 1)),
                param(r, 1, 2, 5, 5), param(r, 2, 2, 2, 3)));
        c.add(k("Conv groups", "Conv", attrs("group", 2, "strides", ints(1, 2)),
                param(r, 2, 4, 4, 5), param(r, 6, 2, 2, 2), param(r, 6)));
        c.add(k("Conv depthwise", "Conv", attrs("group", 3, "pads", ints(1, 1, 1, 1)),
                param(r, 1, 3, 4, 4), param(r, 3, 1, 3, 3)));
        c.add(k("Conv auto_pad SAME_UPPER", "Conv", attrs("auto_pad", "SAME_UPPER", "strides", ints(2, 2)),
                param(r, 1, 2, 5, 4), param(r, 2, 2, 2, 3)));
        c.add(k("Conv auto_pad SAME_LOWER", "Conv", attrs("auto_pad", "SAME_LOWER"),
                param(r, 1, 2, 4, 4), param(r, 2, 2, 2, 2)));
        c.add(k("Conv auto_pad VALID kernel_shape", "Conv", attrs("auto_pad", "VALID", "kernel_shape", ints(2, 2)),
                param(r, 1, 1, 4, 3), param(r, 2, 1, 2, 2), param(r, 2)));
        c.add(k("Conv 3-D", "Conv", attrs("pads", ints(0, 1, 0, 1, 0, 1), "strides", ints(1, 2, 1)),
                param(r, 1, 2, 3, 4, 3), param(r, 2, 2, 2, 2, 2), param(r, 2)));

        // ConvTranspose: strides, pads, output_padding, output_shape, groups, dilations, auto_pad.
        c.add(k("ConvTranspose 1-D", "ConvTranspose", none, param(r, 2, 3, 4), param(r, 3, 2, 3), param(r, 2)));
        c.add(k("ConvTranspose 2-D strides pads", "ConvTranspose",
                attrs("strides", ints(2, 2), "pads", ints(1, 0, 0, 1), "output_padding", ints(1, 0)),
                param(r, 1, 2, 3, 3), param(r, 2, 3, 3, 3), param(r, 3)));
        c.add(k("ConvTranspose groups dilations", "ConvTranspose", attrs("group", 2, "dilations", ints(2, 1)),
                param(r, 2, 4, 3, 2), param(r, 4, 1, 2, 2), param(r, 2)));
        c.add(k("ConvTranspose output_shape", "ConvTranspose",
                attrs("strides", ints(2, 2), "output_shape", ints(8, 7)), param(r, 1, 1, 3, 3), param(r, 1, 2, 3, 3)));
        c.add(k("ConvTranspose SAME_UPPER", "ConvTranspose", attrs("strides", ints(2), "auto_pad", "SAME_UPPER"),
                param(r, 1, 2, 3), param(r, 2, 1, 3)));

        // Pooling.
        c.add(k("MaxPool 2x2 stride 2", "MaxPool", attrs("kernel_shape", ints(2, 2), "strides", ints(2, 2)),
                param(r, 2, 2, 4, 4)));
        c.add(k("MaxPool 3x3 pads overlapping", "MaxPool", attrs("kernel_shape", ints(3, 3), "pads", ints(1, 1, 1, 1)),
                param(r, 1, 2, 4, 3)));
        c.add(k("MaxPool ceil_mode dilations", "MaxPool",
                attrs("kernel_shape", ints(2, 2), "strides", ints(2, 2), "ceil_mode", 1, "dilations", ints(1, 2)),
                param(r, 1, 1, 5, 6)));
        c.add(k("MaxPool 1-D SAME_UPPER", "MaxPool", attrs("kernel_shape", ints(3), "strides", ints(2),
                "auto_pad", "SAME_UPPER"), param(r, 2, 2, 7)));
        c.add(k("MaxPool 3-D", "MaxPool", attrs("kernel_shape", ints(2, 2, 2)), param(r, 1, 1, 3, 3, 3)));
        c.add(new GradientRulesTest.Case("MaxPool with Indices", "MaxPool",
                attrs("kernel_shape", ints(2, 2), "strides", ints(1, 1)), List.of(param(r, 1, 2, 3, 3)), 2));
        c.add(k("AveragePool exclude pad", "AveragePool", attrs("kernel_shape", ints(3, 3), "pads", ints(1, 1, 1, 1),
                "strides", ints(2, 2)), param(r, 1, 2, 5, 4)));
        c.add(k("AveragePool include pad", "AveragePool", attrs("kernel_shape", ints(3, 3), "pads", ints(1, 0, 2, 1),
                "count_include_pad", 1), param(r, 1, 2, 4, 4)));
        c.add(k("AveragePool ceil_mode include pad", "AveragePool", attrs("kernel_shape", ints(2, 2),
                "strides", ints(2, 2), "ceil_mode", 1, "pads", ints(1, 1, 1, 1), "count_include_pad", 1),
                param(r, 1, 1, 5, 4)));
        c.add(k("AveragePool ceil_mode", "AveragePool", attrs("kernel_shape", ints(3), "strides", ints(2),
                "ceil_mode", 1), param(r, 2, 1, 6)));
        c.add(k("AveragePool 3-D SAME_LOWER", "AveragePool", attrs("kernel_shape", ints(2, 2, 2),
                "auto_pad", "SAME_LOWER"), param(r, 1, 1, 3, 3, 2)));
        c.add(k("GlobalAveragePool", "GlobalAveragePool", none, param(r, 2, 3, 3, 2)));
        c.add(k("GlobalMaxPool", "GlobalMaxPool", none, param(r, 2, 3, 4, 2)));

        // Normalization (first output only; see the class comment).
        Operand var = new Operand(random(r, 0.5, 2, 3), false), mean = fixed(random(r, -1, 1, 3));
        c.add(k("BatchNormalization training", "BatchNormalization", attrs("training_mode", 1, "epsilon", 1e-3f),
                param(r, 2, 3, 2, 2), param(r, 3), param(r, 3), mean, var));
        c.add(k("BatchNormalization training 2-D", "BatchNormalization", attrs("training_mode", 1),
                param(r, 4, 3), param(r, 3), param(r, 3), mean, var));
        c.add(k("BatchNormalization inference", "BatchNormalization", none,
                param(r, 2, 3, 3), param(r, 3), param(r, 3), mean, var));
        c.add(k("InstanceNormalization", "InstanceNormalization", attrs("epsilon", 1e-3f),
                param(r, 2, 3, 4), param(r, 3), param(r, 3)));
        c.add(k("InstanceNormalization 2-D spatial", "InstanceNormalization", none,
                param(r, 1, 2, 2, 3), param(r, 2), param(r, 2)));
        c.add(k("GroupNormalization per group", "GroupNormalization", attrs("num_groups", 2),
                param(r, 2, 4, 3), param(r, 2), param(r, 2)));
        c.add(k("GroupNormalization per channel", "GroupNormalization", attrs("num_groups", 2, "epsilon", 1e-2f),
                param(r, 2, 4, 2, 2), param(r, 4), param(r, 4)));
        c.add(k("LayerNormalization last axis", "LayerNormalization", none, param(r, 2, 3, 4), param(r, 4), param(r, 4)));
        c.add(k("LayerNormalization axis 1", "LayerNormalization", attrs("axis", 1, "epsilon", 1e-3f),
                param(r, 2, 3, 4), param(r, 3, 4), param(r, 4)));
        c.add(k("LayerNormalization negative axis no bias", "LayerNormalization", attrs("axis", -2),
                param(r, 2, 3, 4), param(r, 3, 4)));
        c.add(k("LayerNormalization scale broadcast", "LayerNormalization", attrs("axis", 1),
                param(r, 2, 3, 4), param(r, 1, 4), param(r, 3, 1)));

        // Dropout: inference (identity), training with its mask (seeded so every run draws the same mask).
        c.add(k("Dropout inference", "Dropout", none, param(r, 3, 4)));
        c.add(k("Dropout training_mode false", "Dropout", none, param(r, 3, 4),
                fixed(Tensor.scalar(DType.FLOAT64, 0.3)), fixed(Tensor.ofBools(new long[0], false))));
        c.add(new GradientRulesTest.Case("Dropout training with mask", "Dropout", attrs("seed", 7),
                List.of(param(r, 4, 5), fixed(Tensor.scalar(DType.FLOAT32, 0.3f)),
                        fixed(Tensor.ofBools(new long[0], true))), 2));
        c.add(new GradientRulesTest.Case("Dropout training default ratio", "Dropout", attrs("seed", 3),
                Arrays.asList(param(r, 6), null, fixed(Tensor.ofBools(new long[0], true))), 2));

        // Einsum: contractions, batch labels, a label only one operand has, broadcast ellipsis, three operands.
        c.add(k("Einsum matmul", "Einsum", attrs("equation", "ij,jk->ik"), param(r, 2, 3), param(r, 3, 4)));
        c.add(k("Einsum batched transpose", "Einsum", attrs("equation", "bij,bkj->bki"), param(r, 2, 3, 4),
                param(r, 2, 2, 4)));
        c.add(k("Einsum sum out a label", "Einsum", attrs("equation", "ij,k->ik"), param(r, 2, 3), param(r, 4)));
        c.add(k("Einsum row sum", "Einsum", attrs("equation", "ij->i"), param(r, 3, 4)));
        c.add(k("Einsum implicit outer", "Einsum", attrs("equation", "i,j"), param(r, 3), param(r, 2)));
        c.add(k("Einsum ellipsis broadcast", "Einsum", attrs("equation", "...ij,...jk->...ik"),
                param(r, 2, 1, 2, 3), param(r, 3, 3, 2)));
        c.add(k("Einsum three operands", "Einsum", attrs("equation", "ij,jk,k->i"), param(r, 2, 3), param(r, 3, 2),
                param(r, 2)));
        c.add(k("Einsum diagonal of another operand", "Einsum", attrs("equation", "ii,ij->j"),
                fixed(random(r, -1, 1, 3, 3)), param(r, 3, 2)));
        return c;
    }
}
