package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.Tensor;

import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/** Op table entries: constants, identity and control flow (If, Loop, Scan). */
public final class ControlFlowOps {
    private ControlFlowOps() {}

    static void register() {
        define("Constant").inputs(0).outputs(1).category(OPAQUE)
                .optional("value", Attr.Kind.TENSOR).optional("value_float", Attr.Kind.FLOAT)
                .optional("value_floats", Attr.Kind.FLOATS).optional("value_int", Attr.Kind.INT)
                .optional("value_ints", Attr.Kind.INTS).optional("value_string", Attr.Kind.STRING)
                .optional("value_strings", Attr.Kind.STRINGS).optional("sparse_value", Attr.Kind.TENSOR)
                .infer(c -> List.of(constantValue(c.node().attrs(), c).type())).register();
        define("Identity").inputs(1).outputs(1).category(INJECTIVE).infer(Infer.sameAs(0)).register();
    }

    /** The tensor a Constant node holds, whichever of its attributes carries it. */
    public static Tensor constantValue(java.util.Map<String, Attr> attrs, InferContext c) {
        if (attrs.size() != 1)
            throw new dev.gale.ir.GaleException((c == null ? "Constant" : c.node().describe())
                    + ": needs exactly one value attribute, has " + attrs.keySet());
        Attr a = attrs.values().iterator().next();
        return switch (a) {
            case Attr.TensorAttr t -> t.value();
            case Attr.FloatAttr f -> Tensor.ofFloats(new long[0], f.value());
            case Attr.FloatsAttr f -> Tensor.ofFloats(new long[] {f.values().length}, f.values());
            case Attr.IntAttr i -> Tensor.ofLongs(new long[0], i.value());
            case Attr.IntsAttr i -> Tensor.ofLongs(new long[] {i.values().length}, i.values());
            case Attr.StringAttr s -> Tensor.ofStrings(new long[0], s.value());
            case Attr.StringsAttr s -> Tensor.ofStrings(new long[] {s.values().size()}, s.values().toArray(String[]::new));
            default -> throw new dev.gale.ir.GaleException("Constant attribute of kind " + a.kind() + " is not a value");
        };
    }

}
