package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: neural-network layers (MatMul, Gemm, Conv, pooling, normalization, Dropout, Einsum, Det).
 * Window sizes and pads come from {@link ConvGeometry}, the same code the interpreter runs.
 */
final class NnOps {
    private NnOps() {}

    static void register() {
        define("MatMul").inputs(2).outputs(1).category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::matMul).register();
        define("Gemm").inputs(2, 3).outputs(1).attr("alpha", 1.0f).attr("beta", 1.0f).attr("transA", 0L)
                .attr("transB", 0L).category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::gemm).register();
        define("Conv").inputs(2, 3).outputs(1).attr("auto_pad", "NOTSET").optional("dilations", Attr.Kind.INTS)
                .attr("group", 1L).optional("kernel_shape", Attr.Kind.INTS).optional("pads", Attr.Kind.INTS)
                .optional("strides", Attr.Kind.INTS).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(c -> conv(c, false)).register();
        define("ConvTranspose").inputs(2, 3).outputs(1).attr("auto_pad", "NOTSET")
                .optional("dilations", Attr.Kind.INTS).attr("group", 1L).optional("kernel_shape", Attr.Kind.INTS)
                .optional("output_padding", Attr.Kind.INTS).optional("output_shape", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(c -> conv(c, true)).register();

        // Pooling. AveragePool's dilations arrive in opset 19; LpPool's ceil_mode and dilations in opset 18.
        define("AveragePool").inputs(1).outputs(1).attr("auto_pad", "NOTSET").attr("ceil_mode", 0L)
                .attr("count_include_pad", 0L).optional("dilations", Attr.Kind.INTS)
                .required("kernel_shape", Attr.Kind.INTS).optional("pads", Attr.Kind.INTS)
                .optional("strides", Attr.Kind.INTS).category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::pool).register();
        define("MaxPool").inputs(1).outputs(1, 2).attr("auto_pad", "NOTSET").attr("ceil_mode", 0L)
                .optional("dilations", Attr.Kind.INTS).required("kernel_shape", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).attr("storage_order", 0L).optional("strides", Attr.Kind.INTS)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::pool).register();
        define("LpPool").inputs(1).outputs(1).attr("auto_pad", "NOTSET").attr("ceil_mode", 0L)
                .optional("dilations", Attr.Kind.INTS).required("kernel_shape", Attr.Kind.INTS).attr("p", 2L)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::pool).register();
        define("GlobalAveragePool").inputs(1).outputs(1).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(NnOps::globalPool).register();
        define("GlobalMaxPool").inputs(1).outputs(1).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(NnOps::globalPool).register();
        define("GlobalLpPool").inputs(1).outputs(1).attr("p", 2L).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(NnOps::globalPool).register();
        define("MaxUnpool").inputs(2, 3).outputs(1).required("kernel_shape", Attr.Kind.INTS)
                .optional("pads", Attr.Kind.INTS).optional("strides", Attr.Kind.INTS).category(OPAQUE)
                .infer(NnOps::maxUnpool).register();

        // Normalization.
        define("BatchNormalization").inputs(5).outputs(1, 3).attr("epsilon", 1e-5f).attr("momentum", 0.9f)
                .attr("training_mode", 0L).category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::batchNorm).register();
        define("InstanceNormalization").inputs(3).outputs(1).attr("epsilon", 1e-5f)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(c -> channelNorm(c, 1, 2)).register();
        define("LayerNormalization").inputs(2, 3).outputs(1, 3).attr("axis", -1L).attr("epsilon", 1e-5f)
                .attr("stash_type", 1L).category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::layerNorm).register();
        define("GroupNormalization").inputs(3).outputs(1).attr("epsilon", 1e-5f)
                .required("num_groups", Attr.Kind.INT).category(OUT_ELEMENTWISE_FUSABLE)
                .infer(c -> channelNorm(c, 1, 2)).register();
        define("LRN").inputs(1).outputs(1).attr("alpha", 1e-4f).attr("beta", 0.75f).attr("bias", 1.0f)
                .required("size", Attr.Kind.INT).category(OPAQUE).infer(c -> channelNorm(c, 1, 0)).register();
        define("MeanVarianceNormalization").inputs(1).outputs(1).attrInts("axes", 0, 2, 3)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(Infer.sameAs(0)).register();

        define("Dropout").inputs(1, 3).outputs(1, 2).optional("seed", Attr.Kind.INT).category(OPAQUE)
                .infer(NnOps::dropout).register();
        define("Einsum").inputs(1, OpSchema.VARIADIC).outputs(1).required("equation", Attr.Kind.STRING)
                .category(OUT_ELEMENTWISE_FUSABLE).infer(NnOps::einsum).register();
        define("Det").inputs(1).outputs(1).category(OPAQUE).infer(NnOps::det).register();
    }

    // ---- shape arithmetic shared by the rules below

    static long size(Dim d) { return d instanceof Dim.Fixed f ? f.size() : ConvGeometry.UNKNOWN; }

    static Dim dim(long size) { return size == ConvGeometry.UNKNOWN ? Dim.UNKNOWN : Dim.of(size); }

    /** Two dims that must agree: the known one, or an error when both are fixed and differ. */
    static Dim unify(Dim a, Dim b, String what, InferContext c) {
        if (a.isFixed() && b.isFixed() && !a.equals(b)) throw c.error(what + ": " + a + " vs " + b);
        if (a.isFixed()) return a;
        if (b.isFixed()) return b;
        return a instanceof Dim.Sym ? a : b;
    }

    private static void requireFloat(InferContext c, int i) {
        DType t = c.dtype(i);
        if (!t.isFloat()) throw c.error("input " + i + " must be a floating-point tensor, got " + t);
    }

    // ---- MatMul / Gemm

    private static List<Type> matMul(InferContext c) {
        DType t = c.dtype(0);
        if (c.dtype(1) != t) throw c.error("operands have different element types " + t + " and " + c.dtype(1));
        Shape a = c.shape(0), b = c.shape(1);
        if (a == null || b == null) return List.of(Type.unranked(t));
        if (a.rank() == 0 || b.rank() == 0) throw c.error("MatMul operands must have rank at least 1");
        List<Dim> ad = new ArrayList<>(a.dims()), bd = new ArrayList<>(b.dims());
        if (ad.size() == 1) ad.addFirst(Dim.of(1));
        if (bd.size() == 1) bd.add(Dim.of(1));
        unify(ad.get(ad.size() - 1), bd.get(bd.size() - 2), "inner dimensions of " + a + " and " + b + " differ", c);
        Shape batch = Infer.broadcast(new Shape(ad.subList(0, ad.size() - 2)),
                new Shape(bd.subList(0, bd.size() - 2)), c);
        List<Dim> out = new ArrayList<>(batch.dims());
        if (a.rank() > 1) out.add(ad.get(ad.size() - 2));
        if (b.rank() > 1) out.add(bd.get(bd.size() - 1));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> gemm(InferContext c) {
        DType t = c.dtype(0);
        Shape a = c.shape(0), b = c.shape(1);
        if (a != null && a.rank() != 2) throw c.error("A must be a matrix, got shape " + a);
        if (b != null && b.rank() != 2) throw c.error("B must be a matrix, got shape " + b);
        if (a == null || b == null) return List.of(Type.tensor(t, Shape.of(Dim.UNKNOWN, Dim.UNKNOWN)));
        boolean ta = c.attrInt("transA") != 0, tb = c.attrInt("transB") != 0;
        Dim m = a.dim(ta ? 1 : 0), ka = a.dim(ta ? 0 : 1), kb = b.dim(tb ? 1 : 0), n = b.dim(tb ? 0 : 1);
        unify(ka, kb, "inner dimensions of A " + a + " and B " + b + " differ", c);
        Shape out = Shape.of(m, n);
        Shape bias = c.hasInput(2) ? c.shape(2) : null;
        if (bias != null) {
            if (bias.rank() > 2) throw c.error("C must have rank at most 2, got " + bias);
            Shape joint = Infer.broadcast(out, bias, c);
            for (int k = 0; k < bias.rank(); k++) {
                Dim cd = bias.dim(bias.rank() - 1 - k), od = out.dim(1 - k);
                if (cd.isFixed() && od.isFixed() && !cd.equals(Dim.of(1)) && !cd.equals(od))
                    throw c.error("C of shape " + bias + " does not broadcast to " + out);
            }
            // C broadcasts to (M, N) one way only; a fixed size it carries pins a symbolic M or N.
            out = joint;
        }
        return List.of(Type.tensor(t, out));
    }

    // ---- Conv / ConvTranspose / pooling

    private static List<Type> conv(InferContext c, boolean transposed) {
        DType t = c.dtype(0);
        requireFloat(c, 0);
        Shape x = c.shape(0), w = c.shape(1);
        long[] kAttr = c.hasAttr("kernel_shape") ? c.attrInts("kernel_shape") : null;
        int rank = x != null ? x.rank() : w != null ? w.rank() : kAttr != null ? kAttr.length + 2 : -1;
        if (rank < 0) return List.of(Type.unranked(t));
        if (rank < 3) throw c.error("input must have rank at least 3 (N, C, spatial...), got rank " + rank);
        if (w != null && w.rank() != rank)
            throw c.error("weight rank " + w.rank() + " differs from input rank " + rank);
        int sr = rank - 2;
        long group = c.attrInt("group");
        if (group < 1) throw c.error("group must be positive, got " + group);
        long[] kernel = new long[sr];
        for (int i = 0; i < sr; i++) {
            long fromW = w == null ? ConvGeometry.UNKNOWN : size(w.dim(i + 2));
            kernel[i] = kAttr == null ? fromW : kAttr.length == sr ? kAttr[i] : ConvGeometry.UNKNOWN;
            if (kAttr != null && kAttr.length == sr && fromW != ConvGeometry.UNKNOWN && fromW != kAttr[i])
                throw c.error("kernel_shape " + Arrays.toString(kAttr) + " disagrees with the weight shape " + w);
        }
        if (kAttr != null && kAttr.length != sr)
            throw c.error("kernel_shape has " + kAttr.length + " values, expected " + sr);
        long[] in = new long[sr];
        for (int i = 0; i < sr; i++) in[i] = x == null ? ConvGeometry.UNKNOWN : size(x.dim(i + 2));
        Dim n = x == null ? Dim.UNKNOWN : x.dim(0);
        long cIn = x == null ? ConvGeometry.UNKNOWN : size(x.dim(1));
        Dim outChannels;
        if (!transposed) {
            long cw = w == null ? ConvGeometry.UNKNOWN : size(w.dim(1));
            if (cIn != ConvGeometry.UNKNOWN && cw != ConvGeometry.UNKNOWN && cIn != cw * group)
                throw c.error("input has " + cIn + " channels but the weight expects " + cw + " x group " + group);
            outChannels = w == null ? Dim.UNKNOWN : w.dim(0);
            long m = size(outChannels);
            if (m != ConvGeometry.UNKNOWN && m % group != 0)
                throw c.error("output channels " + m + " are not divisible by group " + group);
        } else {
            long cw = w == null ? ConvGeometry.UNKNOWN : size(w.dim(0));
            if (cIn != ConvGeometry.UNKNOWN && cw != ConvGeometry.UNKNOWN && cIn != cw)
                throw c.error("input has " + cIn + " channels but the weight has " + cw);
            long m = w == null ? ConvGeometry.UNKNOWN : size(w.dim(1));
            outChannels = m == ConvGeometry.UNKNOWN ? Dim.UNKNOWN : Dim.of(m * group);
        }
        Shape bias = c.hasInput(2) ? c.shape(2) : null;
        if (bias != null) {
            if (bias.rank() != 1) throw c.error("bias must be 1-D, got shape " + bias);
            outChannels = unify(outChannels, bias.dim(0), "bias length differs from the output channels", c);
        }
        ConvGeometry.AutoPad autoPad = ConvGeometry.autoPad(c.attrString("auto_pad"), c::error);
        long[] strides = c.hasAttr("strides") ? c.attrInts("strides") : null;
        long[] dilations = c.hasAttr("dilations") ? c.attrInts("dilations") : null;
        long[] pads = c.hasAttr("pads") ? c.attrInts("pads") : null;
        ConvGeometry g = transposed
                ? ConvGeometry.transposed(in, kernel, strides, dilations, pads, autoPad,
                c.hasAttr("output_padding") ? c.attrInts("output_padding") : null,
                c.hasAttr("output_shape") ? c.attrInts("output_shape") : null, c::error)
                : ConvGeometry.forward(in, kernel, strides, dilations, pads, autoPad, false, c::error);
        List<Dim> out = new ArrayList<>(List.of(n, outChannels));
        for (long o : g.out()) out.add(dim(o));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> pool(InferContext c) {
        DType t = c.dtype(0);
        Shape x = c.shape(0);
        long[] kernel = c.attrInts("kernel_shape");
        int rank = x != null ? x.rank() : kernel.length + 2;
        if (rank < 3) throw c.error("input must have rank at least 3 (N, C, spatial...), got rank " + rank);
        int sr = rank - 2;
        long[] in = new long[sr];
        for (int i = 0; i < sr; i++) in[i] = x == null ? ConvGeometry.UNKNOWN : size(x.dim(i + 2));
        ConvGeometry g = ConvGeometry.forward(in, kernel, c.hasAttr("strides") ? c.attrInts("strides") : null,
                c.hasAttr("dilations") ? c.attrInts("dilations") : null,
                c.hasAttr("pads") ? c.attrInts("pads") : null,
                ConvGeometry.autoPad(c.attrString("auto_pad"), c::error), c.attrInt("ceil_mode") != 0, c::error);
        List<Dim> out = new ArrayList<>();
        out.add(x == null ? Dim.UNKNOWN : x.dim(0));
        out.add(x == null ? Dim.UNKNOWN : x.dim(1));
        for (long o : g.out()) out.add(dim(o));
        Shape s = new Shape(out);
        if (c.numOutputs() > 1) return List.of(Type.tensor(t, s), Type.tensor(DType.INT64, s));
        return List.of(Type.tensor(t, s));
    }

    private static List<Type> globalPool(InferContext c) {
        DType t = c.dtype(0);
        Shape x = c.shape(0);
        if (x == null) return List.of(Type.unranked(t));
        if (x.rank() < 2) throw c.error("input must have rank at least 2 (N, C, spatial...), got " + x);
        List<Dim> out = new ArrayList<>(List.of(x.dim(0), x.dim(1)));
        for (int i = 2; i < x.rank(); i++) out.add(Dim.of(1));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> maxUnpool(InferContext c) {
        DType t = c.dtype(0);
        Shape x = c.shape(0);
        long[] kernel = c.attrInts("kernel_shape");
        int rank = x != null ? x.rank() : kernel.length + 2;
        if (rank < 3) throw c.error("input must have rank at least 3 (N, C, spatial...), got rank " + rank);
        if (c.dtype(1) != DType.INT64) throw c.error("indices must be int64, got " + c.dtype(1));
        if (c.hasInput(2)) {
            Tensor shape = c.constant(2);
            if (shape == null) {
                List<Dim> unknown = new ArrayList<>();
                for (int i = 0; i < rank; i++) unknown.add(Dim.UNKNOWN);
                return List.of(Type.tensor(t, new Shape(unknown)));
            }
            if (shape.numel() != rank)
                throw c.error("output_shape has " + shape.numel() + " values, expected " + rank);
            return List.of(Type.tensor(t, Shape.of(shape.toLongArray())));
        }
        int sr = rank - 2;
        long[] in = new long[sr];
        for (int i = 0; i < sr; i++) in[i] = x == null ? ConvGeometry.UNKNOWN : size(x.dim(i + 2));
        ConvGeometry g = ConvGeometry.transposed(in, kernel, c.hasAttr("strides") ? c.attrInts("strides") : null,
                null, c.hasAttr("pads") ? c.attrInts("pads") : null, ConvGeometry.AutoPad.NOTSET, null, null,
                c::error);
        List<Dim> out = new ArrayList<>();
        out.add(x == null ? Dim.UNKNOWN : x.dim(0));
        out.add(x == null ? Dim.UNKNOWN : x.dim(1));
        for (long o : g.out()) out.add(dim(o));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    // ---- normalization

    private static List<Type> batchNorm(InferContext c) {
        requireFloat(c, 0);
        Shape x = c.shape(0);
        if (x != null && x.rank() < 2) throw c.error("input must have rank at least 2 (N, C, ...), got " + x);
        Dim ch = x == null ? Dim.UNKNOWN : x.dim(1);
        String[] names = {"scale", "B", "input_mean", "input_var"};
        for (int i = 1; i < 5; i++) {
            Shape s = c.shape(i);
            if (s == null) continue;
            if (s.rank() != 1) throw c.error(names[i - 1] + " must be 1-D, got shape " + s);
            ch = unify(ch, s.dim(0), names[i - 1] + " length differs from the channel count", c);
        }
        boolean training = c.attrInt("training_mode") != 0;
        if (!training && c.numOutputs() > 1)
            throw c.error("running_mean and running_var are outputs only when training_mode=1");
        List<Type> out = new ArrayList<>();
        out.add(c.inputType(0));
        DType stats = c.dtype(3);
        for (int i = 1; i < c.numOutputs(); i++) out.add(Type.tensor(stats, Shape.of(ch)));
        return out;
    }

    /**
     * Ops whose output has the input's type and whose inputs {@code first..first+count-1} are per-channel (or
     * per-group) vectors: InstanceNormalization, GroupNormalization, LRN.
     */
    private static List<Type> channelNorm(InferContext c, int first, int count) {
        requireFloat(c, 0);
        Shape x = c.shape(0);
        if (x != null && x.rank() < 2) throw c.error("input must have rank at least 2 (N, C, ...), got " + x);
        for (int i = first; i < first + count; i++) {
            Shape s = c.shape(i);
            if (s != null && s.rank() != 1) throw c.error("input " + i + " must be 1-D, got shape " + s);
        }
        if (c.node().op().equals("GroupNormalization")) {
            long groups = c.attrInt("num_groups");
            long ch = x == null ? ConvGeometry.UNKNOWN : size(x.dim(1));
            if (groups < 1) throw c.error("num_groups must be positive, got " + groups);
            if (ch != ConvGeometry.UNKNOWN && ch % groups != 0)
                throw c.error(ch + " channels are not divisible into " + groups + " groups");
        }
        return List.of(c.inputType(0));
    }

    private static List<Type> layerNorm(InferContext c) {
        requireFloat(c, 0);
        Shape x = c.shape(0);
        long stash = c.attrInt("stash_type");
        DType stashType;
        try {
            stashType = DType.fromOnnx((int) stash);
        } catch (RuntimeException e) {
            throw c.error("stash_type " + stash + " is not an ONNX element type");
        }
        if (!stashType.isFloat()) throw c.error("stash_type must be a floating-point type, got " + stashType);
        List<Type> out = new ArrayList<>();
        out.add(c.inputType(0));
        if (x == null) {
            for (int i = 1; i < c.numOutputs(); i++) out.add(Type.unranked(stashType));
            return out;
        }
        int axis = Infer.axis(c.attrInt("axis"), x.rank(), c);
        List<Dim> reduced = new ArrayList<>(x.dims());
        for (int k = axis; k < x.rank(); k++) reduced.set(k, Dim.of(1));
        for (int i = 1; i < c.numOutputs(); i++) out.add(Type.tensor(stashType, new Shape(reduced)));
        return out;
    }

    // ---- Dropout, Einsum, Det

    private static List<Type> dropout(InferContext c) {
        Type.TensorType x = c.tensorInput(0);
        if (x == null) throw c.error("the type of input 0 is unknown");
        if (c.hasInput(1) && c.shape(1) != null && c.shape(1).rank() != 0)
            throw c.error("ratio must be a scalar, got shape " + c.shape(1));
        if (c.hasInput(2) && c.dtype(2) != DType.BOOL) throw c.error("training_mode must be bool, got " + c.dtype(2));
        if (c.numOutputs() > 1) return List.of(x, new Type.TensorType(DType.BOOL, x.shape()));
        return List.of(x);
    }

    private static List<Type> einsum(InferContext c) {
        DType t = c.dtype(0);
        int[] ranks = new int[c.numInputs()];
        for (int i = 0; i < ranks.length; i++) {
            if (c.dtype(i) != t) throw c.error("operands have different element types " + t + " and " + c.dtype(i));
            Shape s = c.shape(i);
            if (s == null) return List.of(Type.unranked(t));
            ranks[i] = s.rank();
        }
        EinsumEquation eq = EinsumEquation.parse(c.attrString("equation"), ranks, c::error);
        Dim[] sizes = new Dim[eq.numLabels()];
        for (int i = 0; i < ranks.length; i++) {
            for (int k = 0; k < ranks[i]; k++) {
                int l = eq.inputs()[i][k];
                Dim d = c.shape(i).dim(k);
                if (sizes[l] == null || sizes[l].equals(Dim.of(1))) sizes[l] = d;
                else if (!d.equals(Dim.of(1)))
                    sizes[l] = unify(sizes[l], d, "label sizes differ in equation '"
                            + c.attrString("equation") + "'", c);
            }
        }
        List<Dim> out = new ArrayList<>();
        for (int l : eq.output()) out.add(sizes[l] == null ? Dim.of(1) : sizes[l]);
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> det(InferContext c) {
        requireFloat(c, 0);
        DType t = c.dtype(0);
        Shape x = c.shape(0);
        if (x == null) return List.of(Type.unranked(t));
        if (x.rank() < 2) throw c.error("input must have rank at least 2, got " + x);
        unify(x.dim(x.rank() - 1), x.dim(x.rank() - 2), "matrices must be square, got " + x, c);
        return List.of(Type.tensor(t, new Shape(x.dims().subList(0, x.rank() - 2))));
    }
}
