package dev.gale.ir.eval;

import dev.gale.ir.GaleException;
import dev.gale.ir.Node;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Evaluates one node on concrete values: how compile-time passes (constant folding, shape-chain folding) compute a
 * node's result without depending on a backend module. The reference interpreter provides the implementation
 * through {@link ServiceLoader}.
 */
public interface NodeEvaluator {
    /** The node's outputs for the given inputs (Tensor, TensorSequence or OptionalValue; null for omitted). */
    List<Object> evaluate(Node node, List<Object> inputs);

    /** Whether the evaluator can run this node at all (it knows the op and the op has no side effects). */
    boolean supports(Node node);

    /** The evaluator on the class path; an error when none is (add the gale-backends module). */
    static NodeEvaluator get() {
        return ServiceLoader.load(NodeEvaluator.class).findFirst().orElseThrow(() ->
                new GaleException("no NodeEvaluator on the class path: constant folding needs the gale-backends module"));
    }
}
