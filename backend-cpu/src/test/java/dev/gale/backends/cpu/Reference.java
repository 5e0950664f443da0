package dev.gale.backends.cpu;

import dev.gale.backends.interp.Interpreter;
import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Value;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The oracle of the CPU kernel tests: runs ops on Gale's reference interpreter (one-node or small graphs on
 * constant inputs) and compares float32 results within a tolerance scaled by the magnitude of the summed terms.
 *
 * <p>The magnitude of element i is the same computation on absolute values (|A| |B| for a product), so
 * {@code |got - want| <= rtol * magnitude + atol} bounds float32 rounding of a dot product however much its terms
 * cancel.
 */
final class Reference {
    static final double RTOL = 1e-4, ATOL = 1e-6;

    private Reference() {}

    /** Runs {@code domain.op(inputs)} and returns its first output. */
    static Tensor run(String domain, String op, Map<String, Attr> attrs, Tensor... inputs) {
        GraphBuilder b = Graph.builder("ref");
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) in.add(inputs[i] == null ? Value.NONE : b.initializer("in" + i, inputs[i]));
        b.output(b.op(domain, op, in, attrs, 1).get(0));
        return (Tensor) Interpreter.run(Model.of(b.build()), Map.of()).get(0);
    }

    static Tensor run(String op, Map<String, Attr> attrs, Tensor... inputs) { return run("", op, attrs, inputs); }

    /** An attribute map in insertion order from name, value pairs (nulls skipped). */
    static Map<String, Attr> attrs(Object... kv) {
        Map<String, Attr> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            if (v == null) continue;
            m.put((String) kv[i], switch (v) {
                case Attr a -> a;
                case Float f -> Attr.of(f);
                case Long l -> Attr.of(l);
                case Integer n -> Attr.of((long) n);
                case String s -> Attr.of(s);
                case long[] ls -> Attr.of(ls);
                default -> throw new IllegalArgumentException("attribute value " + v);
            });
        }
        return m;
    }

    static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(dev.gale.ir.DType.FLOAT32, shape);
        float[] f = t.floats();
        for (int i = 0; i < f.length; i++) f[i] = (float) rnd.nextGaussian();
        return t;
    }

    static Tensor abs(Tensor t) {
        float[] f = t.floats().clone();
        for (int i = 0; i < f.length; i++) f[i] = Math.abs(f[i]);
        return Tensor.ofFloats(t.shape(), f);
    }

    static Tensor shape(long... dims) { return Tensor.vector(dims); }

    /** A native segment holding {@code t}'s floats at element offset {@code pad}, surrounded by NaN sentinels. */
    static MemorySegment segment(Arena arena, Tensor t, int pad) {
        float[] f = t.floats();
        MemorySegment s = arena.allocate((long) (f.length + 2 * pad) * Float.BYTES, 64);
        for (long i = 0; i < f.length + 2L * pad; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.NaN);
        MemorySegment.copy(f, 0, s, ValueLayout.JAVA_FLOAT, (long) pad * Float.BYTES, f.length);
        return s;
    }

    static float[] floats(MemorySegment s, long off, int n) {
        float[] f = new float[n];
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, off * Float.BYTES, f, 0, n);
        return f;
    }

    /** Asserts |got - want| <= scale (RTOL magnitude + ATOL) element-wise; NaN only where NaN is expected. */
    static void assertClose(String what, Tensor want, Tensor magnitude, float[] got, double scale) {
        float[] w = want.floats(), mag = magnitude.floats();
        if (w.length != got.length) fail(what + ": " + got.length + " elements, expected " + w.length);
        for (int i = 0; i < w.length; i++) {
            if (Float.isNaN(w[i]) && Float.isNaN(got[i]) || w[i] == got[i]) continue;
            double tol = scale * (RTOL * mag[i] + ATOL);
            if (!(Math.abs(w[i] - got[i]) <= tol))
                fail(what + ": element " + i + " is " + got[i] + ", expected " + w[i] + " (tolerance " + tol + ")");
        }
    }

    static void assertClose(String what, Tensor want, Tensor magnitude, float[] got) { assertClose(what, want, magnitude, got, 1); }

    /** Asserts the NaN sentinels around {@code n} elements at {@code pad} are intact. */
    static void assertSentinels(String what, MemorySegment s, int pad, int n) {
        for (long i = 0; i < pad; i++) {
            if (!Float.isNaN(s.getAtIndex(ValueLayout.JAVA_FLOAT, i)) || !Float.isNaN(s.getAtIndex(ValueLayout.JAVA_FLOAT, pad + n + i)))
                fail(what + ": wrote outside its range");
        }
    }
}
