package dev.gale.ir;

import dev.gale.ir.op.InferContext;
import dev.gale.ir.op.OpSchema;
import dev.gale.ir.op.OpTable;
import dev.gale.ir.op.ShapeValues;
import dev.gale.ir.op.SymInt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs each op's type inference over a graph in node order and returns a graph whose node outputs carry the merged
 * type: what the model declared, refined by what inference proved (a fixed dimension beats a symbol, a symbol beats
 * unknown). A declared type that contradicts inference is an error naming the node.
 */
public final class ShapeInference {
    private ShapeInference() {}

    public static Graph run(Graph g) { return run(g, Map.of()); }

    public static Graph run(Graph g, Map<String, Type> outer) {
        Map<String, Type> types = new HashMap<>(outer);
        types.putAll(g.valueTypes());
        Map<String, Tensor> constants = new HashMap<>(g.initializers());
        Map<String, List<SymInt>> shapeValues = new HashMap<>();
        List<Node> out = new ArrayList<>(g.nodes().size());
        for (Node n : g.nodes()) {
            Node typed = inferNode(n, types, constants, shapeValues);
            out.add(typed);
            for (Value v : typed.outputs()) if (!v.isNone()) types.put(v.name(), v.type());
            if (typed.op().equals("Constant") && typed.domain().isEmpty() && typed.attr("value") instanceof Attr.TensorAttr t)
                constants.put(typed.output(0).name(), t.value());
        }
        Map<String, Type> finalTypes = types;
        List<Value> outputs = new ArrayList<>();
        for (Value v : g.outputs()) {
            Type t = finalTypes.get(v.name());
            outputs.add(v.withType(merge(v.type(), t, "graph output '" + v.name() + "'")));
        }
        // Canonical form: every use of a value carries its definition's type (what the text IR reads back).
        return dev.gale.ir.text.UseTypes.refresh(new Graph(g.name(), g.inputs(), outputs, out, g.initializers()), outer);
    }

    /** Infers the output types of one node given the types (and constant values) visible to it. */
    public static Node inferNode(Node n, Map<String, Type> types, Map<String, Tensor> constants) {
        return inferNode(n, types, constants, new HashMap<>());
    }

    /**
     * Infers the output types of one node; also records the symbolic value of its output when it computes a shape
     * ({@link ShapeValues}), in {@code shapeValues} and, when fully known, in {@code constants}.
     */
    public static Node inferNode(Node n, Map<String, Type> types, Map<String, Tensor> constants,
                                 Map<String, List<SymInt>> shapeValues) {
        // Input values carry the types inference settled on for them, not what the model declared at import.
        List<Value> ins = new ArrayList<>(n.inputs().size());
        for (Value v : n.inputs()) ins.add(v.isNone() ? v : v.withType(types.getOrDefault(v.name(), v.type())));
        if (!ins.equals(n.inputs())) n = n.withInputs(ins);
        OpSchema schema = OpTable.lookup(n.domain(), n.op());
        if (schema == null || schema.inference() == null) return n;
        List<Type> inTypes = new ArrayList<>();
        for (Value v : n.inputs()) inTypes.add(v.isNone() ? null : v.type());
        List<Type> inferred;
        InferContext ctx = new InferContext(n, schema, inTypes, constants::get, types, shapeValues::get);
        try {
            inferred = schema.inference().infer(ctx);
        } catch (GaleException e) {
            throw e;
        } catch (RuntimeException e) {
            // Inference of a malformed node (wrong ranks, missing inputs) must still produce a clear error.
            throw new GaleException(n.describe() + ": cannot infer output types: " + e);
        }
        List<Value> outs = new ArrayList<>(n.outputs().size());
        for (int i = 0; i < n.outputs().size(); i++) {
            Value v = n.outputs().get(i);
            if (v.isNone()) {
                outs.add(v);
                continue;
            }
            Type t = i < inferred.size() ? inferred.get(i) : null;
            outs.add(v.withType(merge(v.type(), t, n.describe() + " output '" + v.name() + "'")));
        }
        Node typed = n.withOutputs(outs);
        ShapeValues.record(ctx, typed, constants, shapeValues);
        return typed;
    }

    /** Combines a declared and an inferred type, keeping the more precise information of each. */
    public static Type merge(Type declared, Type inferred, String where) {
        if (declared == null) return inferred;
        if (inferred == null) return declared;
        if (declared instanceof Type.TensorType d && inferred instanceof Type.TensorType i) {
            if (d.dtype() != i.dtype())
                throw new GaleException(where + ": declared element type " + d.dtype() + " but the op produces "
                        + i.dtype());
            if (d.shape() == null) return i;
            if (i.shape() == null) return d;
            if (d.shape().rank() != i.shape().rank())
                throw new GaleException(where + ": declared shape " + d.shape() + " but the op produces rank "
                        + i.shape().rank() + " " + i.shape());
            List<Dim> dims = new ArrayList<>();
            for (int k = 0; k < d.shape().rank(); k++) {
                Dim a = d.shape().dim(k), b = i.shape().dim(k);
                if (a.isFixed() && b.isFixed() && !a.equals(b))
                    throw new GaleException(where + ": declared shape " + d.shape() + " but the op produces "
                            + i.shape());
                dims.add(b.isFixed() ? b : a.isFixed() ? a : a instanceof Dim.Sym ? a : b);
            }
            return Type.tensor(d.dtype(), new Shape(dims));
        }
        return declared;
    }
}
