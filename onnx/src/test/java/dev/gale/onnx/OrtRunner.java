package dev.gale.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.gale.ir.DType;
import dev.gale.ir.Tensor;
import org.junit.jupiter.api.Assumptions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime for the tests that compare against it (export, opset upgrades): one-shot single-threaded runs of a
 * serialized model, Gale tensors to and from ORT's, and the comparison of an output with its expected value.
 */
final class OrtRunner {
    private OrtRunner() {}

    private static OrtEnvironment env;

    /** Aborts the calling tests when ONNX Runtime does not load here (call it from {@code @BeforeAll}). */
    static void requireOrt() {
        try {
            env = OrtEnvironment.getEnvironment();
        } catch (Throwable t) {
            Assumptions.abort("ONNX Runtime is not available here: " + t);
        }
    }

    /** Runs a serialized model once; {@code optimize}: with ORT's default graph optimizations, else none. */
    static List<Tensor> run(byte[] model, Map<String, Tensor> feeds, boolean optimize) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            if (!optimize) opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession s = env.createSession(model, opts)) {
                Map<String, OnnxTensor> in = new LinkedHashMap<>();
                try {
                    for (Map.Entry<String, Tensor> e : feeds.entrySet()) in.put(e.getKey(), toOrt(e.getValue()));
                    try (OrtSession.Result r = s.run(in)) {
                        List<Tensor> out = new ArrayList<>();
                        for (Map.Entry<String, OnnxValue> e : r) out.add(fromOrt((OnnxTensor) e.getValue()));
                        return out;
                    }
                } finally {
                    for (OnnxTensor t : in.values()) t.close();
                }
            }
        }
    }

    static OnnxTensor toOrt(Tensor t) throws OrtException {
        long[] shape = t.shape();
        if (t.dtype() == DType.STRING) {
            String[] s = new String[t.numel()];
            for (int i = 0; i < s.length; i++) s[i] = t.getString(i);
            return OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), s, shape);
        }
        ByteBuffer b = ByteBuffer.allocateDirect((int) RawData.byteSize(t)).order(ByteOrder.nativeOrder());
        b.put(ByteBuffer.wrap(RawData.bytes(t)).order(ByteOrder.LITTLE_ENDIAN));
        b.rewind();
        OnnxJavaType jt = switch (t.dtype()) {
            case FLOAT32 -> OnnxJavaType.FLOAT;
            case FLOAT64 -> OnnxJavaType.DOUBLE;
            case INT64 -> OnnxJavaType.INT64;
            case INT32 -> OnnxJavaType.INT32;
            case INT16 -> OnnxJavaType.INT16;
            case INT8 -> OnnxJavaType.INT8;
            case UINT8 -> OnnxJavaType.UINT8;
            case BOOL -> OnnxJavaType.BOOL;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case BFLOAT16 -> OnnxJavaType.BFLOAT16;
            default -> throw new UnsupportedOperationException("no ORT Java type for " + t.dtype());
        };
        return OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), b, shape, jt);
    }

    static Tensor fromOrt(OnnxTensor o) throws OrtException {
        TensorInfo info = o.getInfo();
        long[] shape = info.getShape();
        DType d = switch (info.type) {
            case FLOAT -> DType.FLOAT32;
            case DOUBLE -> DType.FLOAT64;
            case INT64 -> DType.INT64;
            case INT32 -> DType.INT32;
            case INT16 -> DType.INT16;
            case INT8 -> DType.INT8;
            case UINT8 -> DType.UINT8;
            case BOOL -> DType.BOOL;
            case FLOAT16 -> DType.FLOAT16;
            case BFLOAT16 -> DType.BFLOAT16;
            case STRING -> DType.STRING;
            default -> throw new UnsupportedOperationException("unsupported ORT output type " + info.type);
        };
        if (d == DType.STRING) return Tensor.ofStrings(shape, (String[]) flatten(o.getValue(), shape));
        Tensor t = Tensor.zeros(d, shape);
        RawData.fill(t, o.getByteBuffer().order(ByteOrder.nativeOrder()).order(ByteOrder.LITTLE_ENDIAN));
        return t;
    }

    private static Object flatten(Object nested, long[] shape) {
        List<String> out = new ArrayList<>();
        flattenInto(nested, out);
        return out.toArray(String[]::new);
    }

    private static void flattenInto(Object o, List<String> out) {
        if (o instanceof String s) out.add(s);
        else if (o instanceof Object[] a) for (Object x : a) flattenInto(x, out);
    }

    /** Same dtype and shape, values within rtol 1e-3 / atol 1e-5 (NaN equals NaN). */
    static String mismatch(Tensor want, Tensor got) {
        // The test data stores bfloat16 as its uint16 bits (numpy has no bfloat16).
        if (want.dtype() == DType.UINT16 && got.dtype() == DType.BFLOAT16) want = new Tensor(DType.BFLOAT16, want.shape(), want.data());
        if (want.dtype() != got.dtype()) return "dtype " + got.dtype() + ", expected " + want.dtype();
        if (!java.util.Arrays.equals(want.shape(), got.shape()))
            return "shape " + java.util.Arrays.toString(got.shape()) + ", expected " + java.util.Arrays.toString(want.shape());
        for (int i = 0; i < want.numel(); i++) {
            if (want.dtype() == DType.STRING) {
                if (!want.getString(i).equals(got.getString(i))) return "element " + i + " differs";
                continue;
            }
            double a = want.getDouble(i), b = got.getDouble(i);
            if (Double.isNaN(a) && Double.isNaN(b)) continue;
            if (a == b) continue;
            if (!(Math.abs(a - b) <= 1e-5 + 1e-3 * Math.abs(a)))
                return "element " + i + " is " + b + ", expected " + a;
        }
        return null;
    }
}
