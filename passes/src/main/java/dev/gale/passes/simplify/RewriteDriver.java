package dev.gale.passes.simplify;

import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.SymInt;
import dev.gale.passes.pipeline.PassContext;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one fixpoint driver for local rewrites: applies a list of {@link RewriteRule}s until none fires.
 *
 * <p>Algorithm: a sweep walks the nodes in order. Each node first has its inputs renamed through the substitution
 * map (so it sees its producers' replacements), then the rules whose root op matches are tried in list order. When
 * one fires, the root is dropped, its outputs are mapped to their replacements, and the new nodes go to the front of
 * the work list, where rules see them next. A node no rule rewrites is emitted. Sweeps repeat until one fires
 * nothing; since producers are rewritten before their consumers, most graphs settle in one sweep plus a checking one.
 *
 * <p>Invariants: (1) the graph stays in topological order, because new nodes read only values visible to the root
 * and take the root's place; (2) every reader of a replaced value, in nested graphs too, reads the replacement;
 * (3) graph outputs keep their names: a replaced output is renamed onto its replacement at the end of a sweep, which
 * is possible only when the replacement is a node output that stands for no other graph output, so a rewrite that
 * would need anything else (an output replaced by a graph input, say) does not fire; (4) a replacement must have the
 * type of what it replaces (element type, rank, fixed dims); a rule that breaks this is a bug and fails loudly;
 * (5) firings are counted as {@code simplify.<rule>} in the pass context; (6) each visited node is typed again
 * from its (possibly replaced) inputs, which also records the shape values rules read
 * ({@link GraphView#shapeValue}), so types only get more precise.
 *
 * <p>Option {@value #TRAIN_PARAMS}: comma-separated initializers that are trainable parameters, which no rule may
 * treat as constants (their values change as training goes).
 */
public final class RewriteDriver {
    /** A rule set that keeps rewriting after this many sweeps is cycling; stop rather than loop. */
    static final int MAX_SWEEPS = 32;

    /** The pass option naming trainable initializers (see the class comment). */
    public static final String TRAIN_PARAMS = "train.params";

    private RewriteDriver() {}

    /** {@code g} rewritten with {@code rules} until no rule fires (nested graphs are left as they are). */
    public static Graph apply(Graph g, List<RewriteRule> rules, PassContext ctx) {
        for (int i = 0; i < MAX_SWEEPS; i++) {
            Sweep s = new Sweep(g, rules, ctx);
            if (!s.run()) return g;
            g = s.result();
            if (s.budget == 0) return g;
        }
        ctx.count("simplify.driver.sweep-limit", 1);
        return g;
    }

    /** One walk over the graph; also the {@link GraphView} that rules query. */
    private static final class Sweep implements GraphView {
        private final Graph g;
        private final List<RewriteRule> rules;
        private final PassContext ctx;
        private final Map<String, List<RewriteRule>> rulesByOp = new HashMap<>();
        private final List<Node> out = new ArrayList<>();
        private final Map<String, Node> producer = new HashMap<>();
        private final Map<String, Tensor> constants = new HashMap<>();
        /** What type inference knows: the constants, plus shape values it proved fully known. */
        private final Map<String, Tensor> inferConstants = new HashMap<>();
        private final Map<String, List<SymInt>> shapeValues = new HashMap<>();
        private final Map<String, Type> types;
        private final Map<String, Value> subst = new HashMap<>();
        private final Map<String, Integer> uses = new HashMap<>();
        private final Set<String> pinned = new HashSet<>();
        private final Set<String> graphDefined = new HashSet<>();
        private final Set<String> names = new HashSet<>();
        private final Map<OpFacts.Key, Node> seen = new HashMap<>();
        private int counter;
        /** Firings left in this sweep. */
        long budget;

        Sweep(Graph g, List<RewriteRule> rules, PassContext ctx) {
            this.g = g;
            this.rules = rules;
            this.ctx = ctx;
            this.types = new HashMap<>(g.valueTypes());
            ValueRefs.collectDefined(g, names);
            Set<String> params = new HashSet<>();
            for (String p : ctx.option(TRAIN_PARAMS, "").split(",")) params.add(p.strip());
            for (Value v : g.inputs()) graphDefined.add(v.name());
            Set<String> inputNames = new HashSet<>(graphDefined);
            for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
                graphDefined.add(e.getKey());
                if (!inputNames.contains(e.getKey()) && !params.contains(e.getKey()))
                    constants.put(e.getKey(), e.getValue());
            }
            inferConstants.putAll(constants);
            for (Node n : g.nodes()) ValueRefs.forEachRead(n, name -> uses.merge(name, 1, Integer::sum));
            for (Value v : g.outputs()) pinned.add(v.name());
        }

        /** Walks the graph once; true when some rule fired. */
        boolean run() {
            Deque<Node> pending = new ArrayDeque<>(g.nodes());
            boolean changed = false;
            // A rule pair that undoes each other would loop inside one sweep; no honest rule set comes near this.
            budget = 16L * g.nodes().size() + 10_000;
            while (!pending.isEmpty()) {
                Node n = pending.poll();
                if (!subst.isEmpty()) n = ValueRefs.substitute(n, this::resolve);
                // Inference again, as the node's inputs may have changed or be better known now; this also
                // records the shape value of its output, which rules read.
                n = infer(n);
                if (budget > 0 && tryRules(n, pending)) {
                    changed = true;
                    if (--budget == 0) ctx.count("simplify.driver.firing-limit", 1);
                    continue;
                }
                emit(n);
            }
            return changed;
        }

        /** The rewritten graph, graph outputs renamed back onto their replacements. */
        Graph result() {
            Map<String, String> rename = new HashMap<>();
            for (Value o : g.outputs()) {
                Value r = resolve(o);
                if (!r.name().equals(o.name())) rename.put(r.name(), o.name());
            }
            List<Node> nodes = out;
            if (!rename.isEmpty()) {
                nodes = new ArrayList<>(out.size());
                for (Node n : out) {
                    Node m = ValueRefs.substitute(n, v -> {
                        String to = rename.get(v.name());
                        return to == null ? v : new Value(to, v.type());
                    });
                    nodes.add(ValueRefs.renameOutputs(m, rename));
                }
            }
            return new Graph(g.name(), g.inputs(), g.outputs(), nodes, g.initializers());
        }

        private List<RewriteRule> rulesFor(Node n) {
            return rulesByOp.computeIfAbsent(n.domain() + "::" + n.op(), k -> rules.stream()
                    .filter(r -> (r.pattern().op() == null || r.pattern().op().equals(n.op()))
                            && (r.pattern().domain() == null || r.pattern().domain().equals(n.domain())))
                    .toList());
        }

        private boolean tryRules(Node n, Deque<Node> pending) {
            for (RewriteRule rule : rulesFor(n)) {
                Match m = rule.match(n, this);
                if (m == null) continue;
                Rewriter r = new Rewriter(n, this::fresh, this::infer);
                List<Value> repl = rule.rewrite().apply(m, r);
                if (repl == null || !acceptable(rule, n, repl, r)) continue;
                commit(n, repl, r, pending);
                ctx.count("simplify." + rule.name(), 1);
                return true;
            }
            return false;
        }

        /** Whether replacing {@code root}'s outputs by {@code repl} keeps every invariant (see the class comment). */
        private boolean acceptable(RewriteRule rule, Node root, List<Value> repl, Rewriter r) {
            if (repl.size() != root.outputs().size())
                throw new IllegalStateException("rule '" + rule.name() + "' returned " + repl.size()
                        + " replacements for the " + root.outputs().size() + " outputs of " + root.describe());
            Set<String> created = new HashSet<>();
            for (Node c : r.created()) for (Value v : c.outputs()) created.add(v.name());
            Set<String> claimed = new HashSet<>();
            for (int i = 0; i < repl.size(); i++) {
                Value old = root.output(i), nv = repl.get(i);
                if (old.isNone()) continue;
                if (nv == null) {
                    if (uses(old) > 0 || pinned.contains(old.name())) return false;
                    continue;
                }
                if (nv.name().equals(old.name())) return false;
                if (!compatible(type(old), typeOf(nv, r)))
                    throw new GaleException("rule '" + rule.name() + "' would replace '" + old.name() + "' of type "
                            + type(old) + " by '" + nv.name() + "' of type " + typeOf(nv, r) + " at "
                            + root.describe());
                if (pinned.contains(old.name())) {
                    boolean ownNode = created.contains(nv.name())
                            || (producer.containsKey(nv.name()) && !graphDefined.contains(nv.name()));
                    if (!ownNode || pinned.contains(nv.name()) || !claimed.add(nv.name())) return false;
                }
            }
            return true;
        }

        private void commit(Node root, List<Value> repl, Rewriter r, Deque<Node> pending) {
            Set<String> created = new HashSet<>();
            for (Node c : r.created()) for (Value v : c.outputs()) created.add(v.name());
            // A new node that replaces a root output takes over its name: names stay stable and readable, and
            // what was known about the old value (declared dims, symbols) still holds for its replacement.
            Map<String, String> takeOver = new HashMap<>();
            for (int i = 0; i < repl.size(); i++) {
                Value old = root.output(i), nv = repl.get(i);
                if (old.isNone() || nv == null) continue;
                if (created.contains(nv.name()) && !takeOver.containsKey(nv.name())) {
                    Type merged = ShapeInference.merge(old.type(), typeOf(nv, r), root.describe());
                    r.retype(nv.name(), merged);
                    takeOver.put(nv.name(), old.name());
                    types.put(old.name(), merged);
                    continue;
                }
                Value target = takeOver.containsKey(nv.name()) ? root.output(repl.indexOf(nv)) : nv;
                subst.put(old.name(), target);
                uses.merge(target.name(), uses.getOrDefault(old.name(), 0), Integer::sum);
                if (pinned.contains(old.name())) pinned.add(target.name());
            }
            List<Node> made = r.created();
            for (int i = made.size() - 1; i >= 0; i--) {
                Node n = ValueRefs.renameOutputs(made.get(i), takeOver);
                n = ValueRefs.substitute(n, v -> takeOver.containsKey(v.name())
                        ? new Value(takeOver.get(v.name()), v.type()) : v);
                ValueRefs.forEachRead(n, name -> uses.merge(name, 1, Integer::sum));
                pending.addFirst(n);
            }
        }

        private void emit(Node n) {
            out.add(n);
            for (Value v : n.outputs()) {
                if (v.isNone()) continue;
                producer.put(v.name(), n);
                if (v.type() != null) types.put(v.name(), v.type());
            }
            Tensor c = ValueRefs.constantValue(n);
            if (c != null) {
                constants.put(n.output(0).name(), c);
                inferConstants.put(n.output(0).name(), c);
            }
            OpFacts.Key k = OpFacts.key(n);
            if (k != null) seen.putIfAbsent(k, n);
        }

        private Value resolve(Value v) {
            Value r = subst.get(v.name());
            if (r == null) return v;
            Value rr = resolve(r);
            if (rr != r) subst.put(v.name(), rr);
            return rr;
        }

        private String fresh(String hint) {
            String n;
            do {
                n = hint + "_s" + counter++;
            } while (!names.add(n));
            return n;
        }

        private Node infer(Node n) {
            Node typed = ShapeInference.inferNode(n, types, inferConstants, shapeValues);
            for (Value v : typed.outputs()) if (!v.isNone() && v.type() != null) types.put(v.name(), v.type());
            return typed;
        }

        private Type typeOf(Value v, Rewriter r) {
            for (Node c : r.created())
                for (Value o : c.outputs()) if (o.name().equals(v.name())) return o.type();
            return type(v);
        }

        /** Same kind of value, same element type, same rank and no two different fixed sizes. */
        private static boolean compatible(Type a, Type b) {
            if (a == null || b == null) return true;
            if (a instanceof Type.TensorType x && b instanceof Type.TensorType y) {
                if (x.dtype() != y.dtype()) return false;
                if (x.shape() == null || y.shape() == null) return true;
                if (x.shape().rank() != y.shape().rank()) return false;
                for (int k = 0; k < x.shape().rank(); k++) {
                    long p = x.shape().dim(k).sizeOr(-1), q = y.shape().dim(k).sizeOr(-1);
                    if (p >= 0 && q >= 0 && p != q) return false;
                }
                return true;
            }
            return a.getClass() == b.getClass();
        }

        // ---- GraphView

        @Override
        public Node producer(Value v) { return producer.get(v.name()); }

        @Override
        public Tensor constant(Value v) { return v.isNone() ? null : constants.get(v.name()); }

        @Override
        public Type type(Value v) {
            Type t = types.get(v.name());
            return t != null ? t : v.type();
        }

        @Override
        public int uses(Value v) { return uses.getOrDefault(v.name(), 0); }

        @Override
        public boolean isGraphOutput(Value v) { return pinned.contains(v.name()); }

        @Override
        public String option(String key, String fallback) { return ctx.option(key, fallback); }

        @Override
        public List<SymInt> shapeValue(Value v) {
            if (v.isNone()) return null;
            List<SymInt> known = shapeValues.get(v.name());
            if (known != null) return known;
            Tensor t = constant(v);
            if (t == null || t.rank() > 1 || t.numel() > 64 || !t.dtype().isInteger()) return null;
            List<SymInt> r = new ArrayList<>();
            for (int i = 0; i < t.numel(); i++) r.add(SymInt.of(t.getLong(i)));
            return r;
        }

        @Override
        public Node equivalent(Node n) {
            OpFacts.Key k = OpFacts.key(n);
            return k == null ? null : seen.get(k);
        }
    }
}
