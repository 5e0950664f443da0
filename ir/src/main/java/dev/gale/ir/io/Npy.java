package dev.gale.ir.io;

import dev.gale.ir.DType;
import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes numpy's {@code .npy} format (versions 1 to 3, C order, little-endian or single-byte types).
 * The header is checked against the data length before the array is allocated.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public static Tensor read(byte[] bytes, String where) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10) throw new GaleException(where + ": not a .npy file (too short)");
        for (int i = 0; i < MAGIC.length; i++)
            if (bytes[i] != MAGIC[i]) throw new GaleException(where + ": not a .npy file (bad magic)");
        int major = bytes[6];
        int headerLen;
        int pos;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xffff;
            pos = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new GaleException(where + ": truncated .npy header");
            headerLen = b.getInt(8);
            pos = 12;
        } else throw new GaleException(where + ": unsupported .npy version " + major);
        if (headerLen < 0 || pos + headerLen > bytes.length) throw new GaleException(where + ": truncated .npy header");
        String header = new String(bytes, pos, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        pos += headerLen;
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !s.find()) throw new GaleException(where + ": malformed .npy header: " + header.trim());
        if (f.find() && f.group(1).equals("True"))
            throw new GaleException(where + ": Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        DType t = dtype(d.group(1), where);
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (part.isBlank()) continue;
            try {
                dims.add(Long.parseLong(part.trim()));
            } catch (NumberFormatException e) {
                throw new GaleException(where + ": malformed shape in .npy header: (" + s.group(1) + ")");
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        int numel = Tensor.checkedNumel(shape);
        long need = (long) numel * t.byteSize();
        if (bytes.length - pos < need)
            throw new GaleException(where + ": shape " + dims + " of " + t + " needs " + need + " bytes of data, file has "
                    + (bytes.length - pos));
        Object arr = Tensor.allocate(t, numel);
        LittleEndian.get(ByteBuffer.wrap(bytes, pos, (int) need), arr);
        return new Tensor(t, shape, arr);
    }

    private static DType dtype(String descr, String where) {
        if (descr.length() >= 2 && descr.charAt(0) == '>' && !descr.endsWith("1"))
            throw new GaleException(where + ": big-endian arrays are not supported (" + descr + ")");
        String k = descr.replaceFirst("^[<>|=]", "");
        return switch (k) {
            case "f4" -> DType.FLOAT32;
            case "f8" -> DType.FLOAT64;
            case "f2" -> DType.FLOAT16;
            case "i8" -> DType.INT64;
            case "i4" -> DType.INT32;
            case "i2" -> DType.INT16;
            case "i1" -> DType.INT8;
            case "u8" -> DType.UINT64;
            case "u4" -> DType.UINT32;
            case "u2" -> DType.UINT16;
            case "u1" -> DType.UINT8;
            case "b1" -> DType.BOOL;
            default -> throw new GaleException(where + ": unsupported .npy element type '" + descr + "'");
        };
    }

    private static String descr(DType t) {
        return switch (t) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case FLOAT16 -> "<f2";
            case INT64 -> "<i8";
            case INT32 -> "<i4";
            case INT16 -> "<i2";
            case INT8 -> "|i1";
            case UINT64 -> "<u8";
            case UINT32 -> "<u4";
            case UINT16 -> "<u2";
            case UINT8 -> "|u1";
            case BOOL -> "|b1";
            default -> throw new GaleException("cannot write " + t + " as .npy");
        };
    }

    public static byte[] write(Tensor t) {
        StringBuilder shape = new StringBuilder("(");
        for (long d : t.shape()) shape.append(d).append(", ");
        if (t.rank() > 1) shape.setLength(shape.length() - 2);
        else if (t.rank() == 1) shape.setLength(shape.length() - 1);
        shape.append(')');
        String header = "{'descr': '" + descr(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + header.length() + 1;
        int padding = (64 - total % 64) % 64;
        header = header + " ".repeat(padding) + "\n";
        int dataBytes = t.numel() * t.dtype().byteSize();
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        LittleEndian.put(t.data(), b);
        return b.array();
    }
}
