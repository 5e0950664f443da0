package dev.gale.ir.op;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.List;
import java.util.Map;

/**
 * What a {@link GradientRule} sees and how it emits backward nodes. The forward node's inputs and outputs are
 * available as values (forward activations the backward pass keeps); {@link #dOut} is the incoming gradient.
 * Emitted values get their types inferred immediately, so rules may look at shapes.
 */
public interface GradContext {
    Node node();

    Value in(int i);

    Value out(int i);

    /** Gradient of the loss with respect to output {@code i}, or null when no gradient flows into it. */
    Value dOut(int i);

    /** Whether input {@code i} needs a gradient (it depends on a trainable value and is floating point). */
    boolean needs(int i);

    /** Adds a node of the default domain with one output. */
    Value op(String op, Map<String, Attr> attrs, Value... inputs);

    /** Adds a node with several outputs. */
    List<Value> ops(String domain, String op, Map<String, Attr> attrs, int outputs, Value... inputs);

    /** Adds a node of Gale's internal {@code gale} domain (backward helper ops such as {@code ConvGradInput}). */
    default Value gale(String op, Map<String, Attr> attrs, Value... inputs) {
        return ops(GaleOps.DOMAIN, op, attrs, 1, inputs).get(0);
    }

    Value constant(Tensor t);

    /**
     * What a forward value is known to hold: a {@code Constant} node's tensor or a frozen initializer; null for
     * anything computed or trained. Lets a rule skip work a constant makes trivial (dropout with ratio 0).
     */
    default Tensor constantValue(Value v) { return null; }

    /** The attribute as written on the forward node, else the op table's default, else null. */
    Attr attr(String name);

    default long attrInt(String name) { return Attrs.asInt(attr(name), node(), name); }

    default float attrFloat(String name) { return Attrs.asFloat(attr(name), node(), name); }

    default String attrString(String name) { return Attrs.asString(attr(name), node(), name); }

    default long[] attrInts(String name) {
        Attr a = attr(name);
        return a == null ? null : Attrs.asInts(a, node(), name);
    }

    default Type.TensorType typeOf(Value v) {
        if (v.type() instanceof Type.TensorType t) return t;
        throw error("the type of '" + v.name() + "' is unknown; gradients need typed values");
    }

    default DType dtypeOf(Value v) { return typeOf(v).dtype(); }

    /** A scalar constant with {@code like}'s element type. */
    default Value scalar(double v, Value like) { return constant(Tensor.scalar(dtypeOf(like), v)); }

    /** v's shape as an int64 vector: a constant when it is static, else read at run time. */
    default Value shapeOf(Value v) {
        Shape s = typeOf(v).shape();
        if (s != null && s.isStatic()) return constant(Tensor.vector(s.sizes()));
        return op("Shape", Map.of(), v);
    }

    /** Zeros of v's shape and element type. */
    default Value zerosLike(Value v) {
        return op("ConstantOfShape", Map.of("value", Attr.of(Tensor.zeros(dtypeOf(v), 1))), shapeOf(v));
    }

    /** Sums {@code grad} over the axes along which {@code like} was broadcast, so it gets {@code like}'s shape. */
    Value sumToShapeOf(Value grad, Value like);

    default GaleException error(String message) {
        return new GaleException(node().describe() + ": cannot differentiate: " + message);
    }
}
