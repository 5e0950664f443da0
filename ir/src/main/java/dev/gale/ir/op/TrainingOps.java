package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.OpsetInfo;
import dev.gale.ir.Type;

import java.util.ArrayList;
import java.util.List;

import static dev.gale.ir.op.FusionCategory.*;
import static dev.gale.ir.op.OpSchema.define;

/**
 * Op table entries: the optimizers of the ai.onnx.preview.training domain. Each takes a learning rate R and a step
 * count T, then n tensors of each group (X..., G..., then the optimizer state), and returns the updated X and state
 * groups, each output typed like the input it replaces. They are opaque: several outputs from one update.
 */
final class TrainingOps {
    private TrainingOps() {}

    static void register() {
        // inputs R, T, X..., G..., V..., H...; outputs X_new..., V_new..., H_new...
        define(OpsetInfo.TRAINING_DOMAIN, "Adam").inputs(2, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC)
                .attr("alpha", 0.9f).attr("beta", 0.999f).attr("epsilon", 1e-6f).attr("norm_coefficient", 0.0f)
                .attr("norm_coefficient_post", 0.0f).category(OPAQUE).infer(optimizer(4, 0, 2, 3)).register();
        // inputs R, T, X..., G..., H...; outputs X_new..., H_new...
        define(OpsetInfo.TRAINING_DOMAIN, "Adagrad").inputs(2, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC)
                .attr("decay_factor", 0.0f).attr("epsilon", 1e-6f).attr("norm_coefficient", 0.0f).category(OPAQUE)
                .infer(optimizer(3, 0, 2)).register();
        // inputs R, T, X..., G..., V...; outputs X_new..., V_new...
        define(OpsetInfo.TRAINING_DOMAIN, "Momentum").inputs(2, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC)
                .required("alpha", Attr.Kind.FLOAT).required("beta", Attr.Kind.FLOAT)
                .required("mode", Attr.Kind.STRING).required("norm_coefficient", Attr.Kind.FLOAT).category(OPAQUE)
                .infer(optimizer(3, 0, 2)).register();
        registerGradient();
    }

    // --- Gradient (control helper) ---

    /**
     * {@code Gradient(xs..., zs...)}: the gradients of the value named by {@code y} with respect to the values named
     * by {@code xs}, the graph between them evaluated at the node's inputs ({@code zs} held fixed). Gale does not run
     * it directly: {@code dev.gale.passes.LowerGradientOps} replaces it by explicit backward nodes before execution.
     * Output i is typed like input i (the point at which {@code xs[i]} is evaluated); trailing outputs may be omitted.
     */
    private static void registerGradient() {
        define(OpsetInfo.TRAINING_DOMAIN, "Gradient").inputs(1, OpSchema.VARIADIC).outputs(1, OpSchema.VARIADIC)
                .required("xs", Attr.Kind.STRINGS).required("y", Attr.Kind.STRING).optional("zs", Attr.Kind.STRINGS)
                .category(OPAQUE).infer(TrainingOps::inferGradient).register();
    }

    private static List<Type> inferGradient(InferContext c) {
        List<String> xs = Attrs.asStrings(c.attr("xs"), c.node(), "xs");
        List<String> zs = c.attr("zs") == null ? List.of() : Attrs.asStrings(c.attr("zs"), c.node(), "zs");
        if (xs.isEmpty()) throw c.error("attribute 'xs' must name at least one value to differentiate against");
        if (c.numInputs() != xs.size() + zs.size())
            throw c.error("expects one input per name in 'xs' then 'zs' (" + (xs.size() + zs.size()) + "), got "
                    + c.numInputs());
        if (c.numOutputs() > xs.size())
            throw c.error("expects at most one output per name in 'xs' (" + xs.size() + "), got " + c.numOutputs());
        List<Type> out = new ArrayList<>();
        for (int i = 0; i < c.numOutputs(); i++) {
            if (!c.hasInput(i)) throw c.error("input " + i + " (the value of '" + xs.get(i) + "') is missing");
            if (c.inputType(i) instanceof Type.TensorType t && !t.dtype().isFloat())
                throw c.error("cannot differentiate with respect to '" + xs.get(i) + "' of element type " + t.dtype());
            out.add(c.inputType(i));
        }
        return out;
    }

    /**
     * Inference for an optimizer with {@code groups} input groups after R and T; output group k copies the types of
     * input group {@code outputGroups[k]}.
     */
    private static TypeInference optimizer(int groups, int... outputGroups) {
        return c -> {
            int n = tensorsPerGroup(c, groups, outputGroups.length);
            List<Type> out = new ArrayList<>();
            for (int g : outputGroups)
                for (int i = 0; i < n; i++) out.add(c.inputType(2 + g * n + i));
            return out;
        };
    }

    /** Checks the variadic layout: 2 + groups * n inputs and outputs.length * n outputs, n >= 1. */
    static int tensorsPerGroup(InferContext c, int groups, int outputGroups) {
        int rest = c.numInputs() - 2;
        if (rest < groups || rest % groups != 0)
            throw c.error("expects R, T and " + groups + " groups of n >= 1 tensors, got " + c.numInputs() + " inputs");
        int n = rest / groups;
        if (c.numOutputs() != outputGroups * n)
            throw c.error("with " + n + " tensor(s) per group expects " + outputGroups * n + " outputs, got "
                    + c.numOutputs());
        return n;
    }
}
