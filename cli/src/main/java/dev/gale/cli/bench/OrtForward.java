package dev.gale.cli.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ONNX Runtime running the same model file on the same inputs, in its best CPU setup: all graph optimizations,
 * sequential execution, {@code threads} intra-op threads. The only class of Gale that touches ONNX Runtime, so the
 * library is loaded by the benchmark's forward worker and nowhere else.
 */
final class OrtForward implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Map<String, OnnxTensor> inputs = new LinkedHashMap<>();

    OrtForward(Path model, int threads, Map<String, Tensor> feeds) throws OrtException {
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model.toString(), o);
        }
        for (Map.Entry<String, Tensor> e : feeds.entrySet()) inputs.put(e.getKey(), tensor(e.getValue()));
    }

    static String version() { return OrtEnvironment.getEnvironment().getVersion(); }

    private OnnxTensor tensor(Tensor t) throws OrtException {
        if (t.dtype() == DType.FLOAT32) return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), t.shape());
        if (t.dtype() == DType.INT64) return OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) t.data()), t.shape());
        if (t.dtype() == DType.INT32) return OnnxTensor.createTensor(env, IntBuffer.wrap((int[]) t.data()), t.shape());
        throw new GaleException("the benchmark feeds float32, int32 or int64 inputs, not " + t.dtype());
    }

    /** One inference; the outputs are released at once. */
    void run() throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            if (r.size() == 0) throw new GaleException("ONNX Runtime returned no outputs");
        }
    }

    /** One inference, returning the first output as floats (for the agreement check). */
    float[] firstOutput() throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] f = new float[b.remaining()];
            b.get(f);
            return f;
        }
    }

    @Override
    public void close() throws OrtException {
        for (OnnxTensor t : inputs.values()) t.close();
        session.close();
    }
}
