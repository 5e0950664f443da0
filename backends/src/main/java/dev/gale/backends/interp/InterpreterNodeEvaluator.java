package dev.gale.backends.interp;

import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Node;
import dev.gale.ir.Value;
import dev.gale.ir.eval.NodeEvaluator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Evaluates single nodes with the reference interpreter (for constant folding). */
public final class InterpreterNodeEvaluator implements NodeEvaluator {
    /** Ops whose result is not a function of their inputs. */
    private static final Set<String> IMPURE = Set.of("RandomUniform", "RandomNormal", "RandomUniformLike",
            "RandomNormalLike", "Bernoulli", "Multinomial", "Dropout");

    @Override
    public boolean supports(Node node) {
        return Kernels.supports(node.domain(), node.op()) && !IMPURE.contains(node.op());
    }

    @Override
    public List<Object> evaluate(Node node, List<Object> inputs) {
        List<Value> ins = new ArrayList<>();
        Map<String, Object> feeds = new HashMap<>();
        for (int i = 0; i < node.inputs().size(); i++) {
            Value v = node.inputs().get(i);
            if (v.isNone() || inputs.get(i) == null) {
                ins.add(Value.NONE);
                continue;
            }
            Value fresh = new Value("in" + i, v.type());
            ins.add(fresh);
            feeds.put(fresh.name(), inputs.get(i));
        }
        List<Value> outs = new ArrayList<>();
        for (int i = 0; i < node.outputs().size(); i++)
            outs.add(node.outputs().get(i).isNone() ? Value.NONE : new Value("out" + i, node.outputs().get(i).type()));
        Node n = new Node(node.name(), node.domain(), node.op(), ins, outs, node.attrs());
        List<Value> graphIns = ins.stream().filter(v -> !v.isNone()).toList();
        Graph g = new Graph("eval", graphIns, outs.stream().filter(v -> !v.isNone()).toList(), List.of(n), Map.of());
        List<Object> got = new Interpreter(Model.of(g)).run(feeds);
        List<Object> result = new ArrayList<>();
        int k = 0;
        for (Value v : outs) result.add(v.isNone() ? null : got.get(k++));
        return result;
    }
}
