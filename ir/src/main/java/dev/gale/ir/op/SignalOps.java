package dev.gale.ir.op;

import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: signal processing (opset 17). Complex values are a trailing dimension of 2 (real, imaginary); a
 * real signal has a trailing dimension of 1. Window and mel generators take their sizes as scalar inputs, so their
 * output shapes are known only when those inputs are constants.
 */
final class SignalOps {
    private SignalOps() {}

    static void register() {
        define("DFT").inputs(1, 2).attr("axis", 1L).attr("inverse", 0L).attr("onesided", 0L).category(OPAQUE)
                .infer(SignalOps::inferDft).register();
        define("STFT").inputs(2, 4).attr("onesided", 1L).category(OPAQUE).infer(SignalOps::inferStft).register();
        for (String w : List.of("HannWindow", "HammingWindow", "BlackmanWindow"))
            define(w).inputs(1).attr("output_datatype", 1L).attr("periodic", 1L).category(OPAQUE)
                    .infer(c -> List.of(Type.tensor(outputType(c), Shape.of(scalarDim(c, 0, 0))))).register();
        define("MelWeightMatrix").inputs(5).attr("output_datatype", 1L).category(OPAQUE)
                .infer(c -> {
                    Dim n = scalarDim(c, 1, 0);
                    Dim bins = n.isFixed() ? Dim.of(n.sizeOr(0) / 2 + 1) : Dim.UNKNOWN;
                    return List.of(Type.tensor(outputType(c), Shape.of(bins, scalarDim(c, 0, 0))));
                }).register();
    }

    /** The element type named by {@code output_datatype} (an ONNX type code); only numeric types are allowed. */
    static DType outputType(InferContext c) {
        long code = c.attrInt("output_datatype");
        DType t;
        try {
            t = DType.fromOnnx((int) code);
        } catch (GaleException e) {
            throw c.error("output_datatype " + code + " is not a known ONNX element type");
        }
        if (!t.isNumeric()) throw c.error("output_datatype must be a numeric type, got " + t);
        return t;
    }

    /** The value of scalar input {@code i} as a dimension: fixed when constant, else unknown. */
    private static Dim scalarDim(InferContext c, int i, long min) {
        Tensor t = c.constant(i);
        if (t == null) return Dim.UNKNOWN;
        if (t.numel() != 1) throw c.error("input " + i + " must be a scalar, got shape " + Shape.of(t.shape()));
        long v = t.getLong(0);
        if (v < min) throw c.error("input " + i + " must be >= " + min + ", got " + v);
        return Dim.of(v);
    }

    private static List<Type> inferDft(InferContext c) {
        Shape x = c.shape(0);
        DType t = c.dtype(0);
        if (!t.isFloat()) throw c.error("input must be a floating-point tensor, got " + t);
        if (x == null) return List.of(Type.unranked(t));
        int rank = x.rank();
        if (rank < 3) throw c.error("input must have rank >= 3 ([batch, signal..., 1 or 2]), got " + x);
        Dim last = x.dim(rank - 1);
        if (last.isFixed() && last.sizeOr(0) != 1 && last.sizeOr(0) != 2)
            throw c.error("the last dimension must be 1 (real) or 2 (complex), got " + last);
        long axis = c.attrInt("axis");
        long a = axis < 0 ? axis + rank : axis;
        if (a < 1 || a > rank - 2) throw c.error("axis " + axis + " must name a signal dimension (1.." + (rank - 2) + ")");
        Dim n = c.hasInput(1) ? scalarDim(c, 1, 1) : x.dim((int) a);
        if (c.attrInt("onesided") != 0) n = n.isFixed() ? Dim.of(n.sizeOr(0) / 2 + 1) : Dim.UNKNOWN;
        List<Dim> out = new ArrayList<>(x.dims());
        out.set((int) a, n);
        out.set(rank - 1, Dim.of(2));
        return List.of(Type.tensor(t, new Shape(out)));
    }

    private static List<Type> inferStft(InferContext c) {
        Shape x = c.shape(0);
        DType t = c.dtype(0);
        if (!t.isFloat()) throw c.error("signal must be a floating-point tensor, got " + t);
        if (x == null) return List.of(Type.unranked(t));
        if (x.rank() != 3) throw c.error("signal must have shape [batch, length, 1 or 2], got " + x);
        Dim step = scalarDim(c, 1, 1);
        Dim frame;
        if (c.hasInput(3)) {
            frame = scalarDim(c, 3, 1);
        } else if (c.hasInput(2)) {
            Shape w = c.shape(2);
            if (w != null && w.rank() != 1) throw c.error("window must be 1-D, got " + w);
            frame = w == null ? Dim.UNKNOWN : w.dim(0);
        } else {
            throw c.error("needs a window or a frame_length input to know the frame size");
        }
        long len = x.dim(1).sizeOr(-1), fl = frame.sizeOr(-1), st = step.sizeOr(-1);
        Dim frames = Dim.UNKNOWN;
        if (len >= 0 && fl >= 0 && st > 0) {
            if (fl > len) throw c.error("frame length " + fl + " exceeds the signal length " + len);
            frames = Dim.of((len - fl) / st + 1);
        }
        Dim bins = fl < 0 ? Dim.UNKNOWN : c.attrInt("onesided") != 0 ? Dim.of(fl / 2 + 1) : Dim.of(fl);
        return List.of(Type.tensor(t, Shape.of(x.dim(0), frames, bins, Dim.of(2))));
    }
}
