package dev.gale.codegen.kir;

import dev.gale.ir.DType;

import java.util.List;

/**
 * Statements of the kernel IR: a tree of loops whose leaves define temporaries, update accumulators and store
 * results. Temporaries are single-assignment and visible to the statements after them in their loop body and in
 * loops nested there; every index they read is fixed for one iteration of the loops around them, which is what lets
 * the lowering hoist a computation to the outermost loop it depends on.
 */
public sealed interface Stmt {
    /** How a loop's iterations relate: independent (one per output element) or folding into accumulators. */
    enum Kind { PARALLEL, REDUCE }

    /** {@code for var in [0, var.extent())}. */
    record Loop(Ix.Var var, Kind kind, List<Stmt> body) implements Stmt {
        public Loop { body = List.copyOf(body); }
    }

    /** Defines temporary {@code id} (read as {@link Sx.Ref}). */
    record Let(int id, Sx value) implements Stmt {}

    /** Defines accumulator {@code id}, a variable of type {@code init.type()} that {@link Assign} updates. */
    record Acc(int id, Sx init) implements Stmt {
        public DType type() { return init.type(); }
    }

    /** {@code acc[id] = value}; the value usually reads the accumulator ({@code acc + x}, {@code max(acc, x)}). */
    record Assign(int id, Sx value) implements Stmt {}

    /** Writes element {@code index} of output buffer {@code buffer}. */
    record Store(int buffer, Ix index, Sx value) implements Stmt {}
}
