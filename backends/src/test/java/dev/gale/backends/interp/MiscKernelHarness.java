package dev.gale.backends.interp;

import dev.gale.ir.Attr;
import dev.gale.ir.Graph;
import dev.gale.ir.GraphBuilder;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs one node on constant inputs through type inference and the interpreter, for the quantization, signal,
 * vision and training kernel tests. Inputs are initializers, so inference sees their values; a null input is omitted.
 */
final class MiscKernelHarness {
    private MiscKernelHarness() {}

    record Result(List<Tensor> values, List<Type> inferred) {
        Tensor get(int i) { return values.get(i); }
    }

    static Result run(String domain, String op, Map<String, Attr> attrs, int outputs, Tensor... inputs) {
        GraphBuilder b = Graph.builder("t");
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) in.add(inputs[i] == null ? Value.NONE : b.initializer("in" + i, inputs[i]));
        List<Value> out = b.op(domain, op, in, attrs, outputs);
        for (Value v : out) b.output(v);
        Graph g = b.build();
        List<Object> values = new Interpreter(Model.of(g)).run(Map.of());
        List<Tensor> tensors = new ArrayList<>();
        for (Object o : values) tensors.add((Tensor) o);
        return new Result(tensors, out.stream().map(Value::type).toList());
    }

    static Tensor run1(String op, Map<String, Attr> attrs, Tensor... inputs) {
        Result r = run("", op, attrs, 1, inputs);
        Tensor y = r.get(0);
        // Inference must agree exactly with what the kernel produced when it knows the shape.
        assertEquals(Type.tensor(y.dtype(), y.shape()), r.inferred().get(0), "inferred type of " + op);
        return y;
    }

    static Tensor floats(long[] shape, double... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return Tensor.ofFloats(shape, f);
    }

    static Tensor of(dev.gale.ir.DType t, long[] shape, long... v) {
        Tensor x = Tensor.zeros(t, shape);
        for (int i = 0; i < v.length; i++) x.setLong(i, v[i]);
        return x;
    }

    static long[] shape(long... s) { return s; }

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
