package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.OptionalValue;
import dev.gale.ir.Tensor;
import dev.gale.ir.TensorSequence;
import dev.gale.ir.Type;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Conversion between ONNX {@code TensorProto} and Gale {@link Tensor}, and reading of test-data files
 * ({@code input_0.pb}: a TensorProto, SequenceProto or OptionalProto, as the value's type says).
 *
 * <p>Sizes are checked before anything is allocated: a tensor whose declared shape disagrees with its data, or that
 * is too large to hold, is refused with an error naming it.
 */
public final class OnnxTensors {
    private OnnxTensors() {}

    /** Converts a tensor without external data. */
    public static Tensor fromProto(TensorProto p) { return fromProto(p, null); }

    /**
     * Converts a tensor; {@code external} resolves {@code data_location == EXTERNAL} tensors (null refuses them).
     */
    public static Tensor fromProto(TensorProto p, ExternalData external) {
        String what = "tensor '" + p.getName() + "'";
        DType t;
        try {
            t = DType.fromOnnx(p.getDataType());
        } catch (GaleException e) {
            throw new GaleException(what + ": " + e.getMessage());
        }
        long[] shape = new long[p.getDimsCount()];
        for (int i = 0; i < shape.length; i++) shape[i] = p.getDims(i);
        int numel;
        try {
            numel = Tensor.checkedNumel(shape);
        } catch (GaleException e) {
            throw new GaleException(what + ": " + e.getMessage());
        }
        if (p.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            if (external == null) throw new GaleException(what + ": stored in an external file, which is not allowed here");
            if (t == DType.STRING) throw new GaleException(what + ": string tensors cannot use external data");
            return external.read(p, t, shape, (long) numel * elementBytes(t));
        }
        if (p.hasRawData() && t != DType.STRING) {
            ByteString raw = p.getRawData();
            long expected = (long) numel * elementBytes(t);
            if (raw.size() != expected)
                throw new GaleException(what + ": declared shape " + Arrays.toString(shape) + " of " + t + " needs "
                        + expected + " bytes but raw_data holds " + raw.size());
            return fromRaw(t, shape, numel, raw.asReadOnlyByteBuffer(), what);
        }
        return fromTyped(p, t, shape, numel, what);
    }

    static int elementBytes(DType t) {
        return t.byteSize();
    }

    private static Tensor fromRaw(DType t, long[] shape, int numel, ByteBuffer raw, String what) {
        if (t == DType.STRING) throw new GaleException(what + ": raw data is not supported for " + t);
        Tensor r = new Tensor(t, shape, Tensor.allocate(t, numel));
        RawData.fill(r, raw);
        return r;
    }

    private static void expectCount(int have, int want, String field, String what, long[] shape) {
        if (have != want)
            throw new GaleException(what + ": declared shape " + Arrays.toString(shape) + " has " + want
                    + " elements but " + field + " holds " + have);
    }

    private static Tensor fromTyped(TensorProto p, DType t, long[] shape, int numel, String what) {
        int n2 = (t == DType.COMPLEX64 || t == DType.COMPLEX128) ? 2 * numel : numel;
        switch (t) {
            case FLOAT32, COMPLEX64 -> {
                expectCount(p.getFloatDataCount(), n2, "float_data", what, shape);
                float[] a = new float[n2];
                for (int i = 0; i < n2; i++) a[i] = p.getFloatData(i);
                return new Tensor(t, shape, a);
            }
            case FLOAT64, COMPLEX128 -> {
                expectCount(p.getDoubleDataCount(), n2, "double_data", what, shape);
                double[] a = new double[n2];
                for (int i = 0; i < n2; i++) a[i] = p.getDoubleData(i);
                return new Tensor(t, shape, a);
            }
            case INT64 -> {
                expectCount(p.getInt64DataCount(), numel, "int64_data", what, shape);
                long[] a = new long[numel];
                for (int i = 0; i < numel; i++) a[i] = p.getInt64Data(i);
                return new Tensor(t, shape, a);
            }
            case UINT32, UINT64 -> {
                expectCount(p.getUint64DataCount(), numel, "uint64_data", what, shape);
                Tensor r = Tensor.zeros(t, shape);
                for (int i = 0; i < numel; i++) r.setLong(i, p.getUint64Data(i));
                return r;
            }
            case STRING -> {
                expectCount(p.getStringDataCount(), numel, "string_data", what, shape);
                String[] a = new String[numel];
                for (int i = 0; i < numel; i++) a[i] = p.getStringData(i).toStringUtf8();
                return new Tensor(t, shape, a);
            }
            default -> {
                // int32_data carries int32, int16, int8, uint16, uint8, bool, and float16/bfloat16 bit patterns.
                expectCount(p.getInt32DataCount(), numel, "int32_data", what, shape);
                Tensor r = Tensor.zeros(t, shape);
                Object data = r.data();
                for (int i = 0; i < numel; i++) {
                    int v = p.getInt32Data(i);
                    switch (data) {
                        case short[] a -> a[i] = (short) v;
                        case byte[] a -> a[i] = (byte) v;
                        case int[] a -> a[i] = v;
                        default -> throw new IllegalStateException();
                    }
                }
                return r;
            }
        }
    }

    /** Converts a Gale tensor to a TensorProto, using raw_data for numeric types. */
    public static TensorProto toProto(Tensor t, String name) {
        TensorProto.Builder b = header(t, name);
        if (t.dtype() == DType.STRING) {
            for (int i = 0; i < t.numel(); i++) b.addStringData(ByteString.copyFrom(t.getString(i), StandardCharsets.UTF_8));
            return b.build();
        }
        b.setRawData(UnsafeByteOperations.unsafeWrap(RawData.bytes(t)));
        return b.build();
    }

    /** A TensorProto with name, element type and dimensions, and no data yet. */
    static TensorProto.Builder header(Tensor t, String name) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name == null ? "" : name)
                .setDataType(t.dtype().onnxCode());
        for (long d : t.shape()) b.addDims(d);
        return b;
    }

    /** Little-endian bytes of a numeric tensor, as ONNX raw_data stores them. */
    public static byte[] rawBytes(Tensor t) { return RawData.bytes(t); }

    /** Reads a TensorProto file such as {@code input_0.pb}. */
    public static Tensor readTensor(Path file) {
        return fromProto(parseTensor(readBytes(file), file));
    }

    public static void writeTensor(Path file, Tensor t, String name) {
        AtomicFiles.write(file, toProto(t, name).toByteArray());
    }

    private static TensorProto parseTensor(byte[] bytes, Path file) {
        try {
            return TensorProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new GaleException(file + ": not a valid ONNX TensorProto (" + e.getMessage() + ")");
        }
    }

    static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new GaleException(file + ": no such file");
        } catch (IOException e) {
            throw new GaleException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /**
     * Reads a test-data value of the given type: a TensorProto for tensors, a SequenceProto for sequences, an
     * OptionalProto for optionals (these two are not in the generated classes, so they are decoded by field number).
     */
    public static Object readValue(Path file, Type type) {
        byte[] bytes = readBytes(file);
        try {
            return decodeValue(bytes, type, file);
        } catch (IOException e) {
            throw new GaleException(file + ": malformed value file (" + e.getMessage() + ")");
        }
    }

    /** numpy has no bfloat16, so the ONNX test data stores bfloat16 tensors as their uint16 bits: read them as bf16. */
    private static Tensor asDeclared(Tensor t, Type type) {
        return type instanceof Type.TensorType tt && tt.dtype() == DType.BFLOAT16 && t.dtype() == DType.UINT16
                ? new Tensor(DType.BFLOAT16, t.shape(), t.data()) : t;
    }

    private static Object decodeValue(byte[] bytes, Type type, Path file) throws IOException {
        if (type == null || type instanceof Type.TensorType) return asDeclared(fromProto(parseTensor(bytes, file)), type);
        if (type instanceof Type.SequenceType st) {
            // SequenceProto: 1 name, 2 elem_type, 3 tensor_values (repeated TensorProto)
            List<Tensor> ts = new ArrayList<>();
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) == 3) ts.add(fromProto(TensorProto.parseFrom(in.readBytes())));
                else in.skipField(tag);
            }
            DType et = st.element() instanceof Type.TensorType tt ? tt.dtype()
                    : ts.isEmpty() ? DType.FLOAT32 : ts.get(0).dtype();
            return new TensorSequence(et, ts);
        }
        if (type instanceof Type.OptionalType ot) {
            // OptionalProto: 1 name, 2 elem_type, 3 tensor_value, 5 sequence_value
            Object value = null;
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            for (int tag; (tag = in.readTag()) != 0; ) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == 3) value = fromProto(TensorProto.parseFrom(in.readBytes()));
                else if (field == 5) value = decodeValue(in.readBytes().toByteArray(), ot.element(), file);
                else in.skipField(tag);
            }
            return new OptionalValue(ot.element(), value);
        }
        throw new GaleException(file + ": cannot read a value of type " + type);
    }
}
