package dev.gale.ir.op;

import dev.gale.ir.Value;

import java.util.List;

/**
 * The backward rule of an op: given the gradients flowing into the node's outputs, emit the nodes that compute the
 * gradients of its inputs. Returns one entry per input; {@code null} where the input needs no gradient (see
 * {@link GradContext#needs}) or is not differentiable (integer indices, shapes).
 */
@FunctionalInterface
public interface GradientRule {
    List<Value> apply(GradContext c);
}
