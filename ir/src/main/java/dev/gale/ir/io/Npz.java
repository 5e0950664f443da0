package dev.gale.ir.io;

import dev.gale.ir.GaleException;
import dev.gale.ir.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Reads and writes numpy's {@code .npz} archives (a zip of {@code NAME.npy} entries, stored or deflated). */
public final class Npz {
    private Npz() {}

    /** Limit on one entry's uncompressed size, so a hostile archive cannot exhaust memory. */
    private static final long MAX_ENTRY_BYTES = Integer.MAX_VALUE - 64;

    public static Map<String, Tensor> read(Path file) {
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        try (InputStream raw = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(raw)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.isDirectory()) continue;
                String name = e.getName();
                if (!name.endsWith(".npy")) continue;
                String key = name.substring(0, name.length() - 4);
                arrays.put(key, Npy.read(readEntry(zip, file, name), file.getFileName() + ":" + name));
            }
        } catch (NoSuchFileException e) {
            throw new GaleException(file + ": no such file");
        } catch (ZipException e) {
            throw new GaleException(file + ": not a valid .npz archive (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new GaleException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (arrays.isEmpty()) throw new GaleException(file + ": no arrays found (is it an .npz file?)");
        return arrays;
    }

    private static byte[] readEntry(ZipInputStream zip, Path file, String name) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        long total = 0;
        for (int n; (n = zip.read(buf)) > 0; ) {
            total += n;
            if (total > MAX_ENTRY_BYTES) throw new GaleException(file + ": entry " + name + " is too large");
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    public static byte[] write(Map<String, Tensor> arrays) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                zip.write(Npy.write(e.getValue()));
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }
}
