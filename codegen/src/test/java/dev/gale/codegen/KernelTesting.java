package dev.gale.codegen;

import dev.gale.backends.interp.Interpreter;
import dev.gale.codegen.kir.KernelIR;
import dev.gale.codegen.lower.KernelLowering;
import dev.gale.ir.DType;
import dev.gale.ir.Dim;
import dev.gale.ir.Graph;
import dev.gale.ir.Model;
import dev.gale.ir.Tensor;
import dev.gale.ir.Type;
import dev.gale.ir.Value;
import dev.gale.ir.text.TextParser;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared by the codegen tests: parse bodies, lower them, make random inputs, run the interpreter, compare. */
final class KernelTesting {
    private KernelTesting() {}

    static Graph parse(String text, String source) { return TextParser.parse(text, source).graph(); }

    static KernelIR lower(Graph body) {
        KernelLowering.Result r = KernelLowering.lower(body, body.name());
        if (r instanceof KernelLowering.Rejected(String reason)) fail("not lowerable: " + reason);
        return ((KernelLowering.Lowered) r).kernel();
    }

    /** Random inputs for the body's inputs; symbolic dims take their values from {@code sizes}. */
    static List<Tensor> randomInputs(Graph body, Map<String, Long> sizes, Random rnd) {
        List<Tensor> r = new ArrayList<>();
        for (Value v : body.runtimeInputs()) {
            Type.TensorType t = (Type.TensorType) v.type();
            long[] shape = new long[t.shape().rank()];
            for (int k = 0; k < shape.length; k++) {
                Dim d = t.shape().dim(k);
                shape[k] = d instanceof Dim.Sym s ? sizes.get(s.name()) : d.sizeOr(-1);
            }
            Tensor x = Tensor.zeros(t.dtype(), shape);
            for (int i = 0; i < x.numel(); i++) {
                switch (t.dtype()) {
                    case BOOL -> x.setLong(i, rnd.nextBoolean() ? 1 : 0);
                    case INT32, INT64 -> x.setLong(i, rnd.nextInt(19) - 9);
                    default -> x.setDouble(i, rnd.nextDouble() * 6 - 3);
                }
            }
            r.add(x);
        }
        return r;
    }

    static List<Tensor> interpret(Graph body, List<Tensor> inputs) {
        Map<String, Object> feeds = new LinkedHashMap<>();
        List<Value> in = body.runtimeInputs();
        for (int i = 0; i < in.size(); i++) feeds.put(in.get(i).name(), inputs.get(i));
        List<Tensor> r = new ArrayList<>();
        for (Object o : new Interpreter(Model.of(body)).run(feeds)) r.add((Tensor) o);
        return r;
    }

    /** Same element type and shape; floats within {@code atol + rtol * |expected|} (NaN matches NaN). */
    static void assertClose(Tensor expected, Tensor actual, double rtol, double atol, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what + ": element type");
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()),
                what + ": shape");
        for (int i = 0; i < expected.numel(); i++) {
            if (!expected.dtype().isFloat()) {
                if (expected.getLong(i) != actual.getLong(i))
                    fail(what + ": element " + i + " is " + actual.getLong(i) + ", expected " + expected.getLong(i));
                continue;
            }
            double e = expected.getDouble(i), a = actual.getDouble(i);
            if (Double.isNaN(e) && Double.isNaN(a) || e == a) continue;
            if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)))
                fail(what + ": element " + i + " is " + a + ", expected " + e);
        }
    }

    static boolean isFloat(DType t) { return t.isFloat(); }
}
