package dev.gale.passes.simplify;

import dev.gale.ir.Node;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.op.SymInt;

import java.util.List;

/**
 * What a rule may ask about the graph around a match while the {@link RewriteDriver} runs. Only values defined
 * before the node being rewritten are visible, which is all a pattern over producers needs.
 */
public interface GraphView {
    /** The node defining {@code v}, or null for graph inputs, initializers and outer-scope values. */
    Node producer(Value v);

    /**
     * The compile-time contents of {@code v}: an initializer that is not also a graph input (an input with a default
     * may be fed another value) and not a trainable parameter named in {@code train.params}, or the output of a
     * {@code Constant} node. Null when {@code v} is not such a constant.
     */
    Tensor constant(Value v);

    /** The best known type of {@code v}. */
    Type type(Value v);

    /** Number of node inputs (including those in nested graphs) that read {@code v}; an over-estimate, never under. */
    int uses(Value v);

    /** Whether {@code v} must keep existing under its name: a graph output (or a value standing in for one). */
    boolean isGraphOutput(Value v);

    /** A pass option from the {@link dev.gale.passes.pipeline.PassContext}. */
    String option(String key, String fallback);

    /**
     * What is known about the elements of a small integer tensor of rank 0 or 1 (a shape, a dim, an axis list):
     * one {@link SymInt} per element, known, a symbolic dim size, or unknown; null when nothing is known. Type
     * inference computes these ({@link dev.gale.ir.op.ShapeValues}) through Shape/Gather/Concat/... chains.
     */
    List<SymInt> shapeValue(Value v);

    /** An earlier node computing the same thing as {@code n} (same op, attributes and inputs), or null. */
    Node equivalent(Node n);
}
