package dev.gale.cli;

import dev.gale.ir.Attr;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.text.TextPrinter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Fixes a model's batch size ({@code gale compile --batch-size B}). The batch dimensions are the symbolic first
 * dimensions of the runtime inputs ({@code x: tensor<[batch,784],f32>}); every occurrence of those symbols, in any
 * value's type, nested graphs included, becomes {@code B}, as does an unknown ({@code ?}) first input dimension.
 * Shape inference then runs again, so shapes computed from the batch become static.
 */
final class BatchDimension {
    private BatchDimension() {}

    static Graph fix(Graph g, long batch) {
        if (batch <= 0) throw new GaleException("--batch-size must be positive, got " + batch);
        Set<String> symbols = new TreeSet<>();
        boolean any = false;
        for (Value v : g.runtimeInputs()) {
            if (!(v.type() instanceof Type.TensorType t) || t.shape() == null || t.shape().rank() == 0) continue;
            Dim d0 = t.shape().dim(0);
            if (d0 instanceof Dim.Sym s) symbols.add(s.name());
            any |= !d0.isFixed();
        }
        if (!any)
            throw new GaleException("--batch-size: no input of the model has a symbolic first (batch) dimension; inputs: "
                    + g.runtimeInputs().stream().map(v -> v.name() + ": " + TextPrinter.type(v.type()))
                    .collect(Collectors.joining(", ")));
        Dim fixed = Dim.of(batch);
        List<Value> inputs = new ArrayList<>();
        Set<String> runtime = g.runtimeInputs().stream().map(Value::name).collect(Collectors.toSet());
        for (Value v : g.inputs()) {
            Type t = substitute(v.type(), symbols, fixed);
            if (runtime.contains(v.name()) && t instanceof Type.TensorType tt && tt.shape() != null
                    && tt.shape().rank() > 0 && tt.shape().dim(0) instanceof Dim.Unknown) {
                List<Dim> dims = new ArrayList<>(tt.shape().dims());
                dims.set(0, fixed);
                t = Type.tensor(tt.dtype(), new Shape(dims));
            }
            inputs.add(v.withType(t));
        }
        Graph body = substitute(g, symbols, fixed);
        return ShapeInference.run(new Graph(body.name(), inputs, body.outputs(), body.nodes(), body.initializers()));
    }

    private static Graph substitute(Graph g, Set<String> symbols, Dim fixed) {
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            Map<String, Attr> attrs = new LinkedHashMap<>();
            for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
                Attr a = switch (e.getValue()) {
                    case Attr.GraphAttr ga -> Attr.of(substitute(ga.value(), symbols, fixed));
                    case Attr.GraphsAttr gs ->
                            new Attr.GraphsAttr(gs.values().stream().map(s -> substitute(s, symbols, fixed)).toList());
                    default -> e.getValue();
                };
                attrs.put(e.getKey(), a);
            }
            nodes.add(new Node(n.name(), n.domain(), n.op(), values(n.inputs(), symbols, fixed),
                    values(n.outputs(), symbols, fixed), attrs));
        }
        return new Graph(g.name(), values(g.inputs(), symbols, fixed), values(g.outputs(), symbols, fixed), nodes,
                g.initializers());
    }

    private static List<Value> values(List<Value> vs, Set<String> symbols, Dim fixed) {
        List<Value> r = new ArrayList<>(vs.size());
        for (Value v : vs) r.add(v.isNone() ? v : v.withType(substitute(v.type(), symbols, fixed)));
        return r;
    }

    private static Type substitute(Type t, Set<String> symbols, Dim fixed) {
        return switch (t) {
            case null -> null;
            case Type.TensorType tt when tt.shape() != null -> Type.tensor(tt.dtype(), new Shape(tt.shape().dims().stream()
                    .map(d -> d instanceof Dim.Sym s && symbols.contains(s.name()) ? fixed : d).toList()));
            case Type.TensorType tt -> tt;
            case Type.SequenceType s -> new Type.SequenceType(substitute(s.element(), symbols, fixed));
            case Type.OptionalType o -> new Type.OptionalType(substitute(o.element(), symbols, fixed));
        };
    }
}
