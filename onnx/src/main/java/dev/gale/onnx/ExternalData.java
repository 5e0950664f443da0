package dev.gale.onnx;

import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads tensors stored outside the model file ({@code data_location = EXTERNAL}). The {@code location} must name a
 * file inside the model's folder: absolute paths, {@code ..} escapes and symbolic links that lead out of the folder
 * are refused before anything is opened. The byte range is checked against the file size before allocation.
 */
public final class ExternalData {
    private final Path baseDir;

    public ExternalData(Path baseDir) { this.baseDir = baseDir.toAbsolutePath().normalize(); }

    /** Reads a tensor of the given type and shape from its external file, after checking the byte range. */
    Tensor read(TensorProto p, DType type, long[] shape, long expectedBytes) {
        String what = "tensor '" + p.getName() + "'";
        String location = null;
        long offset = 0, length = -1;
        for (StringStringEntryProto e : p.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = parseLong(e.getValue(), "offset", what);
                case "length" -> length = parseLong(e.getValue(), "length", what);
                default -> { }
            }
        }
        if (location == null || location.isEmpty())
            throw new GaleException(what + ": external data without a 'location'");
        if (offset < 0) throw new GaleException(what + ": external data offset " + offset + " is negative");
        Path file = resolve(location, what);
        if (length >= 0 && length != expectedBytes)
            throw new GaleException(what + ": external data length " + length + " does not match the declared shape "
                    + java.util.Arrays.toString(shape) + " of " + type + " (" + expectedBytes + " bytes)");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (offset > size || expectedBytes > size - offset)
                throw new GaleException(what + ": external file '" + location + "' has " + size + " bytes, but the "
                        + "tensor needs bytes " + offset + " to " + (offset + expectedBytes) + "; is the file truncated?");
            Tensor t = Tensor.zeros(type, shape);
            RawData.read(ch, offset, t, what);
            return t;
        } catch (IOException e) {
            throw new GaleException(what + ": cannot read external file '" + location + "' (" + e.getMessage() + ")");
        }
    }

    /** Resolves {@code location} inside the model folder, refusing every way out of it. */
    Path resolve(String location, String what) {
        Path rel;
        try {
            rel = Path.of(location);
        } catch (RuntimeException e) {
            throw new GaleException(what + ": external data location '" + location + "' is not a valid path");
        }
        if (rel.isAbsolute() || location.startsWith("/") || location.startsWith("\\"))
            throw new GaleException(what + ": external data location '" + location
                    + "' is an absolute path; refused (it must be relative to the model's folder)");
        Path target = baseDir.resolve(rel).normalize();
        if (!target.startsWith(baseDir))
            throw new GaleException(what + ": external data location '" + location
                    + "' escapes the model's folder; refused");
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS))
            throw new GaleException(what + ": external data file '" + location + "' not found next to the model ("
                    + target + ")");
        try {
            Path real = target.toRealPath();
            if (!real.startsWith(baseDir.toRealPath()))
                throw new GaleException(what + ": external data location '" + location
                        + "' is a link that leads out of the model's folder; refused");
            if (!Files.isRegularFile(real))
                throw new GaleException(what + ": external data location '" + location + "' is not a regular file");
            return real;
        } catch (IOException e) {
            throw new GaleException(what + ": cannot resolve external data location '" + location + "' ("
                    + e.getMessage() + ")");
        }
    }

    private static long parseLong(String s, String key, String what) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new GaleException(what + ": external data " + key + " '" + s + "' is not a number");
        }
    }
}
