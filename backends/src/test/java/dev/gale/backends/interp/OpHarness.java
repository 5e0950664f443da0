package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.DType;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernel tests' one-node harness: builds a graph holding one node (so type inference runs on it), runs it on the
 * interpreter and returns the outputs with their inferred types. Inputs reach the node in one of two ways: fed at run
 * time ({@link #run}: inference sees only their types, the kernel sees shapes inference could not know), or as
 * initializers ({@link #runOnConstants}: inference sees their values, so it can be held to the exact output type).
 * A null input is omitted ({@link Value#NONE}). Also the small tensor and attribute builders the tests share.
 */
final class OpHarness {
    private OpHarness() {}

    /** The node's output values and the types inference gave its outputs. */
    record Result(List<Object> values, List<Type> inferred) {
        Tensor get(int i) { return (Tensor) values.get(i); }

        /** Asserts that inference agrees exactly with the type of every output the kernel produced. */
        Result assertInferredExactly(String op) {
            for (int i = 0; i < values.size(); i++)
                assertEquals(get(i).type(), inferred.get(i), "inferred type of " + op + " output " + i);
            return this;
        }
    }

    /** Runs one node whose inputs are graph inputs fed at run time. */
    static Result run(String domain, String op, Map<String, Attr> attrs, int outputs, Tensor... inputs) {
        GraphBuilder b = Graph.builder("t");
        List<Value> in = new ArrayList<>();
        Map<String, Object> feeds = new HashMap<>();
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) {
                in.add(Value.NONE);
                continue;
            }
            Object[] dims = new Object[inputs[i].rank()];
            for (int k = 0; k < dims.length; k++) dims[k] = inputs[i].dim(k);
            Value v = b.input("in" + i, inputs[i].dtype(), dims);
            in.add(v);
            feeds.put(v.name(), inputs[i]);
        }
        return runNode(b, domain, op, attrs, outputs, in, feeds);
    }

    /** Runs one node whose inputs are initializers. */
    static Result runOnConstants(String domain, String op, Map<String, Attr> attrs, int outputs, Tensor... inputs) {
        GraphBuilder b = Graph.builder("t");
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++)
            in.add(inputs[i] == null ? Value.NONE : b.initializer("in" + i, inputs[i]));
        return runNode(b, domain, op, attrs, outputs, in, Map.of());
    }

    private static Result runNode(GraphBuilder b, String domain, String op, Map<String, Attr> attrs, int outputs,
                                  List<Value> in, Map<String, Object> feeds) {
        List<Value> out = b.op(domain, op, in, attrs, outputs);
        for (Value v : out) b.output(v);
        List<Object> values = Interpreter.run(b.buildModel(), feeds);
        return new Result(values, out.stream().map(Value::type).toList());
    }

    /** The outputs of an ai.onnx node with fed inputs. */
    static List<Object> run(String op, Map<String, Attr> attrs, int outputs, Tensor... inputs) {
        return run("", op, attrs, outputs, inputs).values();
    }

    /** The single output of an ai.onnx node with fed inputs. */
    static Tensor run1(String op, Map<String, Attr> attrs, Tensor... inputs) {
        return run("", op, attrs, 1, inputs).get(0);
    }

    static Tensor run1(String op, Tensor... inputs) { return run1(op, Map.of(), inputs); }

    /** The single output of a node on constant inputs, after checking that inference knew its exact type. */
    static Tensor run1OnConstants(String domain, String op, Map<String, Attr> attrs, Tensor... inputs) {
        return runOnConstants(domain, op, attrs, 1, inputs).assertInferredExactly(op).get(0);
    }

    static Tensor run1OnConstants(String op, Map<String, Attr> attrs, Tensor... inputs) {
        return run1OnConstants("", op, attrs, inputs);
    }

    /** Attributes from alternating name, value pairs (Long, Integer, Float, String or long[] values). */
    static Map<String, Attr> attrs(Object... kv) {
        Map<String, Attr> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put((String) kv[i], switch (v) {
                case Long l -> Attr.of(l);
                case Integer n -> Attr.of((long) n);
                case Float f -> Attr.of(f);
                case String s -> Attr.of(s);
                case long[] a -> Attr.of(a);
                default -> throw new IllegalArgumentException("attribute value " + v);
            });
        }
        return m;
    }

    static long[] s(long... shape) { return shape; }

    /** A float32 vector. */
    static Tensor f32(float... v) { return Tensor.ofFloats(s(v.length), v); }

    static Tensor f32(long[] shape, float... v) { return Tensor.ofFloats(shape, v); }

    /** A float32 tensor from double literals. */
    static Tensor floats(long[] shape, double... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return Tensor.ofFloats(shape, f);
    }

    static Tensor f64(double... v) { return Tensor.ofDoubles(s(v.length), v); }

    static Tensor i64(long... v) { return Tensor.ofLongs(s(v.length), v); }

    /** A vector of element type t, each value converted by {@link Tensor#setLong}. */
    static Tensor typed(DType t, long... v) { return of(t, s(v.length), v); }

    /** A tensor of element type t; missing trailing values are zero. */
    static Tensor of(DType t, long[] shape, long... v) {
        Tensor x = Tensor.zeros(t, shape);
        for (int i = 0; i < v.length; i++) x.setLong(i, v[i]);
        return x;
    }

    static Tensor strings(String... v) { return Tensor.ofStrings(s(v.length), v); }

    static String[] stringsOf(Tensor t) {
        String[] r = new String[t.numel()];
        for (int i = 0; i < r.length; i++) r[i] = t.getString(i);
        return r;
    }

    static double[] values(Tensor t) { return t.toDoubleArray(); }

    static void assertClose(double[] expected, Tensor actual, double tol) {
        double[] a = actual.toDoubleArray();
        assertEquals(expected.length, a.length, "element count");
        for (int i = 0; i < a.length; i++)
            if (Math.abs(expected[i] - a[i]) > tol)
                throw new AssertionError("element " + i + ": expected " + expected[i] + " got " + a[i] + " in "
                        + Arrays.toString(a));
    }

    static void assertLongs(long[] expected, Tensor actual) { assertArrayEquals(expected, actual.toLongArray()); }
}
