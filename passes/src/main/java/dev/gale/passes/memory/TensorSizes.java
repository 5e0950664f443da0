package dev.gale.passes.memory;

import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Graph;
import dev.gale.ir.Node;
import dev.gale.ir.Shape;
import dev.gale.ir.ShapeInference;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Byte sizes of values from their inferred static shapes. Symbolic dimensions take their value from the pass options:
 * {@code dim.NAME=N} binds one symbol, {@code batch=N} binds every symbol not bound by name (the CLI's
 * {@code --batch-size}). A value whose size is only known at run time (an unknown dimension, unknown rank, strings,
 * sequences and optionals) has size {@link #DYNAMIC}: the executor allocates it outside the arena.
 *
 * <p>In strict mode (memory planning) a symbol without a value is an error naming the value and the option to pass;
 * in lenient mode (scheduling heuristics) it counts as 1.
 *
 * <p>A dim that static inference leaves unknown only because it is computed from a symbol ({@code batch * 4} after a
 * Reshape to {@code [s, -1, 16]}, a Flatten of {@code [batch, 16, 64]}) is known once the symbols are bound:
 * {@link #specializedTo} infers the graph again with its inputs' symbols replaced by their values (inference
 * follows shape computations, so a Reshape target computed from Shape nodes becomes known too) and sizes such values
 * by the types found. Inference is exact, so these are the run-time shapes for those symbol values.
 */
public final class TensorSizes {
    /** The size of a value that only the run time knows. */
    public static final long DYNAMIC = -1;

    /** The value bound to a symbol by name, or null. */
    private final Function<String, Long> dims;
    private final long batch;
    private final boolean strict;

    /** Fully static types of values whose declared type is not, found by {@link #specializedTo}. */
    private final Map<String, Type.TensorType> specialized;
    /** The values {@link #specializedTo} has looked at (found static or not). */
    private final Set<String> examined;

    private TensorSizes(Function<String, Long> dims, long batch, boolean strict) {
        this(dims, batch, strict, Map.of(), Set.of());
    }

    private TensorSizes(Function<String, Long> dims, long batch, boolean strict,
                        Map<String, Type.TensorType> specialized, Set<String> examined) {
        this.dims = dims;
        this.batch = batch;
        this.strict = strict;
        this.specialized = specialized;
        this.examined = examined;
    }

    /** Sizes with explicit symbol values; {@code batch <= 0} leaves unnamed symbols unbound. */
    public static TensorSizes of(Map<String, Long> dims, long batch, boolean strict) {
        Map<String, Long> copy = Map.copyOf(dims);
        return new TensorSizes(copy::get, batch, strict);
    }

    /** Reads the {@code batch} and {@code dim.NAME} options of the context. */
    public static TensorSizes from(PassContext ctx, boolean strict) {
        String b = ctx.option("batch", null);
        return new TensorSizes(name -> {
            String v = ctx.option("dim." + name, null);
            return v == null ? null : parse("dim." + name, v);
        }, b == null ? 0 : parse("batch", b), strict);
    }

    private static long parse(String key, String v) {
        try {
            long n = Long.parseLong(v.trim());
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new GaleException("option " + key + "=" + v + ": expected a positive integer");
    }

    /** The same bindings, lenient about unbound symbols. */
    public TensorSizes lenient() { return new TensorSizes(dims, batch, false, specialized, examined); }

    /**
     * These sizes, with the values of {@code g} whose shapes have unknown dims sized by {@code g} inferred again for
     * the bound symbol values (this instance when nothing is unknown or no input symbol is bound). Values that stay
     * unknown (data-dependent shapes) remain {@link #DYNAMIC}; so does everything when that inference fails.
     */
    public TensorSizes specializedTo(Graph g) {
        if (!hasUnknownDims(g)) return this;
        List<Value> inputs = new ArrayList<>();
        boolean bound = false;
        for (Value v : g.inputs()) {
            Value b = bindSymbols(v);
            bound |= b != v;
            inputs.add(b);
        }
        if (!bound) return this;
        Graph typed;
        try {
            typed = ShapeInference.run(new Graph(g.name(), inputs, g.outputs(), g.nodes(), g.initializers()));
        } catch (GaleException e) {
            return this;
        }
        Map<String, Type.TensorType> found = new HashMap<>(specialized);
        Set<String> seen = new HashSet<>(examined);
        for (Node n : typed.nodes())
            for (Value v : n.outputs()) {
                if (v.isNone()) continue;
                seen.add(v.name());
                if (v.type() instanceof Type.TensorType t && isStatic(t)) found.put(v.name(), t);
            }
        return new TensorSizes(dims, batch, strict, Map.copyOf(found), Set.copyOf(seen));
    }

    /** Whether some node output of {@code g} not examined yet has an unknown rank or dim. */
    private boolean hasUnknownDims(Graph g) {
        for (Node n : g.nodes())
            for (Value v : n.outputs())
                if (!v.isNone() && !examined.contains(v.name()) && v.type() instanceof Type.TensorType t
                        && (t.shape() == null || t.shape().dims().stream().anyMatch(d -> d instanceof Dim.Unknown)))
                    return true;
        return false;
    }

    private static boolean isStatic(Type.TensorType t) {
        return t.shape() != null && t.shape().dims().stream().allMatch(Dim::isFixed);
    }

    /** {@code v} with each bound symbolic dim replaced by its value (the same instance when none is bound). */
    private Value bindSymbols(Value v) {
        if (!(v.type() instanceof Type.TensorType t) || t.shape() == null) return v;
        List<Dim> dims = new ArrayList<>();
        boolean changed = false;
        for (Dim d : t.shape().dims()) {
            Long size = d instanceof Dim.Sym s ? boundValue(s.name()) : null;
            dims.add(size == null ? d : Dim.of(size));
            changed |= size != null;
        }
        return changed ? v.withType(Type.tensor(t.dtype(), new Shape(dims))) : v;
    }

    private Long boundValue(String symbol) {
        Long bound = dims.apply(symbol);
        return bound != null ? bound : batch > 0 ? Long.valueOf(batch) : null;
    }

    /** Element count of a tensor value, or {@link #DYNAMIC}. */
    public long elements(Value v) {
        if (!(v.type() instanceof Type.TensorType declared)) return DYNAMIC;
        Type.TensorType t = declared;
        if (!isStatic(t) && specialized.get(v.name()) instanceof Type.TensorType s && s.dtype() == t.dtype()
                && (t.shape() == null || t.shape().rank() == s.shape().rank())) t = s;
        if (t.shape() == null) return DYNAMIC;
        long n = 1;
        for (Dim d : t.shape().dims()) {
            long size = switch (d) {
                case Dim.Fixed f -> f.size();
                case Dim.Sym s -> symbol(v, s.name());
                case Dim.Unknown u -> DYNAMIC;
            };
            if (size == DYNAMIC) return DYNAMIC;
            n = checkedProduct(v, n, size);
        }
        return n;
    }

    private static long checkedProduct(Value v, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new GaleException("value '" + v.name() + "' (" + v.type() + ") has more than 2^63 bytes");
        }
    }

    /** Byte size of a value, or {@link #DYNAMIC}. */
    public long bytes(Value v) {
        if (!(v.type() instanceof Type.TensorType t) || t.dtype() == DType.STRING) return DYNAMIC;
        long n = elements(v);
        return n == DYNAMIC ? DYNAMIC : checkedProduct(v, n, t.dtype().byteSize());
    }

    private long symbol(Value v, String name) {
        Long bound = dims.apply(name);
        if (bound != null) return bound;
        if (batch > 0) return batch;
        if (!strict) return 1;
        throw new GaleException("value '" + v.name() + "' has the symbolic dimension '" + name + "' (" + v.type()
                + "), so its size is unknown: pass --batch-size N (pass option batch=N, or dim." + name
                + "=N) to plan memory");
    }

    /** {@code bytes} rounded up to a multiple of {@code alignment} (a power of two). */
    public static long align(long bytes, long alignment) { return (bytes + alignment - 1) & -alignment; }
}
