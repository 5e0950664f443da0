package dev.gale.backends.interp;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The reference interpreter: walks a graph's nodes in order, keeping every value in a name-to-value map. Nothing
 * here is clever on purpose; it defines the results that compiled backends must reproduce.
 */
public final class Interpreter {
    private final Model model;
    private Random rng = new Random(0);
    private NodeListener listener;

    /** Sees every node's outputs as they are computed (used to find where a NaN first appears). */
    @FunctionalInterface
    public interface NodeListener {
        void computed(Node node, List<Object> outputs);
    }

    public void setListener(NodeListener l) { listener = l; }

    public void seed(long seed) { rng = new Random(seed); }

    public Interpreter(Model model) {
        this.model = model;
        checkSupported(model.graph());
    }

    /** Fails early, naming the first op without a kernel, so a run does not stop half-way. */
    private static void checkSupported(Graph g) {
        for (Node n : g.nodes()) {
            OpTable.require(n.domain(), n.op(), n.describe());
            if (!Kernels.supports(n.domain(), n.op()))
                throw new UnsupportedOpException(n.describe() + ": the interp backend has no kernel for this op");
            for (var a : n.attrs().values()) {
                if (a instanceof dev.gale.ir.Attr.GraphAttr ga) checkSupported(ga.value());
                if (a instanceof dev.gale.ir.Attr.GraphsAttr gs) gs.values().forEach(Interpreter::checkSupported);
            }
        }
    }

    Random rng() { return rng; }

    /** Runs the model's main graph; feeds are by input name and may override initializers with defaults. */
    public List<Object> run(Map<String, Object> feeds) {
        Graph g = model.graph();
        dev.gale.backends.Feeds.checkNames(g, feeds);
        Map<String, Object> env = new HashMap<>(g.initializers());
        env.putAll(feeds);
        return execute(g, env);
    }

    List<Object> runNested(Graph g, List<Object> inputs, Map<String, Object> outer) {
        Map<String, Object> env = new HashMap<>(outer);
        env.putAll(g.initializers());
        for (int i = 0; i < g.inputs().size(); i++)
            if (i < inputs.size() && inputs.get(i) != null) env.put(g.inputs().get(i).name(), inputs.get(i));
        return execute(g, env);
    }

    private List<Object> execute(Graph g, Map<String, Object> env) {
        for (Node n : g.nodes()) {
            List<Object> in = new ArrayList<>(n.inputs().size());
            for (Value v : n.inputs()) {
                if (v.isNone()) {
                    in.add(null);
                    continue;
                }
                Object x = env.get(v.name());
                if (x == null && !env.containsKey(v.name()))
                    throw new GaleException(n.describe() + ": input '" + v.name() + "' has no value");
                in.add(x);
            }
            List<Object> out = runNode(n, in, env);
            for (int i = 0; i < n.outputs().size(); i++) {
                Value v = n.outputs().get(i);
                if (!v.isNone() && i < out.size()) env.put(v.name(), out.get(i));
            }
        }
        List<Object> result = new ArrayList<>(g.outputs().size());
        for (Value v : g.outputs()) {
            if (!env.containsKey(v.name())) throw new GaleException("graph output '" + v.name() + "' was not computed");
            result.add(env.get(v.name()));
        }
        return result;
    }

    /**
     * Runs one node's kernel on its input values (null for omitted inputs) and returns its outputs; nested graphs
     * see the values of {@code scope}. For executors that keep values elsewhere (the planned executor's arena).
     */
    public List<Object> runNode(Node n, List<Object> in, Map<String, Object> scope) {
        OpSchema schema = OpTable.require(n.domain(), n.op(), n.describe());
        Kernel k = Kernels.lookup(n.domain(), n.op());
        if (k == null) throw new UnsupportedOpException(n.describe() + ": the interp backend has no kernel for this op");
        List<Object> out;
        try {
            out = k.run(new KernelCall(n, schema, in, this, scope));
        } catch (GaleException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new GaleException(n.describe() + ": " + e, e);
        }
        if (out.size() < countNonEmpty(n))
            throw new IllegalStateException(n.describe() + ": kernel returned " + out.size() + " outputs");
        if (listener != null) listener.computed(n, out);
        return out;
    }

    private static int countNonEmpty(Node n) {
        int last = -1;
        for (int i = 0; i < n.outputs().size(); i++) if (!n.outputs().get(i).isNone()) last = i;
        return last + 1;
    }

    /** Convenience for tests: runs with tensors only. */
    public static List<Object> run(Model m, Map<String, Object> feeds) { return new Interpreter(m).run(feeds); }

    /** Raised when an op is known but has no interpreter kernel (reported as "unsupported", not as a failure). */
    public static final class UnsupportedOpException extends dev.gale.ir.UnsupportedException {
        public UnsupportedOpException(String message) { super(message); }
    }

    static Tensor tensorOf(Object o) { return (Tensor) o; }
}
