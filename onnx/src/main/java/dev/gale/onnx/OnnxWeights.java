package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes a copy of an ONNX model with some initializers replaced (trained weights), leaving every other byte of the
 * model's meaning as it was: the same graph, opsets and metadata, so the result loads wherever the input did.
 */
public final class OnnxWeights {
    private OnnxWeights() {}

    public static void writeWithInitializers(Path source, Path target, Map<String, Tensor> weights) {
        ModelProto m = OnnxImporter.parse(OnnxTensors.readBytes(source), source.toString());
        ModelProto.Builder b = m.toBuilder();
        GraphProto.Builder g = b.getGraphBuilder();
        Set<String> done = new HashSet<>();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto old = g.getInitializer(i);
            Tensor t = weights.get(old.getName());
            if (t == null) continue;
            if (old.getDataType() != t.dtype().onnxCode())
                throw new GaleException("initializer '" + old.getName() + "': trained tensor is " + t.dtype()
                        + " but the model stores " + dev.gale.ir.DType.fromOnnx(old.getDataType()));
            TensorProto fresh = OnnxTensors.toProto(t, old.getName()).toBuilder().setDocString(old.getDocString()).build();
            g.setInitializer(i, fresh);
            done.add(old.getName());
        }
        for (String name : weights.keySet())
            if (!done.contains(name))
                throw new GaleException("'" + name + "' is not an initializer of " + source.getFileName());
        AtomicFiles.write(target, b.build().toByteArray());
    }
}
