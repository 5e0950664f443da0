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
 * Op table entries: the recurrent layers RNN, GRU and LSTM (opset 14: {@code layout} attribute).
 *
 * <p>Shapes with {@code layout=0}: X {@code [seq, batch, input]}, Y {@code [seq, dirs, batch, hidden]}, Y_h and Y_c
 * {@code [dirs, batch, hidden]}; with {@code layout=1} batch comes first: X {@code [batch, seq, input]}, Y
 * {@code [batch, seq, dirs, hidden]}, Y_h {@code [batch, dirs, hidden]}.
 */
public final class RecurrentOps {
    private RecurrentOps() {}

    static void register() {
        recurrent("RNN", 6, 2, gates("RNN")).register();
        recurrent("GRU", 6, 2, gates("GRU")).attr("linear_before_reset", 0L).register();
        recurrent("LSTM", 8, 3, gates("LSTM")).attr("input_forget", 0L).register();
    }

    /** Gates of the op's cell, in ONNX's order: RNN {@code i}; GRU {@code z, r, h}; LSTM {@code i, o, f, c}. */
    public static int gates(String op) {
        return switch (op) {
            case "RNN" -> 1;
            case "GRU" -> 3;
            case "LSTM" -> 4;
            default -> throw new IllegalArgumentException("not a recurrent op: " + op);
        };
    }

    /** The activation functions of one direction when the node names none (ONNX's defaults, f then g then h). */
    public static List<String> defaultActivations(String op) {
        return switch (op) {
            case "RNN" -> List.of("Tanh");
            case "GRU" -> List.of("Sigmoid", "Tanh");
            case "LSTM" -> List.of("Sigmoid", "Tanh", "Tanh");
            default -> throw new IllegalArgumentException("not a recurrent op: " + op);
        };
    }

    private static OpSchema recurrent(String op, int maxInputs, int maxOutputs, int gates) {
        return define(op).inputs(3, maxInputs).outputs(0, maxOutputs)
                .optional("activation_alpha", Attr.Kind.FLOATS).optional("activation_beta", Attr.Kind.FLOATS)
                .optional("activations", Attr.Kind.STRINGS).optional("clip", Attr.Kind.FLOAT)
                .attr("direction", "forward").optional("hidden_size", Attr.Kind.INT).attr("layout", 0L)
                .category(OPAQUE).infer(c -> infer(c, gates));
    }

    /** Number of directions named by the {@code direction} attribute. */
    public static int directions(String direction, java.util.function.Function<String, ? extends RuntimeException> err) {
        return switch (direction) {
            case "forward", "reverse" -> 1;
            case "bidirectional" -> 2;
            default -> throw err.apply("direction '" + direction + "' is not forward, reverse or bidirectional");
        };
    }

    private static List<Type> infer(InferContext c, int gates) {
        DType t = c.dtype(0);
        if (!t.isFloat()) throw c.error("X must be a floating-point tensor, got " + t);
        int dirs = directions(c.attrString("direction"), c::error);
        long layout = c.attrInt("layout");
        if (layout != 0 && layout != 1) throw c.error("layout must be 0 or 1, got " + layout);
        Shape x = c.shape(0), w = c.shape(1), r = c.shape(2);
        if (x != null && x.rank() != 3) throw c.error("X must have rank 3, got " + x);
        if (w != null && w.rank() != 3) throw c.error("W must have rank 3, got " + w);
        if (r != null && r.rank() != 3) throw c.error("R must have rank 3, got " + r);
        Dim hidden = Dim.UNKNOWN;
        if (c.hasAttr("hidden_size")) hidden = Dim.of(c.attrInt("hidden_size"));
        if (r != null) hidden = NnOps.unify(hidden, r.dim(2), "hidden_size differs from R's last dimension", c);
        if (w != null && NnOps.size(w.dim(1)) >= 0) {
            long rows = NnOps.size(w.dim(1));
            if (rows % gates != 0) throw c.error("W has " + rows + " rows, not a multiple of " + gates + " gates");
            hidden = NnOps.unify(hidden, Dim.of(rows / gates), "hidden_size differs from W's shape " + w, c);
        }
        if (w != null) NnOps.unify(w.dim(0), Dim.of(dirs), "W's first dimension differs from the direction count", c);
        if (x != null && w != null) NnOps.unify(x.dim(2), w.dim(2), "input size of X and W differ", c);
        Dim seq = x == null ? Dim.UNKNOWN : x.dim(layout == 0 ? 0 : 1);
        Dim batch = x == null ? Dim.UNKNOWN : x.dim(layout == 0 ? 1 : 0);
        Dim d = Dim.of(dirs);
        List<Type> out = new ArrayList<>();
        for (int i = 0; i < c.numOutputs(); i++) {
            Shape s = i == 0
                    ? (layout == 0 ? Shape.of(seq, d, batch, hidden) : Shape.of(batch, seq, d, hidden))
                    : (layout == 0 ? Shape.of(d, batch, hidden) : Shape.of(batch, d, hidden));
            out.add(Type.tensor(t, s));
        }
        return out;
    }
}
