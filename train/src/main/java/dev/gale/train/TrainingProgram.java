package dev.gale.train;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.Autodiff;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A forward model turned into one training step: the loss appended to the chosen output, the backward graph built
 * by {@link Autodiff}, and the bookkeeping the trainer needs: which graph inputs are parameters, which are model
 * state updated by the step itself (BatchNormalization running statistics in training mode), and where each
 * gradient and state update sits among the outputs.
 *
 * <p>Outputs of {@link #graph()}: loss, the model output (for accuracy), gradients in {@link #gradients()} order,
 * then the new values of {@link #stateUpdates()}.
 */
public final class TrainingProgram {
    public static final String LABELS = "gale.labels";

    private final Graph graph;
    private final Graph stepGraph;
    private final Graph forward;
    private final String output;
    private final List<String> params;
    private final List<String> gradients;
    private final Map<String, String> stateUpdates;


    private TrainingProgram(Graph graph, Graph forward, String output, List<String> params, List<String> gradients,
                            Map<String, String> stateUpdates) {
        this.graph = graph;
        List<Value> stepOutputs = new ArrayList<>(graph.outputs());
        stepOutputs.remove(1);
        this.stepGraph = graph.withOutputs(stepOutputs);
        this.forward = forward;
        this.output = output;
        this.params = params;
        this.gradients = gradients;
        this.stateUpdates = stateUpdates;
    }

    /**
     * This program with the trained parameters' initial values left out of both graphs: a trainer that has copied
     * them into its flat state feeds (or binds) them every step, and this way the weights are not held twice. The
     * parameters stay inputs of the step graph.
     */
    public TrainingProgram withoutParameterValues() {
        return new TrainingProgram(strip(graph), strip(forward), output, params, gradients, stateUpdates);
    }

    private Graph strip(Graph g) {
        Map<String, dev.gale.ir.Tensor> init = new java.util.LinkedHashMap<>(g.initializers());
        for (String p : params) init.remove(p);
        return g.withInitializers(init);
    }

    /**
     * Builds the training step for {@code forward}, differentiating the loss with respect to the float initializers
     * for which {@code trainable} holds.
     */
    public static TrainingProgram build(Graph forward, String output, LossKind loss, Predicate<String> trainable,
                                        long ignoreIndex) {
        if (forward.outputs().stream().noneMatch(v -> v.name().equals(output)))
            throw new GaleException("'" + output + "' is not an output of the model; outputs are "
                    + forward.outputs().stream().map(Value::name).toList());
        Map<String, String> state = runningStatistics(forward);
        GraphBuilder b = GraphBuilder.from(forward);
        Value y = new Value(output, forward.valueTypes().get(output));
        Type.TensorType yt = y.tensorType();
        if (yt == null || !yt.dtype().isFloat())
            throw new GaleException("model output '" + output + "' must be a floating-point tensor, is " + y.type());
        Value lossValue = switch (loss) {
            case CROSS_ENTROPY -> {
                if (yt.shape() != null && yt.shape().rank() < 2)
                    throw new GaleException("cross-entropy needs logits of rank >= 2 ([batch, classes, ...]); '"
                            + output + "' has shape " + yt.shape());
                List<dev.gale.ir.Dim> ld = new ArrayList<>();
                if (yt.shape() != null) {
                    ld.add(yt.shape().dim(0));
                    for (int k = 2; k < yt.shape().rank(); k++) ld.add(yt.shape().dim(k));
                }
                Value labels = b.input(LABELS, DType.INT64, ld.stream().map(d -> (Object) (d instanceof dev.gale.ir.Dim.Fixed f
                        ? (Object) f.size() : d instanceof dev.gale.ir.Dim.Sym s ? s.name() : "?")).toArray());
                Map<String, Attr> attrs = new LinkedHashMap<>();
                attrs.put("reduction", Attr.of("mean"));
                if (ignoreIndex != Long.MIN_VALUE) attrs.put("ignore_index", Attr.of(ignoreIndex));
                yield b.op("gale.loss", "SoftmaxCrossEntropyLoss", List.of(y, labels), attrs);
            }
            case MSE -> {
                Object[] dims = yt.shape() == null ? new Object[0] : yt.shape().dims().stream()
                        .map(d -> d instanceof dev.gale.ir.Dim.Fixed f ? (Object) f.size()
                                : d instanceof dev.gale.ir.Dim.Sym s ? s.name() : "?").toArray();
                Value labels = b.input(LABELS, yt.dtype(), dims);
                Value diff = b.sub(y, labels);
                yield b.op("gale.loss", "ReduceMean", List.of(b.mul(diff, diff)), Map.of("keepdims", Attr.of(0L)));
            }
        };
        b.clearOutputs();
        b.output(lossValue);
        Graph withLoss = b.build();

        List<String> params = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : forward.initializers().entrySet())
            if (e.getValue().dtype().isFloat() && !state.containsKey(e.getKey()) && trainable.test(e.getKey()))
                params.add(e.getKey());
        if (params.isEmpty()) throw new GaleException("nothing to train: no floating-point initializer is trainable"
                + " (check --freeze)");
        Autodiff.Result ad = Autodiff.differentiate(withLoss, lossValue.name(), params, List.of(output));

        GraphBuilder t = GraphBuilder.from(ad.graph());
        for (String s : state.keySet()) t.promoteToInput(s);
        Map<String, String> updates = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : state.entrySet()) {
            String update = e.getValue();
            Node bn = batchNormProducing(forward, update);
            if (bn != null && bn.outputs().size() > 2 && bn.output(2).name().equals(update))
                update = unbiasedRunningVar(t, bn, e.getKey()).name();
            t.output(new Value(update, t.typeOf(update)));
            updates.put(e.getKey(), update);
        }
        state = updates;
        Graph g = t.build();
        return new TrainingProgram(g, forward, output, List.copyOf(params), List.copyOf(ad.gradients().keySet()),
                state);
    }

    private static Node batchNormProducing(Graph g, String value) {
        for (Node n : g.nodes())
            if (n.op().equals("BatchNormalization") && n.outputs().stream().anyMatch(v -> v.name().equals(value))) return n;
        return null;
    }

    /**
     * PyTorch updates the running variance with the unbiased batch variance, ONNX's training-mode BatchNormalization
     * with the population variance. To leave the trained model's statistics as PyTorch would:
     * {@code new = m rv + (onnx_new - m rv) * n / (n - 1)} with {@code n} the elements per channel.
     */
    private static Value unbiasedRunningVar(GraphBuilder t, Node bn, String runningVar) {
        Value x = bn.input(0);
        DType dt = x.tensorType().dtype();
        float momentum = bn.attr("momentum") instanceof Attr.FloatAttr f ? f.value() : 0.9f;
        Value rv = new Value(runningVar, t.typeOf(runningVar));
        Value onnxNew = new Value(bn.output(2).name(), t.typeOf(bn.output(2).name()));
        Value size = t.op("Cast", List.of(t.op("Size", List.of(x), Map.of())), Map.of("to", Attr.of((long) dt.onnxCode())));
        Value channels = t.op("Cast", List.of(t.op("Gather", List.of(t.op("Shape", List.of(x), Map.of()),
                t.constant(Tensor.scalarLong(DType.INT64, 1))), Map.of())), Map.of("to", Attr.of((long) dt.onnxCode())));
        Value n = t.div(size, channels);
        Value factor = t.div(n, t.sub(n, t.constant(Tensor.scalar(dt, 1))));
        Value mrv = t.mul(t.constant(Tensor.scalar(dt, momentum)), rv);
        return t.add(mrv, t.mul(t.sub(onnxNew, mrv), factor));
    }

    /**
     * BatchNormalization nodes in training mode (opset 14+: training_mode = 1) whose running mean and variance are
     * initializers: their second and third outputs are the updated statistics. Maps initializer -> output value.
     */
    private static Map<String, String> runningStatistics(Graph g) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (!n.op().equals("BatchNormalization") || !n.domain().isEmpty()) continue;
            if (!(n.attr("training_mode") instanceof Attr.IntAttr t) || t.value() == 0) continue;
            for (int k = 0; k < 2; k++) {
                Value in = n.input(3 + k);
                if (n.outputs().size() > 1 + k && !n.output(1 + k).isNone() && g.initializers().containsKey(in.name()))
                    m.put(in.name(), n.output(1 + k).name());
            }
        }
        return m;
    }

    public Graph graph() { return graph; }

    /**
     * {@link #graph()} without the model output: what a trainer runs each step. Nothing in a step reads the model
     * output, and as a graph output it would be kept whole to the end of the run and copied out of the backend's
     * arena every step (the transformer encoder layer's training step allocated 196 KB a step on the heap for it,
     * 70% of all it allocated). Outputs: loss, then the gradients from {@link #STEP_FIRST_GRADIENT} on, then the state
     * updates.
     */
    public Graph stepGraph() { return stepGraph; }

    /** Where the first gradient sits among the outputs of {@link #stepGraph()}. */
    public static final int STEP_FIRST_GRADIENT = 1;

    public Graph forward() { return forward; }

    public String output() { return output; }

    /** Trainable parameters (graph inputs now), in layout order. */
    public List<String> params() { return params; }

    /** Parameters that receive a gradient (the others do not reach the loss and are left unchanged). */
    public List<String> gradients() { return gradients; }

    /** Model state the step updates itself: initializer name -> output holding its new value. */
    public Map<String, String> stateUpdates() { return stateUpdates; }
}
