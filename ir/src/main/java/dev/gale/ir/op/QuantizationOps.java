package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: linear quantization (uint8/int8 with a float32 scale and a zero point) and the integer forms of
 * Conv and MatMul. QuantizeLinear and DequantizeLinear read a per-tensor or per-axis scale, so they broadcast; the
 * conv and matmul forms are output-elementwise-fusable like their float counterparts.
 */
final class QuantizationOps {
    private QuantizationOps() {}

    static void register() {
        define("QuantizeLinear").inputs(2, 3).attr("axis", 1L).category(BROADCAST)
                .infer(c -> {
                    checkQuantAxis(c, 1);
                    DType out = c.hasInput(2) ? c.dtype(2) : DType.UINT8;
                    return List.of(Type.tensor(out, c.shape(0)));
                }).register();
        define("DequantizeLinear").inputs(2, 3).attr("axis", 1L).category(BROADCAST)
                .infer(c -> {
                    checkQuantAxis(c, 1);
                    return List.of(Type.tensor(c.dtype(1), c.shape(0)));
                }).register();
        define("DynamicQuantizeLinear").inputs(1).outputs(3).category(OPAQUE)
                .infer(c -> List.of(Type.tensor(DType.UINT8, c.shape(0)), Type.tensor(DType.FLOAT32, Shape.SCALAR),
                        Type.tensor(DType.UINT8, Shape.SCALAR))).register();
        define("ConvInteger").inputs(2, 4).category(OUT_ELEMENTWISE_FUSABLE).attr("auto_pad", "NOTSET")
                .optional("dilations", Attr.Kind.INTS).attr("group", 1L).optional("kernel_shape", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS)
                .infer(c -> List.of(Type.tensor(DType.INT32, convShape(c, 0, 1)))).register();
        define("QLinearConv").inputs(8, 9).category(OUT_ELEMENTWISE_FUSABLE).attr("auto_pad", "NOTSET")
                .optional("dilations", Attr.Kind.INTS).attr("group", 1L).optional("kernel_shape", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS)
                .infer(c -> List.of(Type.tensor(c.dtype(7), convShape(c, 0, 3)))).register();
        define("MatMulInteger").inputs(2, 4).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(c -> List.of(Type.tensor(DType.INT32, matMulShape(c, 0, 1)))).register();
        define("QLinearMatMul").inputs(8).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(c -> List.of(Type.tensor(c.dtype(7), matMulShape(c, 0, 3)))).register();
    }

    /** A 1-D scale means per-axis quantization: the axis must exist in the input. */
    private static void checkQuantAxis(InferContext c, int scaleInput) {
        Shape x = c.shape(0), s = c.shape(scaleInput);
        if (x == null || s == null || s.rank() == 0) return;
        if (s.rank() != 1) throw c.error("the scale must be a scalar or a 1-D tensor, got shape " + s);
        int axis = Infer.axis(c.attrInt("axis"), x.rank(), c);
        Dim d = x.dim(axis), n = s.dim(0);
        if (d.isFixed() && n.isFixed() && !d.equals(n) && !n.equals(Dim.of(1)))
            throw c.error("per-axis scale has " + n + " elements but axis " + axis + " of the input has " + d);
    }

    /**
     * Output shape of a convolution of input {@code x} (N, C, D1...) with weights {@code w} (M, C/group, k1...):
     * (N, M, O1...), each O computed from the pads, strides, dilations and auto_pad of the node.
     */
    static Shape convShape(InferContext c, int x, int w) {
        Shape xs = c.shape(x), ws = c.shape(w);
        if (xs == null) return null;
        if (xs.rank() < 3) throw c.error("input must have rank >= 3 (N, C, spatial...), got " + xs);
        int spatial = xs.rank() - 2;
        if (ws != null && ws.rank() != xs.rank())
            throw c.error("weights of shape " + ws + " do not match the input rank " + xs.rank());
        long group = c.attrInt("group");
        if (group < 1) throw c.error("group must be >= 1, got " + group);
        if (ws != null && xs.dim(1).isFixed() && ws.dim(1).isFixed()
                && xs.dim(1).sizeOr(0) != ws.dim(1).sizeOr(0) * group)
            throw c.error("input has " + xs.dim(1) + " channels but weights expect " + ws.dim(1) + " x group " + group);
        long[] kernel = c.hasAttr("kernel_shape") ? c.attrInts("kernel_shape") : null;
        if (kernel == null && ws != null) {
            kernel = new long[spatial];
            for (int i = 0; i < spatial; i++) kernel[i] = ws.dim(2 + i).sizeOr(-1);
        }
        long[] strides = ints(c, "strides", spatial, 1);
        long[] dilations = ints(c, "dilations", spatial, 1);
        long[] pads = ints(c, "pads", 2 * spatial, 0);
        String autoPad = c.attrString("auto_pad");
        if (!List.of("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER").contains(autoPad))
            throw c.error("auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '" + autoPad + "'");
        List<Dim> out = new ArrayList<>();
        out.add(xs.dim(0));
        out.add(ws == null ? Dim.UNKNOWN : ws.dim(0));
        for (int i = 0; i < spatial; i++) {
            long in = xs.dim(2 + i).sizeOr(-1);
            long k = kernel == null || kernel.length != spatial ? -1 : kernel[i];
            if (strides[i] < 1 || dilations[i] < 1) throw c.error("strides and dilations must be >= 1");
            if (in < 0) {
                out.add(Dim.UNKNOWN);
            } else if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
                out.add(Dim.of((in + strides[i] - 1) / strides[i]));
            } else if (k < 0) {
                out.add(Dim.UNKNOWN);
            } else {
                long p = autoPad.equals("VALID") ? 0 : pads[i] + pads[i + spatial];
                long span = (k - 1) * dilations[i] + 1;
                if (in + p < span)
                    throw c.error("kernel extent " + span + " exceeds the padded input size " + (in + p)
                            + " along spatial axis " + i);
                out.add(Dim.of((in + p - span) / strides[i] + 1));
            }
        }
        return new Shape(out);
    }

    private static long[] ints(InferContext c, String name, int n, long fill) {
        long[] v = c.hasAttr(name) ? c.attrInts(name) : null;
        if (v == null) {
            v = new long[n];
            java.util.Arrays.fill(v, fill);
        } else if (v.length != n) {
            throw c.error("attribute '" + name + "' has " + v.length + " values, expected " + n);
        }
        return v;
    }

    /** Numpy matmul shape: 1-D operands gain and then lose a unit dimension; batch dimensions broadcast. */
    static Shape matMulShape(InferContext c, int a, int b) {
        Shape as = c.shape(a), bs = c.shape(b);
        if (as == null || bs == null) return null;
        if (as.rank() == 0 || bs.rank() == 0) throw c.error("matmul operands must have rank >= 1");
        Shape a2 = as.rank() == 1 ? Shape.of(Dim.of(1), as.dim(0)) : as;
        Shape b2 = bs.rank() == 1 ? Shape.of(bs.dim(0), Dim.of(1)) : bs;
        Dim ka = a2.dim(a2.rank() - 1), kb = b2.dim(b2.rank() - 2);
        if (ka.isFixed() && kb.isFixed() && !ka.equals(kb))
            throw c.error("matmul inner dimensions differ: " + as + " and " + bs);
        Shape batch = Infer.broadcast(new Shape(a2.dims().subList(0, a2.rank() - 2)),
                new Shape(b2.dims().subList(0, b2.rank() - 2)), c);
        List<Dim> out = new ArrayList<>(batch.dims());
        if (as.rank() > 1) out.add(a2.dim(a2.rank() - 2));
        if (bs.rank() > 1) out.add(b2.dim(b2.rank() - 1));
        return new Shape(out);
    }
}
