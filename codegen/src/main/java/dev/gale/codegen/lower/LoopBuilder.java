package dev.gale.codegen.lower;

import dev.gale.codegen.kir.Ix;
import dev.gale.codegen.kir.Stmt;
import dev.gale.codegen.kir.Sx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one loop nest while placing every statement as far out as its operands allow (loop-invariant code motion
 * done during construction rather than as a pass afterwards).
 *
 * <p>The builder keeps the path of open loops from the nest's top level to the innermost loop. Each open block has a
 * cursor: the position before its open child loop (or its end, for the innermost). A new temporary is inserted at
 * the cursor of the innermost block on the path that defines one of its operands (a loop variable or another
 * temporary): statements that precede the child loop run once per iteration of their own loop, not of the child's.
 *
 * <p>A reduction is built as a detour: the path is cut back to the block where the reduction's result is needed
 * (the loops that its output coordinates depend on), the accumulator and its reduce loops go there, before the loop
 * that was open, and the cut part of the path comes back afterwards. Temporaries defined off the current path are
 * not visible; {@link #visible} tells callers whether a remembered value can still be used.
 */
final class LoopBuilder {
    private static final class Block {
        final Ix.Var var; // null for the nest's top level
        final Stmt.Kind kind;
        final List<Object> items = new ArrayList<>(); // Stmt or Block
        int cursor;

        Block(Ix.Var var, Stmt.Kind kind) {
            this.var = var;
            this.kind = kind;
        }
    }

    private final Block root = new Block(null, null);
    private final List<Block> path = new ArrayList<>(List.of(root));
    private final Map<Integer, Block> definedIn = new HashMap<>();
    private final Map<String, Block> varBlock = new HashMap<>();
    private final int[] ids;

    /** {@code ids}: a one-element counter shared by the nests of a kernel, so temporaries are unique in it. */
    LoopBuilder(int[] ids) { this.ids = ids; }

    private Block innermost() { return path.getLast(); }

    private static void insert(Block b, Object item) { b.items.add(b.cursor++, item); }

    /** Opens a loop inside the innermost one and makes it the innermost. */
    Ix.Var open(String name, Ix extent, Stmt.Kind kind) {
        Ix.Var v = new Ix.Var(name, extent);
        Block b = new Block(v, kind);
        Block parent = innermost();
        parent.items.add(parent.cursor, b); // the cursor stays in front of the open child
        path.add(b);
        varBlock.put(name, b);
        return v;
    }

    /** Closes the innermost loop; later statements of its parent go after it. */
    void close() {
        path.removeLast();
        innermost().cursor++;
    }

    /** Defines a temporary for {@code value} where its operands allow; constants and references stay as they are. */
    Sx let(Sx value) {
        if (value instanceof Sx.Const || value instanceof Sx.Ref) return value;
        int id = ids[0]++;
        Block b = path.get(depth(value));
        insert(b, new Stmt.Let(id, value));
        definedIn.put(id, b);
        return new Sx.Ref(id, value.type());
    }

    /** Defines an accumulator in the innermost block. */
    Sx.Ref acc(Sx init) {
        int id = ids[0]++;
        insert(innermost(), new Stmt.Acc(id, init));
        definedIn.put(id, innermost());
        return new Sx.Ref(id, init.type());
    }

    void assign(Sx.Ref acc, Sx value) { insert(innermost(), new Stmt.Assign(acc.id(), value)); }

    void store(int buffer, Ix index, Sx value) { insert(innermost(), new Stmt.Store(buffer, index, value)); }

    /** Cuts the path back to {@code depth}; {@link #resume} with the returned token puts it back. */
    Object detour(int depth) {
        List<Block> cut = new ArrayList<>(path.subList(depth + 1, path.size()));
        while (path.size() > depth + 1) path.removeLast();
        return cut;
    }

    void resume(Object cut) {
        for (Object b : (List<?>) cut) path.add((Block) b);
    }

    /** Whether every temporary {@code x} reads is defined on the current path (so it may be read here). */
    boolean visible(Sx x) {
        try {
            depth(x);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** Index on the path of the innermost block that defines something {@code x} reads; 0 for none. */
    int depth(Sx x) {
        return switch (x) {
            case Sx.Const c -> 0;
            case Sx.Load l -> depth(l.index());
            case Sx.Ref r -> onPath(definedIn.get(r.id()), "t" + r.id());
            case Sx.Index i -> depth(i.index());
            case Sx.Unary u -> depth(u.x());
            case Sx.Binary b -> Math.max(depth(b.a()), depth(b.b()));
            case Sx.Select s -> Math.max(depth(s.cond()), Math.max(depth(s.a()), depth(s.b())));
            case Sx.Cast c -> depth(c.x());
        };
    }

    int depth(Ix x) {
        return switch (x) {
            case Ix.Lit l -> 0;
            case Ix.Size s -> 0;
            case Ix.Var v -> onPath(varBlock.get(v.name()), v.name());
            case Ix.Add a -> a.terms().stream().mapToInt(this::depth).max().orElse(0);
            case Ix.Mul m -> m.factors().stream().mapToInt(this::depth).max().orElse(0);
            case Ix.Div d -> Math.max(depth(d.a()), depth(d.b()));
            case Ix.Mod d -> Math.max(depth(d.a()), depth(d.b()));
            case Ix.Min m -> Math.max(depth(m.a()), depth(m.b()));
            case Ix.Max m -> Math.max(depth(m.a()), depth(m.b()));
        };
    }

    int depth(List<Ix> xs) { return xs.stream().mapToInt(this::depth).max().orElse(0); }

    private int onPath(Block b, String what) {
        int i = b == null ? -1 : path.indexOf(b);
        if (i < 0) throw new IllegalStateException(what + " is not defined on the current loop path");
        return i;
    }

    /** The finished statements of the nest. */
    List<Stmt> finish() {
        if (path.size() != 1) throw new IllegalStateException("loops left open");
        return statements(root);
    }

    private static List<Stmt> statements(Block b) {
        List<Stmt> out = new ArrayList<>();
        for (Object item : b.items) {
            if (item instanceof Block c) {
                List<Stmt> body = statements(c);
                if (!body.isEmpty()) out.add(new Stmt.Loop(c.var, c.kind, body));
            } else {
                out.add((Stmt) item);
            }
        }
        return out;
    }
}
