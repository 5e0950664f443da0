package dev.gale.train;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;
import dev.gale.onnx.AtomicFiles;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A training checkpoint: everything a resumed run needs to continue bit for bit (flat parameter and optimizer
 * buffers, model state such as running statistics, the step) plus what identifies the run (model hash, parameter
 * layout, optimizer and hyper-parameters), so a checkpoint of another model or setup is refused.
 *
 * <p>File {@code DIR/ckpt-STEP.gale}: magic {@code GALECKPT}, format version, a key=value header, named float32
 * buffers, named tensors, and a CRC-32C of all preceding bytes. Written atomically (temporary file, fsync, rename);
 * older checkpoints are removed only after the new one is durable, keeping the last {@link #KEEP}.
 */
public record Checkpoint(Map<String, String> header, Map<String, float[]> buffers, Map<String, Tensor> tensors) {
    private static final byte[] MAGIC = "GALECKPT".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    public static final int KEEP = 2;

    public long step() { return Long.parseLong(header.get("step")); }

    public static Path fileFor(Path dir, long step) { return dir.resolve(String.format("ckpt-%09d.gale", step)); }

    public void write(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new GaleException(dir + ": cannot create the checkpoint folder (" + e.getMessage() + ")");
        }
        AtomicFiles.write(fileFor(dir, step()), encode());
        prune(dir);
    }

    byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(header.size());
            for (Map.Entry<String, String> e : header.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            out.writeInt(buffers.size());
            for (Map.Entry<String, float[]> e : buffers.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                ByteBuffer b = ByteBuffer.allocate(e.getValue().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(e.getValue());
                out.write(b.array());
            }
            out.writeInt(tensors.size());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = e.getValue();
                out.writeUTF(e.getKey());
                out.writeInt(t.dtype().onnxCode());
                out.writeInt(t.rank());
                for (long d : t.shape()) out.writeLong(d);
                byte[] raw = dev.gale.onnx.OnnxTensors.rawBytes(t);
                out.writeInt(raw.length);
                out.write(raw);
            }
            out.flush();
            CRC32C crc = new CRC32C();
            crc.update(bytes.toByteArray());
            out.writeLong(crc.getValue());
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads and validates one checkpoint file; a corrupt file is a clear error naming it. */
    public static Checkpoint read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new GaleException(file + ": cannot read checkpoint (" + e.getMessage() + ")");
        }
        if (all.length < MAGIC.length + 12 || !java.util.Arrays.equals(java.util.Arrays.copyOf(all, MAGIC.length), MAGIC))
            throw new GaleException(file + ": not a Gale checkpoint");
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 8);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).getLong();
        if (crc.getValue() != stored)
            throw new GaleException(file + ": checkpoint is corrupt (checksum mismatch); delete it to resume from an"
                    + " earlier one");
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, MAGIC.length, all.length - 8))) {
            int version = in.readInt();
            if (version != VERSION) throw new GaleException(file + ": checkpoint format " + version + " is not supported");
            Map<String, String> header = new LinkedHashMap<>();
            for (int i = in.readInt(); i > 0; i--) header.put(in.readUTF(), in.readUTF());
            Map<String, float[]> buffers = new LinkedHashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                String name = in.readUTF();
                int n = in.readInt();
                if (n < 0 || (long) n * 4 > all.length) throw new GaleException(file + ": checkpoint is corrupt");
                byte[] raw = new byte[n * 4];
                in.readFully(raw);
                float[] f = new float[n];
                ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
                buffers.put(name, f);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                String name = in.readUTF();
                DType t = DType.fromOnnx(in.readInt());
                int rank = in.readInt();
                if (rank < 0 || rank > 64) throw new GaleException(file + ": checkpoint is corrupt");
                long[] shape = new long[rank];
                for (int k = 0; k < rank; k++) shape[k] = in.readLong();
                int n = in.readInt();
                if (n < 0 || n > all.length) throw new GaleException(file + ": checkpoint is corrupt");
                byte[] raw = new byte[n];
                in.readFully(raw);
                var proto = ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setDataType(t.onnxCode())
                        .setRawData(com.google.protobuf.ByteString.copyFrom(raw));
                for (long d : shape) proto.addDims(d);
                tensors.put(name, dev.gale.onnx.OnnxTensors.fromProto(proto.build()));
            }
            Checkpoint c = new Checkpoint(header, buffers, tensors);
            if (!header.containsKey("step")) throw new GaleException(file + ": checkpoint has no step");
            return c;
        } catch (IOException e) {
            throw new GaleException(file + ": checkpoint is corrupt (" + e.getMessage() + ")");
        }
    }

    /** Checkpoint files in {@code dir}, newest step first. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("ckpt-\\d{9}\\.gale"))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
        } catch (IOException e) {
            throw new GaleException(dir + ": cannot list checkpoints (" + e.getMessage() + ")");
        }
    }

    /** The newest checkpoint in {@code dir}; an error when there is none. Corrupt ones are reported, not skipped. */
    public static Checkpoint latest(Path dir) {
        List<Path> files = list(dir);
        if (files.isEmpty()) throw new GaleException(dir + ": no checkpoint to resume from (expected ckpt-*.gale files)");
        return read(files.get(0));
    }

    private static void prune(Path dir) {
        List<Path> files = new ArrayList<>(list(dir));
        for (int i = KEEP; i < files.size(); i++) {
            try {
                Files.deleteIfExists(files.get(i));
            } catch (IOException ignored) {
                // an old checkpoint left behind costs disk space, nothing else
            }
        }
    }
}
