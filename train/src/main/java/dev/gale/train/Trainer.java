package dev.gale.train;

import dev.gale.backends.Backend;
import dev.gale.backends.Backends;
import dev.gale.backends.Region;
import dev.gale.backends.Session;
import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs training steps: feed a batch and the current parameters to the training program, read back the loss and the
 * gradients into the flat {@link TrainingState}, clip, and let the optimizer update it. Checkpoints and the loss log
 * are written as it goes. A non-finite loss stops the run with the step and the first tensor that went non-finite;
 * the last good checkpoint is kept.
 */
public final class Trainer {
    /** Receives progress after each step: step, loss, learning rate. */
    public interface Progress {
        void step(long step, long steps, double loss, double lr);
    }

    /** The step, without the parameters' initial values once they are in {@link #state}. */
    private final TrainingProgram program;
    private final TrainConfig config;
    private final String modelHash;
    private final TrainingState state;
    private final Map<String, Tensor> modelState = new LinkedHashMap<>();
    private final BatchSampler sampler;
    private final Map<String, String> feedToArray;
    private final String labelsArray;
    /** The compiled training step, or null when the step runs as built. */
    private final CompiledStep compiled;

    /**
     * @param data the arrays of the data set by name; {@code feeds} maps graph input name to array name, and
     *             {@code labels} names the labels array
     */
    public Trainer(Model model, String modelHash, TrainConfig config, Map<String, Tensor> data,
                   Map<String, String> feeds, String labels) {
        this.config = config;
        this.modelHash = modelHash;
        Graph g = model.graph();
        TrainingProgram built = TrainingProgram.build(g, config.output(), config.loss(), config.trainable(),
                config.ignoreIndex());
        List<long[]> shapes = new ArrayList<>();
        for (String p : built.params()) shapes.add(g.initializers().get(p).shape());
        this.state = new TrainingState(ParameterLayout.of(built.params(), shapes));
        for (String p : built.params()) state.setParam(p, g.initializers().get(p));
        this.program = built.withoutParameterValues(); // the state holds the values now
        for (String s : program.stateUpdates().keySet()) modelState.put(s, g.initializers().get(s));
        this.feedToArray = new LinkedHashMap<>(feeds);
        this.labelsArray = labels;
        Map<String, Tensor> used = new LinkedHashMap<>();
        validateFeeds(g, data, feeds, labels, used);
        this.sampler = new BatchSampler(used, config.batchSize(), config.shuffle(), config.seed());
        // A backend that compiles models its own way (cpu) gets the step as built.
        this.compiled = config.compile() == null || !Backends.get(config.backend()).runsPlannedGraphs() ? null
                : CompiledStep.compile(program.stepGraph(), batchShapes(used, labels), config.compile());
    }

    /** The shape of each data input and of the labels in one batch: the batch size, then an array row's shape. */
    private Map<String, long[]> batchShapes(Map<String, Tensor> arrays, String labels) {
        Map<String, long[]> shapes = new HashMap<>();
        for (Map.Entry<String, String> e : feedToArray.entrySet())
            shapes.put(e.getKey(), batchShape(arrays.get(e.getValue())));
        shapes.put(TrainingProgram.LABELS, batchShape(arrays.get(labels)));
        return shapes;
    }

    private long[] batchShape(Tensor array) {
        long[] s = array.shape();
        if (s.length > 0) s[0] = config.batchSize();
        return s;
    }

    private void validateFeeds(Graph g, Map<String, Tensor> data, Map<String, String> feeds, String labels,
                               Map<String, Tensor> used) {
        List<String> inputs = g.runtimeInputs().stream().map(Value::name).toList();
        for (Map.Entry<String, String> e : feeds.entrySet()) {
            if (!inputs.contains(e.getKey()))
                throw new GaleException("--feed " + e.getKey() + "=" + e.getValue() + ": '" + e.getKey()
                        + "' is not an input of the model; its inputs are " + inputs);
            Tensor t = data.get(e.getValue());
            if (t == null) throw new GaleException("--feed: array '" + e.getValue() + "' is not in the data; it has "
                    + data.keySet());
            checkFits(g.inputs().stream().filter(v -> v.name().equals(e.getKey())).findFirst().orElseThrow(), t);
            used.put(e.getValue(), t);
        }
        for (String in : inputs)
            if (!feeds.containsKey(in))
                throw new GaleException("model input '" + in + "' has no --feed; add --feed " + in + "=ARRAY");
        Tensor y = data.get(labels);
        if (y == null) throw new GaleException("--labels: array '" + labels + "' is not in the data; it has " + data.keySet());
        if (config.loss() == LossKind.CROSS_ENTROPY) {
            if (y.dtype().isFloat()) throw new GaleException("--labels '" + labels + "' holds " + y.dtype()
                    + " values; cross-entropy needs integer class indices");
            y = toInt64(y);
            checkLabelRange(y, labels);
        } else if (y.dtype() != DType.FLOAT32) {
            y = toFloat32(y);
        }
        used.put(labels, y);
    }

    private void checkFits(Value input, Tensor array) {
        if (!(input.type() instanceof Type.TensorType t) || t.shape() == null) return;
        long[] a = array.shape();
        if (a.length != t.shape().rank())
            throw new GaleException("input '" + input.name() + "' expects rank " + t.shape().rank() + " " + t.shape()
                    + " but the array has shape " + java.util.Arrays.toString(a));
        for (int k = 1; k < a.length; k++) {
            long want = t.shape().dim(k).sizeOr(-1);
            if (want >= 0 && want != a[k])
                throw new GaleException("input '" + input.name() + "' expects " + t.shape() + " but the array's rows"
                        + " have shape " + java.util.Arrays.toString(java.util.Arrays.copyOfRange(a, 1, a.length)));
        }
        long batch = t.shape().dim(0).sizeOr(-1);
        if (batch >= 0 && batch != config.batchSize())
            throw new GaleException("input '" + input.name() + "' has a fixed batch of " + batch + " but --batch-size is "
                    + config.batchSize() + "; use --batch-size " + batch + " or export the model with a dynamic batch");
        if (t.dtype() != array.dtype())
            throw new GaleException("input '" + input.name() + "' expects " + t.dtype() + " but the array holds "
                    + array.dtype());
    }

    private void checkLabelRange(Tensor y, String name) {
        Type.TensorType out = program.forward().valueTypes().get(config.output()) instanceof Type.TensorType t ? t : null;
        if (out == null || out.shape() == null || out.shape().rank() < 2) return;
        long classes = out.shape().dim(1).sizeOr(-1);
        if (classes < 0) return;
        for (int i = 0; i < y.numel(); i++) {
            long v = y.getLong(i);
            if ((v < 0 || v >= classes) && v != config.ignoreIndex())
                throw new GaleException("label " + v + " at row " + i + " of '" + name + "' is outside [0, " + classes
                        + ") (the model has " + classes + " classes)");
        }
    }

    private static Tensor toInt64(Tensor t) {
        if (t.dtype() == DType.INT64) return t;
        Tensor r = Tensor.zeros(DType.INT64, t.shape());
        for (int i = 0; i < t.numel(); i++) r.setLong(i, t.getLong(i));
        return r;
    }

    private static Tensor toFloat32(Tensor t) {
        Tensor r = Tensor.zeros(DType.FLOAT32, t.shape());
        for (int i = 0; i < t.numel(); i++) r.setDouble(i, t.getDouble(i));
        return r;
    }

    public TrainingProgram program() { return program; }

    /** The compiled training step, or null when the config asks for none. */
    public CompiledStep compiled() { return compiled; }

    public TrainingState state() { return state; }

    /** The current values of every initializer training changes (parameters and model state). */
    public Map<String, Tensor> trainedInitializers() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String p : program.params()) m.put(p, state.param(p));
        m.putAll(modelState);
        return m;
    }

    /** Trains until {@code config.steps()}, resuming from the newest checkpoint when asked. Returns the losses. */
    public List<Double> run(Progress progress) {
        long start = 0;
        if (config.resume()) start = restore(Checkpoint.latest(config.checkpointDir()));
        List<Double> losses = new ArrayList<>();
        LossLog log = config.lossLog() == null ? null : LossLog.create(config.lossLog(), start);
        Backend backend = Backends.get(config.backend());
        try (Session session = compiled != null ? compiled.open(backend) : backend.open(Model.of(program.stepGraph()))) {
            dev.gale.train.optim.ParallelUpdate updates = new dev.gale.train.optim.ParallelUpdate(session);
            // Loading a large model leaves its file's bytes and the passes' garbage on the heap; a collection now
            // (once) lets the heap shrink before the arena and the optimizer's buffers appear, which lowers the
            // run's peak resident memory.
            if (state.layout().size() >= LARGE_MODEL) System.gc();
            bound = start < config.steps() && bind(session, start + 1);
            // Binding fed the session a heap copy of every parameter (its example run): dead once the parameters live
            // in the session's region, but by then in the old generation, where nothing collects it during training
            // (the 1024-4096-4096-1024 MLP: 96 MB, about an eighth of the run's peak). Collect it before the steps.
            if (bound && state.layout().size() >= LARGE_MODEL) System.gc();
            try {
                for (long step = start + 1; step <= config.steps(); step++) {
                    double loss = step(session, updates, step);
                    losses.add(loss);
                    if (log != null) log.append(step, loss);
                    if (progress != null) progress.step(step, config.steps(), loss, config.schedule().at(step));
                    if (config.checkpointDir() != null && config.checkpointEvery() > 0
                            && (step % config.checkpointEvery() == 0 || step == config.steps()))
                        checkpoint(step).write(config.checkpointDir());
                }
            } finally {
                // The bound buffers are the session's memory: take the state back before the session closes.
                if (bound) state.ownBuffers();
                bound = false;
                lastFallbacks = new java.util.TreeMap<>(session.fallbackOps());
            }
        } finally {
            if (log != null) log.close();
        }
        return losses;
    }

    /** Parameters (elements) from which a run collects the setup's garbage before training. */
    private static final int LARGE_MODEL = 1 << 22;

    /** True while the parameters and gradients live in the session's memory (no copies per step). */
    private boolean bound;

    /** Whether steps run with the parameters and gradients in the session's memory; for tests and tools. */
    public boolean ranBound() { return lastRunBound; }

    private boolean lastRunBound;

    /** Nodes of the last run's training step that ran on the interpreter's kernels, by op (see Session#fallbackOps). */
    public Map<String, Integer> fallbackOps() { return lastFallbacks; }

    private Map<String, Integer> lastFallbacks = Map.of();

    /**
     * Asks the session to keep the parameters (inputs) and their gradients (outputs) in two regions with the
     * training state's layout, and moves the state there: each step then reads the parameters and writes the
     * gradients in place, and the optimizer updates them in place. False when the backend cannot.
     */
    private boolean bind(Session session, long firstStep) {
        ParameterLayout layout = state.layout();
        List<String> names = layout.names();
        long[] offsets = new long[names.size()];
        for (int i = 0; i < offsets.length; i++) offsets[i] = layout.slot(names.get(i)).offset();
        List<String> gradOutputs = new ArrayList<>();
        long[] gradOffsets = new long[program.gradients().size()];
        List<Value> outputs = program.stepGraph().outputs();
        for (int k = 0; k < program.gradients().size(); k++) {
            gradOutputs.add(outputs.get(TrainingProgram.STEP_FIRST_GRADIENT + k).name());
            gradOffsets[k] = layout.slot(program.gradients().get(k)).offset();
        }
        List<MemorySegment> regions = session.bind(feeds(firstStep, true), List.of(
                new Region(names, offsets, layout.size()), new Region(gradOutputs, gradOffsets, layout.size())));
        lastRunBound = regions != null;
        if (regions == null) return false;
        state.relocateParams(regions.get(0));
        state.relocateGrads(regions.get(1));
        return true;
    }

    /** The batch tensors, refilled in place every step. */
    private final Map<String, Tensor> batchBuffers = new HashMap<>();

    private Map<String, Object> feeds(long step, boolean withParams) {
        Map<String, Tensor> batch = sampler.batchInto(step - 1, batchBuffers);
        Map<String, Object> feeds = new HashMap<>();
        for (Map.Entry<String, String> e : feedToArray.entrySet()) feeds.put(e.getKey(), batch.get(e.getValue()));
        feeds.put(TrainingProgram.LABELS, batch.get(labelsArray));
        if (withParams) for (String p : program.params()) feeds.put(p, state.param(p));
        feeds.putAll(modelState);
        return feeds;
    }

    /** One optimizer step (1-based); returns the batch loss before the update. */
    double step(Session session, dev.gale.train.optim.ParallelUpdate updates, long step) {
        Map<String, Object> feeds = feeds(step, !bound);
        session.seed(config.seed() * 1_000_003L + step);
        List<Object> out = session.run(feeds);
        double loss = ((Tensor) out.get(0)).getDouble(0);
        if (!Double.isFinite(loss)) throw nonFinite(step, bound ? feeds(step, true) : feeds, loss);
        int k = TrainingProgram.STEP_FIRST_GRADIENT;
        if (!bound) {
            state.grads().fill((byte) 0);
            for (String p : program.gradients()) state.setGrad(p, (Tensor) out.get(k++));
        } else {
            k += program.gradients().size();
        }
        for (String s : program.stateUpdates().keySet()) modelState.put(s, (Tensor) out.get(k++));
        ParameterLayout layout = state.layout();
        if (config.clipNorm() > 0) dev.gale.train.optim.GradClip.clip(state.grads(), 0, layout.size(), config.clipNorm());
        updates.update(config.optimizer(), state, program.gradients(), step, config.schedule().at(step));
        state.setStep(step);
        return loss;
    }

    /** Re-runs the failing step on the interpreter to name the first node whose output is not finite. */
    private GaleException nonFinite(long step, Map<String, Object> feeds, double loss) {
        String where = "";
        try {
            Interpreter probe = new Interpreter(Model.of(program.stepGraph()));
            probe.seed(config.seed() * 1_000_003L + step);
            String[] first = {null};
            probe.setListener((Node n, List<Object> outs) -> {
                if (first[0] != null) return;
                for (int i = 0; i < outs.size(); i++)
                    if (outs.get(i) instanceof Tensor t && t.dtype().isFloat() && !allFinite(t))
                        first[0] = "tensor '" + n.output(i).name() + "' of " + n.describe();
            });
            probe.run(feeds);
            if (first[0] != null) where = "; first non-finite value in " + first[0];
        } catch (RuntimeException ignored) {
            // the diagnosis is best effort; the step number is reported regardless
        }
        String kept = config.checkpointDir() == null ? "" : "; the last good checkpoint in " + config.checkpointDir()
                + " is kept";
        return new GaleException("step " + step + ": the loss is " + loss + where
                + " (try a lower --lr or --clip-grad-norm)" + kept);
    }

    private static boolean allFinite(Tensor t) {
        for (int i = 0; i < t.numel(); i++) if (!Double.isFinite(t.getDouble(i))) return false;
        return true;
    }

    private Checkpoint checkpoint(long step) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("step", Long.toString(step));
        h.put("model_sha256", modelHash);
        h.put("layout", state.layout().signature());
        h.put("optimizer", config.optimizer().name() + config.optimizer().hyperParameters());
        h.put("loss", config.loss().cliName());
        h.put("batch_size", Integer.toString(config.batchSize()));
        h.put("shuffle", Boolean.toString(config.shuffle()));
        h.put("seed", Long.toString(config.seed()));
        Map<String, float[]> buffers = new LinkedHashMap<>();
        buffers.put("params", state.snapshot("params"));
        for (String m : state.momentNames()) buffers.put(m, state.snapshot(m));
        return new Checkpoint(h, buffers, modelState);
    }

    private long restore(Checkpoint c) {
        Map<String, String> h = c.header();
        expect(h, "model_sha256", modelHash, "the checkpoint belongs to another model file");
        expect(h, "layout", state.layout().signature(), "the trained parameters differ (check --freeze)");
        expect(h, "optimizer", config.optimizer().name() + config.optimizer().hyperParameters(),
                "the optimizer or its hyper-parameters differ");
        expect(h, "loss", config.loss().cliName(), "the loss differs");
        expect(h, "batch_size", Integer.toString(config.batchSize()), "--batch-size differs");
        expect(h, "shuffle", Boolean.toString(config.shuffle()), "--no-shuffle differs");
        expect(h, "seed", Long.toString(config.seed()), "--seed differs");
        float[] p = c.buffers().get("params");
        if (p == null || p.length != state.layout().size())
            throw new GaleException("checkpoint has no matching parameters");
        state.load("params", p);
        for (Map.Entry<String, float[]> e : c.buffers().entrySet()) {
            if (e.getKey().equals("params")) continue;
            if (e.getValue().length != state.layout().size())
                throw new GaleException("checkpoint buffer '" + e.getKey() + "' has " + e.getValue().length
                        + " values for " + state.layout().size() + " (a corrupt or foreign checkpoint)");
            state.load(e.getKey(), e.getValue());
        }
        for (String s : modelState.keySet()) {
            Tensor t = c.tensors().get(s);
            if (t == null) throw new GaleException("checkpoint lacks model state '" + s + "'");
            modelState.put(s, t);
        }
        state.setStep(c.step());
        if (c.step() > config.steps())
            throw new GaleException("checkpoint is at step " + c.step() + ", beyond --steps " + config.steps());
        return c.step();
    }

    private static void expect(Map<String, String> h, String key, String want, String why) {
        if (!want.equals(h.get(key)))
            throw new GaleException("cannot resume: " + why + " (checkpoint " + key + " = " + h.get(key) + ", this run "
                    + want + ")");
    }

}
