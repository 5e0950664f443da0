package dev.gale.ir.op;

import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Type inference through nested graphs (the bodies of If, Loop, Scan and SequenceMap): a body is inferred with the
 * types its op binds to its inputs and the types of the enclosing scope, and its output types come back.
 *
 * <p>{@link #join} is the least upper bound of two types: what a value can be when it comes from either of two
 * places (the two branches of an If, the initial and the updated value of a loop-carried variable).
 */
final class NestedGraphs {
    private NestedGraphs() {}

    /**
     * The output types of {@code body} when its inputs have {@code inputTypes} (null entries keep the declared type).
     * A type the body declares for an input is an assertion of the model and wins over the bound one.
     */
    static List<Type> outputTypes(Graph body, List<Type> inputTypes, InferContext c, String bodyName) {
        return outputTypes(body, inputTypes, Map.of(), c, bodyName);
    }

    /**
     * The same, where body inputs named in {@code known} hold those values (a kernel input the enclosing graph
     * knows: a shape computed from static dims, say), so shapes computed from them are known inside the body too.
     */
    static List<Type> outputTypes(Graph body, List<Type> inputTypes, Map<String, Tensor> known, InferContext c,
                                  String bodyName) {
        List<Value> inputs = new ArrayList<>(body.inputs().size());
        for (int i = 0; i < body.inputs().size(); i++) {
            Value v = body.inputs().get(i);
            Type bound = i < inputTypes.size() ? inputTypes.get(i) : null;
            inputs.add(v.withType(refine(v.type(), bound)));
        }
        // A body input of unknown type would make its users' inference fail although the model may be fine: keep
        // what the body declares instead.
        if (inputs.stream().anyMatch(v -> v.type() == null)) return body.outputs().stream().map(Value::type).toList();
        Map<String, Tensor> constants = body.initializers();
        if (!known.isEmpty()) {
            constants = new HashMap<>(known);
            constants.putAll(body.initializers());
        }
        Graph typed = new Graph(body.name(), inputs, body.outputs(), body.nodes(), constants);
        try {
            Graph inferred = ShapeInference.run(typed, c.outerTypes());
            return inferred.outputs().stream().map(Value::type).toList();
        } catch (GaleException e) {
            throw c.error("in " + bodyName + ": " + e.getMessage());
        }
    }

    /** The declared type made more precise by the bound one, when they agree; the declared one otherwise. */
    private static Type refine(Type declared, Type bound) {
        try {
            return ShapeInference.merge(declared, bound, "");
        } catch (GaleException e) {
            return declared;
        }
    }

    /**
     * Infers a loop body to a fixpoint. The body's inputs are {@code before}, the carried values, then {@code after};
     * the carried inputs start at their initial types and widen (by {@link #join}) with the body's carried outputs
     * (output {@code carriedOut + k} for carried value {@code k}) until they stop changing. Returns the body's
     * output types at the fixpoint.
     */
    static List<Type> loopFixpoint(Graph body, List<Type> before, List<Type> initial, List<Type> after,
                                   int carriedOut, InferContext c, String bodyName) {
        List<Type> carried = new ArrayList<>(initial);
        for (int round = 0; ; round++) {
            List<Type> in = new ArrayList<>(before);
            in.addAll(carried);
            in.addAll(after);
            List<Type> out = outputTypes(body, in, c, bodyName);
            List<Type> widened = new ArrayList<>(carried.size());
            for (int k = 0; k < carried.size(); k++) {
                Type o = carriedOut + k < out.size() ? out.get(carriedOut + k) : null;
                Type j = join(carried.get(k), o, c);
                // join only loses information, so this ends; dropping shapes after a few rounds bounds the work.
                widened.add(round < 3 ? j : forget(j));
            }
            if (widened.equals(carried)) return out;
            carried = widened;
        }
    }

    /** The least upper bound of two types; null (unknown) when either is unknown. */
    static Type join(Type a, Type b, InferContext c) {
        if (a == null || b == null) return null;
        if (a.equals(b)) return a;
        if (a instanceof Type.TensorType ta && b instanceof Type.TensorType tb) {
            if (ta.dtype() != tb.dtype())
                throw c.error("element types " + ta.dtype() + " and " + tb.dtype() + " of one value do not agree");
            return Type.tensor(ta.dtype(), joinShapes(ta.shape(), tb.shape()));
        }
        if (a instanceof Type.SequenceType sa && b instanceof Type.SequenceType sb)
            return new Type.SequenceType(join(sa.element(), sb.element(), c));
        if (a instanceof Type.OptionalType oa && b instanceof Type.OptionalType ob)
            return new Type.OptionalType(join(oa.element(), ob.element(), c));
        // A value that is optional on one side and present on the other is optional.
        if (a instanceof Type.OptionalType oa) return new Type.OptionalType(join(oa.element(), b, c));
        if (b instanceof Type.OptionalType ob) return new Type.OptionalType(join(a, ob.element(), c));
        throw c.error("a value is " + a + " on one path and " + b + " on another");
    }

    private static Shape joinShapes(Shape a, Shape b) {
        if (a == null || b == null || a.rank() != b.rank()) return null;
        List<Dim> dims = new ArrayList<>(a.rank());
        for (int i = 0; i < a.rank(); i++)
            dims.add(Objects.equals(a.dim(i), b.dim(i)) ? a.dim(i) : Dim.UNKNOWN);
        return new Shape(dims);
    }

    /** Drops every shape in a type; stops a fixpoint whose shapes keep changing. */
    private static Type forget(Type t) {
        return switch (t) {
            case null -> null;
            case Type.TensorType tt -> Type.unranked(tt.dtype());
            case Type.SequenceType s -> new Type.SequenceType(forget(s.element()));
            case Type.OptionalType o -> new Type.OptionalType(forget(o.element()));
        };
    }

    /** The element type of a sequence type, null when unknown; an error when the type is not a sequence. */
    static Type sequenceElement(InferContext c, int input) {
        Type t = c.inputType(input);
        if (t == null) return null;
        if (t instanceof Type.SequenceType s) return s.element();
        throw c.error("input " + input + " must be a sequence, got " + t);
    }
}
