package dev.gale.ir.op;

import dev.gale.ir.Type;

import java.util.List;

/** Computes the output types of a node from its input types, attributes and constant inputs. */
@FunctionalInterface
public interface TypeInference {
    List<Type> infer(InferContext ctx);
}
