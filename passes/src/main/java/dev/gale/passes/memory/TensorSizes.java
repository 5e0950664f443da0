package dev.gale.passes.memory;

import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.GaleException;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.passes.pipeline.PassContext;

import java.util.Map;
import java.util.function.Function;

/**
 * Byte sizes of values from their inferred static shapes. Symbolic dimensions take their value from the pass options:
 * {@code dim.NAME=N} binds one symbol, {@code batch=N} binds every symbol not bound by name (the CLI's
 * {@code --batch-size}). A value whose size is only known at run time (an unknown dimension, unknown rank, strings,
 * sequences and optionals) has size {@link #DYNAMIC}: the executor allocates it outside the arena.
 *
 * <p>In strict mode (memory planning) a symbol without a value is an error naming the value and the option to pass;
 * in lenient mode (scheduling heuristics) it counts as 1.
 */
public final class TensorSizes {
    /** The size of a value that only the run time knows. */
    public static final long DYNAMIC = -1;

    /** The value bound to a symbol by name, or null. */
    private final Function<String, Long> dims;
    private final long batch;
    private final boolean strict;

    private TensorSizes(Function<String, Long> dims, long batch, boolean strict) {
        this.dims = dims;
        this.batch = batch;
        this.strict = strict;
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
    public TensorSizes lenient() { return new TensorSizes(dims, batch, false); }

    /** Element count of a tensor value, or {@link #DYNAMIC}. */
    public long elements(Value v) {
        if (!(v.type() instanceof Type.TensorType t) || t.shape() == null) return DYNAMIC;
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
